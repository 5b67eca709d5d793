"""Crisis messages (danger to life, a person in crisis): emergency numbers and an urgent handoff.

It runs in the gateway before Rasa, so that it works whatever the model thinks and when Rasa is down. Two
parts, either enough: a classifier (syllable n-grams, trained at start-up on data/crisis/train.jsonl and,
as ordinary messages, the NLU examples but welfare/emergency), and explicit cries (죽고 싶어요…) that no
model may overrule and that alone judge short answers. The threshold favours recall; `make bench-crisis`.
"""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path
from typing import Any

import yaml
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline, make_union

from bot.messages import squash
from bot.nlu.linear import LinearTfidfModel
from bot.settings import PROJECT_ROOT

__all__ = [
    "KINDS",
    "THRESHOLD",
    "TRAINING_DATA",
    "evaluate",
    "is_crisis",
    "kind_of",
    "ordinary_examples",
    "warm",
]

TRAINING_DATA = PROJECT_ROOT / "data" / "crisis" / "train.jsonl"
KINDS = ("suicide", "self_harm", "abuse", "violence", "hunger", "emergency")
NLU_DATA = PROJECT_ROOT / "data" / "nlu"
# Crisis when the classifier gives the "negative" class less than 1 - THRESHOLD. Chosen with
# tests/data/crisis.jsonl (recall) and the ordinary messages of tests/data/nlu_holdout.jsonl (false alarms).
THRESHOLD = 0.3
_NOT_ORDINARY = "welfare/emergency"
_ENTITY = re.compile(r"\[([^\]]+)\]\([^)]*\)|\[([^\]]+)\]\{[^}]*\}")
# Explicit cries for help, matched with the spaces taken out.
_CRIES = {
    "suicide": r"죽고싶|살기싫|살고싶지않|자살할|자살하고싶|자살하려|목숨을?끊|뛰어내릴|뛰어내리려",
    "self_harm": r"손목.{0,3}(그|긋)|자해(했|하고|를했)",
    "abuse": r"(아빠|엄마|남편|아내|새아빠|새엄마|오빠|형|아들|삼촌)(가|이|한테)?.{0,6}"
    r"(때려요|때렸어요|때린다|패요)",
    "violence": r"살려(주세요|줘)|죽여버린다|죽이겠다|죽인다고|칼(을)?들고",
    "hunger": r"며칠(째|동안)?굶",
    "emergency": r"불이났|쓰러졌어요|숨을?안쉬|의식이없",
}
_CRY = {kind: re.compile(pattern) for kind, pattern in _CRIES.items()}
# The classifier judges statements, not the short answers people give to the bot's questions ("사진 없어요",
# "아니요"), nor a key held down: below this much text, only the explicit cries count.
MIN_CHARACTERS, MIN_DISTINCT = 8, 5


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def ordinary_examples() -> list[str]:
    """Return the NLU training examples that are ordinary messages, without entity markup."""
    examples = []
    for path in sorted(NLU_DATA.glob("*.yml")):
        for item in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("nlu", []):
            if "intent" not in item or item["intent"] == _NOT_ORDINARY:
                continue
            for line in str(item.get("examples", "")).splitlines():
                if line.strip().startswith("- "):
                    examples.append(_ENTITY.sub(lambda m: m.group(1) or m.group(2), line.strip()[2:]))
    return examples


@functools.cache
def _classifier() -> Pipeline:
    rows = read_jsonl(TRAINING_DATA)
    ordinary = ordinary_examples()
    model = make_pipeline(
        make_union(
            # Syllable n-grams with the spaces taken out (people leave them out or put them anywhere)…
            TfidfVectorizer(analyzer="char", ngram_range=(2, 4), sublinear_tf=True, preprocessor=squash),
            # …and within words as written.
            TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 3), sublinear_tf=True),
        ),
        LogisticRegression(C=10, max_iter=3000, class_weight="balanced"),
    )
    model.fit([r["text"] for r in rows] + ordinary, [r["kind"] for r in rows] + ["negative"] * len(ordinary))
    return model


@functools.cache
def _scorer() -> LinearTfidfModel:
    """The classifier, computed directly (bot/nlu/linear.py): every message passes here first."""
    model = _classifier()
    union, regression = model.steps[0][1], model.steps[-1][1]
    vectorizers = [vectorizer for _, vectorizer in union.transformer_list]
    return LinearTfidfModel(vectorizers, regression.coef_, regression.intercept_, regression.classes_)


def warm() -> None:
    """Train the classifier now (the gateway calls this at start-up, not while a citizen waits)."""
    _scorer()


def kind_of(text: str) -> str | None:
    """Return the kind of crisis TEXT signals (one of KINDS), or None."""
    if not text or not text.strip():
        return None
    squashed = squash(text)
    for kind, cry in _CRY.items():
        if cry.search(squashed):
            return kind
    if len(squashed) < MIN_CHARACTERS or len(set(squashed)) < MIN_DISTINCT:
        return None
    scorer = _scorer()
    probabilities = dict(zip(scorer.classes, scorer.probabilities([text[:2000]] * 2), strict=True))
    if probabilities["negative"] > 1 - THRESHOLD:
        return None
    return max(KINDS, key=lambda k: probabilities.get(k, 0.0))


def is_crisis(text: str) -> bool:
    """Return whether TEXT signals danger to life or a person in crisis."""
    return kind_of(text) is not None


def evaluate(path: Path) -> dict[str, Any]:
    """Return recall (overall and per kind) and the false-alarm rate on a labelled JSON Lines file."""
    rows = [
        r if "crisis" in r else {"text": r["text"], "crisis": False, "kind": "ordinary"}
        for r in read_jsonl(path)
        if f"{r.get('intent')}/{r.get('category')}" != _NOT_ORDINARY
    ]
    positives = [r for r in rows if r["crisis"]]
    negatives = [r for r in rows if not r["crisis"]]
    missed = [r for r in positives if not is_crisis(r["text"])]
    alarms = [r for r in negatives if is_crisis(r["text"])]
    kinds = sorted({r["kind"] for r in positives})
    return {
        "file": str(path),
        "positives": len(positives),
        "negatives": len(negatives),
        "recall": round(1 - len(missed) / max(1, len(positives)), 3),
        "false_alarm_rate": round(len(alarms) / max(1, len(negatives)), 3),
        "recall_by_kind": {
            k: round(
                1 - sum(r["kind"] == k for r in missed) / max(1, sum(r["kind"] == k for r in positives)), 3
            )
            for k in kinds
        },
        "missed": [r["text"] for r in missed],
        "false_alarms": [r["text"] for r in alarms],
    }
