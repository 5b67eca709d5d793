"""Place phrases: from the NLU's location entity, does the complaint keep the whole place? (make bench-nlu)

Usage:
    python -m bench.places --entities tests/data/entity_holdout.yml --out docs/benchmarks/places.md

For every annotated place of the entity held-out set, the phrase actions/places.py builds from the first word
of the annotation (what the NLU finds at least) is compared with the annotation: it covers it (the annotation
is where it starts), and runs on by at most three words (a side or a crossing: "정문 앞", "사거리 근처"), or
further (the problem itself crept in), or stops short.
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
import sys
from pathlib import Path

import yaml

from actions.places import place_phrase

_ANNOTATED = re.compile(r"\[([^\]]+)\]\((\w+)\)")


def cases(path: Path) -> list[tuple[str, str, int]]:
    """Return (message, annotated place, where its first word starts) for each message with a place."""
    found = []
    for item in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("nlu", []):
        for line in str(item.get("examples", "")).splitlines():
            line = line.strip()[2:] if line.strip().startswith("- ") else ""
            places = [m.group(1) for m in _ANNOTATED.finditer(line) if m.group(2) == "location"]
            if places:
                text = _ANNOTATED.sub(lambda m: m.group(1), line)
                found.append((text, places[0], text.index(places[0])))
    return found


def main(argv: list[str] | None = None) -> int:
    """Write the report."""
    parser = argparse.ArgumentParser(prog="python -m bench.places", description=__doc__.splitlines()[0])
    parser.add_argument("--entities", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    rows = []
    for text, place, start in cases(args.entities):
        first_word = place.split()[0]
        phrase = place_phrase(text, start, start + len(first_word))
        extra = phrase[len(place) :].split() if phrase.startswith(place) else None
        kind = "short" if extra is None else "long" if len(extra) > 3 else "covers"
        rows.append((kind, place, phrase, text))
    count = {k: sum(r[0] == k for r in rows) for k in ("covers", "long", "short")}
    now = dt.datetime.now(dt.timezone.utc)
    lines = [
        "# Place phrases",
        "",
        f"`make bench-nlu` (python -m bench.places), {now:%Y-%m-%d %H:%M} UTC, on {args.entities}: "
        f"{len(rows)} annotated places, each phrase built from the annotation's first word.",
        "",
        "| covers the place (≤ 3 words more) | runs on further | stops short |",
        "| ---: | ---: | ---: |",
        f"| {count['covers']} | {count['long']} | {count['short']} |",
        "",
        "Phrases that are not exactly the annotation:",
        "",
    ]
    lines += [
        f"- {kind}: “{place}” → “{phrase}” ({text})" for kind, place, phrase, text in rows if phrase != place
    ]
    args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {args.out}: {count}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
