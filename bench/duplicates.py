"""Duplicate detector benchmark: precision and recall on complaint pairs written for this project.

Usage:
    python -m bench.duplicates [--out docs/benchmarks/duplicates.md]                 (make bench-duplicates)

Each pair (tests/data/duplicate_pairs.yml) is two complaints of one 읍·면·동 and category, labelled the same
problem or not. The threshold was chosen on these very pairs, so the figures flatter the detector: a set
written apart (or staff's merges, once there are some) is the honest measure.
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
from pathlib import Path
from typing import Any

import yaml

from bot.settings import PROJECT_ROOT
from bot.tickets.duplicates import THRESHOLD, similarity

__all__ = ["PAIRS", "evaluate", "main"]

PAIRS = PROJECT_ROOT / "tests" / "data" / "duplicate_pairs.yml"
_DISTRICT = re.compile(r"(\S+[동읍면])(?=\s|$)")


def _district(pair: dict[str, Any]) -> str | None:
    """The 읍·면·동 a pair names (a ticket keeps it apart from the place; the pairs write it in the place)."""
    found = _DISTRICT.search(f"{pair['a']['place']} {pair['b']['place']}")
    return found.group(1) if found else None


def evaluate(threshold: float = THRESHOLD) -> dict[str, float]:
    """Return precision, recall and the counts of the detector on the pairs at THRESHOLD."""
    pairs = yaml.safe_load(PAIRS.read_text(encoding="utf-8"))["pairs"]
    tp = fp = fn = tn = 0
    for pair in pairs:
        a, b = pair["a"], pair["b"]
        said = similarity(a["text"], a["place"], b["text"], b["place"], _district(pair)) >= threshold
        tp, fp, fn, tn = (
            tp + (said and pair["same"]),
            fp + (said and not pair["same"]),
            fn + (not said and pair["same"]),
            tn + (not said and not pair["same"]),
        )
    return {
        "pairs": len(pairs), "precision": tp / max(1, tp + fp), "recall": tp / max(1, tp + fn),
        "tp": tp, "fp": fp, "fn": fn, "tn": tn,
    }  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.duplicates", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=PROJECT_ROOT / "docs" / "benchmarks" / "duplicates.md")
    args = parser.parse_args()
    rows = [(t, evaluate(t)) for t in (0.15, 0.2, 0.25, 0.3, 0.35)]
    lines = [
        "# Duplicate detector",
        "",
        f"`make bench-duplicates` (python -m bench.duplicates), {dt.datetime.now(dt.timezone.utc):%Y-%m-%d}.",
        "",
        f"{rows[0][1]['pairs']:.0f} pairs of complaints written for this project"
        " (tests/data/duplicate_pairs.yml), each of one 읍·면·동 and category, labelled one problem or two."
        " The threshold was chosen on them: the figures flatter the detector.",
        "",
        "| threshold | precision | recall | same, found | different, flagged | same, missed |",
        "| ---: | ---: | ---: | ---: | ---: | ---: |",
        *(
            f"| {t:.2f}{' (used)' if t == THRESHOLD else ''} | {r['precision']:.2f} | {r['recall']:.2f} "
            f"| {r['tp']:.0f} | {r['fp']:.0f} | {r['fn']:.0f} |"
            for t, r in rows
        ),
        "",
    ]
    used = evaluate()
    lines.append(
        f"duplicates: precision={used['precision']:.2f} recall={used['recall']:.2f} pairs={used['pairs']:.0f}"
    )
    text = "\n".join(lines) + "\n"
    args.out.write_text(text, encoding="utf-8")
    print(text, end="")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
