"""Parse NLU YAML files as Rasa does; print counts per label and problems (duplicates, stray brackets).

Usage:
    .venv/bin/python scripts/check_nlu.py data/nlu/*.yml
"""

from __future__ import annotations

import collections
import re
import sys

from rasa.shared.nlu.training_data.loading import load_data

problems = 0
seen: dict[str, str] = {}
for path in sys.argv[1:]:
    data = load_data(path)
    counts = collections.Counter()
    for ex in data.intent_examples:
        label = ex.get_full_intent()
        counts[label] += 1
        text = ex.get("text")
        key = re.sub(r"\s+", "", text)
        if key in seen:
            print(f"DUPLICATE: {text!r} in {label} and {seen[key]}")
            problems += 1
        seen[key] = label
        if "[" in text or "]" in text:
            print(f"BRACKET left in text: {text!r}")
            problems += 1
        for ent in ex.get("entities") or []:
            if ent["entity"] not in ("location", "ticket_number"):
                print(f"UNKNOWN ENTITY {ent['entity']} in {text!r}")
                problems += 1
    for label, n in sorted(counts.items()):
        print(f"{n:5d}  {label}")
    print(f"{sum(counts.values()):5d}  total in {path}")
print("problems:", problems)
sys.exit(1 if problems else 0)
