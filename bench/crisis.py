"""Crisis detection benchmark: recall and false alarms on labelled sets (writes docs/benchmarks/crisis.md).

Usage:
    python -m bench.crisis FILE.jsonl… [--markdown docs/benchmarks/crisis.md]   (make bench-crisis)
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any

from bot.handoff.crisis import (
    FORM_THRESHOLD,
    THRESHOLD,
    TRAINING_DIR,
    evaluate,
    ordinary_examples,
    read_jsonl,
)
from bot.settings import PROJECT_ROOT


def report(results: list[dict[str, Any]]) -> str:
    """Return RESULTS as the Markdown of docs/benchmarks/crisis.md."""
    now = dt.datetime.now(dt.timezone.utc)
    training = ", ".join(
        f"{path.relative_to(PROJECT_ROOT)} ({len(read_jsonl(path))} lines)"
        for path in sorted(TRAINING_DIR.glob("*.jsonl"))
    )
    lines = [
        "# Crisis detection", "",
        f"`make bench-crisis` (python -m bench.crisis), {now:%Y-%m-%d %H:%M} UTC. Classifier trained on"
        f" {training} and {len(ordinary_examples())} ordinary NLU examples; threshold {THRESHOLD}, and"
        f" {FORM_THRESHOLD} for an answer to the complaint form's question (a line's \"expects\"); plus the"
        " explicit cries in bot/handoff/crisis.py.", "",
        "| set | crisis messages | recall | other messages | false alarms | recall by kind |",
        "| --- | ---: | ---: | ---: | ---: | --- |",
    ]  # fmt: skip
    for r in results:
        kinds = ", ".join(f"{k} {v:.2f}" for k, v in r["recall_by_kind"].items())
        lines.append(
            f"| {Path(r['file']).name} | {r['positives']} | {r['recall']:.3f} | {r['negatives']} "
            f"| {r['false_alarm_rate']:.3f} | {kinds} |"
        )
    for r in results:
        lines += ["", f"Missed in {Path(r['file']).name}:", *(f"- {t}" for t in r["missed"] or ["(none)"])]
        lines += [
            "",
            f"False alarms in {Path(r['file']).name}:",
            *(f"- {t}" for t in r["false_alarms"] or ["(none)"]),
        ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Print recall and false alarms on labelled files (JSON), or write them as Markdown."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.crisis", description="Crisis detection: recall and false alarms."
    )
    parser.add_argument("files", type=Path, nargs="+", help="JSON Lines: {text, crisis, kind}")
    parser.add_argument("--markdown", type=Path, help="write a report here instead of printing JSON")
    args = parser.parse_args(argv)
    results = []
    for path in args.files:
        results.append(evaluate(path))
        if any("expects" in row for row in read_jsonl(path)):
            # What the context buys: the same lines judged as if no question had been asked.
            alone = evaluate(path, context=False)
            results.append(alone | {"file": f"{path.name} without its context"})
    if args.markdown:
        args.markdown.write_text(report(results), encoding="utf-8")
        print(f"wrote {args.markdown}")
    else:
        print(json.dumps(results, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
