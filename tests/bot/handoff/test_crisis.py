"""Crisis detection: the recall gate on both labelled sets, and what the explicit cries guarantee."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from bot.handoff.crisis import _classifier, _scorer, evaluate, kind_of

DATA = Path(__file__).resolve().parents[2] / "data"


@pytest.mark.parametrize(("name", "recall"), [("crisis.jsonl", 0.97), ("crisis_holdout.jsonl", 0.95)])
def test_recall_and_false_alarms_on_the_labelled_sets(name: str, recall: float) -> None:
    """crisis.jsonl chose the threshold; crisis_holdout.jsonl was written apart and chose nothing."""
    result = evaluate(DATA / name)
    assert result["positives"] >= 90 and result["negatives"] >= 90
    assert result["recall"] >= recall, result["missed"]
    assert result["false_alarm_rate"] <= 0.10, result["false_alarms"]


def test_ordinary_messages_rarely_raise_an_alarm() -> None:
    """The NLU held-out set: what citizens ordinarily write (its welfare/emergency messages left out)."""
    result = evaluate(DATA / "nlu_holdout.jsonl")
    assert result["negatives"] >= 600 and result["false_alarm_rate"] <= 0.02, result["false_alarms"]


@pytest.mark.parametrize(
    ("text", "kind"),
    [("죽고 싶어요", "suicide"), ("살려주세요", "violence"), ("아빠가 또 때려요", "abuse"),
     ("며칠째 굶었어요", "hunger"), ("할머니가 쓰러졌어요", "emergency"), ("손목 그었어요", "self_harm")],
)  # fmt: skip
def test_explicit_cries_are_crises_whatever_the_classifier_says(text: str, kind: str) -> None:
    assert kind_of(text) == kind


@pytest.mark.parametrize(
    "text", ["", "   ", "가로등이 꺼졌어요", "기초연금 신청하고 싶어요", "층간소음 때문에 죽겠어요"]
)
def test_ordinary_messages_are_not(text: str) -> None:
    assert kind_of(text) is None


def test_the_direct_scorer_gives_sklearns_probabilities() -> None:
    """kind_of computes the classifier's probabilities itself (30 times faster): they must be sklearn's."""
    texts = [
        json.loads(line)["text"]
        for name in ("crisis.jsonl", "crisis_holdout.jsonl", "nlu_holdout.jsonl")
        for line in (DATA / name).read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    texts += ["", "ㅋ", "qwerty 12345", "가" * 3000, "Ｆｕｌｌ　ｗｉｄｔｈ　가로등"]
    model, scorer = _classifier(), _scorer()
    expected = model.predict_proba(texts)
    assert scorer.classes == list(model.classes_)
    got = np.array([scorer.probabilities([t, t]) for t in texts])
    assert len(texts) > 1000
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-9)
