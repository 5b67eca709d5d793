"""Crisis detection: the recall gate on both labelled sets, and what the explicit cries guarantee."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from bot.handoff import crisis
from bot.handoff.crisis import _classifier, _scorer, evaluate, kind_of

DATA = Path(__file__).resolve().parents[2] / "data"


@pytest.mark.parametrize(("name", "recall"), [("crisis.jsonl", 0.97), ("crisis_holdout.jsonl", 0.97)])
def test_recall_and_false_alarms_on_the_labelled_sets(name: str, recall: float) -> None:
    """crisis.jsonl chose the threshold; crisis_holdout.jsonl was written apart and chose nothing."""
    result = evaluate(DATA / name)
    assert result["positives"] >= 90 and result["negatives"] >= 90
    assert result["recall"] >= recall, result["missed"]
    assert result["false_alarm_rate"] <= 0.10, result["false_alarms"]


@pytest.mark.parametrize("name", ["nlu_holdout.jsonl", "nlu_dev_real.jsonl"])
def test_ordinary_messages_rarely_raise_an_alarm(name: str) -> None:
    """What citizens ordinarily write (welfare/emergency messages left out), in our words and in theirs."""
    result = evaluate(DATA / name)
    assert result["negatives"] >= 600 and result["false_alarm_rate"] <= 0.01, result["false_alarms"]


def test_answers_to_the_forms_questions_are_judged_in_their_context() -> None:
    """crisis_context.jsonl: form answers and everyday turns, and crises said in the same places."""
    result = evaluate(DATA / "crisis_context.jsonl")
    alone = evaluate(DATA / "crisis_context.jsonl", context=False)
    assert result["negatives"] >= 400 and result["positives"] >= 70
    # The target: at most 0.5 % false alarms on ordinary turns in context.
    assert result["false_alarm_rate"] <= 0.005, result["false_alarms"]
    assert result["recall"] >= 0.95, result["missed"]
    # Knowing the question halves the false alarms or better.
    assert result["false_alarm_rate"] <= alone["false_alarm_rate"] / 2


@pytest.mark.parametrize("expects", [None, "complaint_photo", "complaint_description"])
def test_an_explicit_cry_counts_in_any_context(expects: str | None) -> None:
    assert kind_of("사진이고 뭐고 그냥 죽고 싶어요", expects=expects) == "suicide"
    assert kind_of("할머니가 쓰러졌어요", expects=expects) == "emergency"


def test_a_fallen_thing_is_not_the_cry_of_a_fallen_person() -> None:
    assert kind_of("간판이 바람에 넘어가서 쓰러졌어요", expects="complaint_description") is None
    assert kind_of("가로수가 쓰러졌어요", expects="complaint_description") is None
    assert kind_of("공원 벤치 옆 가로수가 쓰러졌어요 지나가던 할아버지가 깔렸어요") == "emergency"


def test_the_classifier_is_excused_like_a_cry() -> None:
    """What excuses a cry (a fallen thing, no person) excuses the classifier's reading of the same kind."""
    assert kind_of("길에 나무가 쓰러졌어요", expects="complaint_category") is None


@pytest.mark.parametrize("text", ["살려줘 월요일이 또 와 ㅋㅋ", "게임하다 친구가 죽여버린다고 하던데ㅋㅋ"])
def test_laughter_makes_a_threat_a_joke(text: str) -> None:
    assert kind_of(text) is None


@pytest.mark.parametrize("text", ["죽고싶다ㅋㅋ", "그만 살래요 ㅎㅎ", "유서 써놨어요"])
def test_laughter_does_not_excuse_words_about_ones_own_life(text: str) -> None:
    assert kind_of(text) == "suicide"


def test_changed_training_files_are_learnt_without_a_restart(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for path in crisis.TRAINING_DIR.glob("*.jsonl"):
        (tmp_path / path.name).write_bytes(path.read_bytes())
    model, fits = _classifier(), []

    def train(rows: list[dict[str, object]]) -> object:
        fits.append(len(rows))
        return model  # the real fit takes 20 s; what is tested is when it happens and what it reads

    monkeypatch.setattr(crisis, "TRAINING_DIR", tmp_path)
    monkeypatch.setattr(crisis, "train", train)
    monkeypatch.setattr(crisis, "_serving", {})
    crisis.warm()
    assert not crisis.reload_if_changed()
    (tmp_path / "false_alarms.jsonl").write_text(
        json.dumps(
            {"text": "점심 굶어서 배고파 죽겠네", "crisis": False, "kind": "negative"}, ensure_ascii=False
        )
        + "\n",
        encoding="utf-8",
    )
    assert crisis.reload_if_changed()
    assert fits[1] == fits[0] + 1


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
