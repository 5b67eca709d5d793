"""The training data, the held-out set and the domain keep the contract of docs/intents.md."""

from __future__ import annotations

import collections
import re
from pathlib import Path

import pytest
import yaml
from rasa.shared.nlu.training_data.loading import load_data

from bot.evaluate import load_examples
from bot.nlu.taxonomy import CATEGORIES, INTENTS, is_valid
from bot.profile import load_profile

ROOT = Path(__file__).resolve().parent.parent
HOLDOUT = ROOT / "tests" / "data" / "nlu_holdout.jsonl"


def _squash(text: str) -> str:
    return re.sub(r"[\s\W_]+", "", text)


@pytest.fixture(scope="module")
def training() -> collections.Counter[tuple[str, str | None]]:
    data = load_data(str(ROOT / "data" / "nlu"))
    return collections.Counter(
        (ex.get("intent"), ex.get("intent_response_key", "").partition("/")[2] or None)
        for ex in data.intent_examples
    )


def test_every_label_in_the_training_data_is_in_the_contract_and_every_one_is_there(
    training: collections.Counter[tuple[str, str | None]],
) -> None:
    assert all(is_valid(intent, category) for intent, category in training)
    expected = {(i, c) for i in INTENTS for c in CATEGORIES.get(i, (None,))}
    assert set(training) == expected


def test_enough_examples(training: collections.Counter[tuple[str, str | None]]) -> None:
    assert sum(training.values()) >= 2500
    thin = {label: n for label, n in training.items() if n < 40}
    assert not thin, f"fewer than 40 examples: {thin}"


def test_the_held_out_set_is_valid_large_and_not_in_the_training_data() -> None:
    examples = load_examples(HOLDOUT)
    assert len(examples) >= 400
    assert {(e.intent, e.category) for e in examples} >= {
        (i, c) for i in CATEGORIES for c in CATEGORIES[i]
    }, "every category is measured"
    trained = {_squash(ex.get("text")) for ex in load_data(str(ROOT / "data" / "nlu")).intent_examples}
    # Short replies ("네", "안녕하세요!") are few enough that independent writers meet; longer ones must not.
    leaked = [e.text for e in examples if len(_squash(e.text)) > 6 and _squash(e.text) in trained]
    assert not leaked, f"held-out messages also in the training data: {leaked[:5]}"


def test_the_domain_lists_the_contract_intents() -> None:
    domain = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
    assert set(domain["intents"]) == set(INTENTS)


def test_the_profile_names_every_intent_and_category_within_kakao_label_limits() -> None:
    profile = load_profile("cheonan")
    for intent in INTENTS:
        assert intent in profile.intent_labels
    for intent, categories in CATEGORIES.items():
        for category in categories:
            label = profile.label(intent, category)
            assert label != intent and len(label) <= 14, label  # Kakao: quick reply labels <= 14
