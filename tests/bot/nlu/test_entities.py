"""GatedDIETClassifier: DIET looks only at the messages whose likely intents read entities."""

from __future__ import annotations

from pathlib import Path

import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.entities import GatedDIETClassifier

CONFIG = {
    "intents": ["complaint", "check_ticket_status"],
    "min_confidence": 0.1,
    "intent_classification": False,
    "constrain_similarities": True,
}


def _message(ranking: list[tuple[str, float]]) -> Message:
    ranked = [{"name": name, "confidence": confidence} for name, confidence in ranking]
    return Message(data={"text": "집 앞 가로등이 꺼졌어요", "intent": ranked[0], "intent_ranking": ranked})


@pytest.fixture
def diet(tmp_path: Path) -> GatedDIETClassifier:
    """An untrained DIET: it sets every message it looks at to no entities, which is what is checked."""
    context = ExecutionContext(GraphSchema({}), "test")
    config = {**GatedDIETClassifier.get_default_config(), **CONFIG}
    return GatedDIETClassifier.create(config, LocalModelStorage(tmp_path), Resource("diet"), context)


@pytest.mark.parametrize(
    ("ranking", "looked_at"),
    [
        ([("complaint", 0.9), ("info", 0.1)], True),
        ([("info", 0.8), ("complaint", 0.15)], True),  # a complaint the classifier is unsure of
        ([("info", 0.95), ("complaint", 0.05)], False),
        ([("greet", 0.99)], False),
        ([("check_ticket_status", 0.7)], True),
    ],
)
def test_only_messages_that_may_carry_read_entities_reach_diet(
    diet: GatedDIETClassifier, ranking: list[tuple[str, float]], looked_at: bool
) -> None:
    [message] = diet.process([_message(ranking)])
    assert ("entities" in message.data) is looked_at


def test_without_intents_named_every_message_reaches_diet(tmp_path: Path) -> None:
    context = ExecutionContext(GraphSchema({}), "test")
    config = {**GatedDIETClassifier.get_default_config(), **CONFIG, "intents": []}
    diet = GatedDIETClassifier.create(config, LocalModelStorage(tmp_path), Resource("diet"), context)
    [message] = diet.process([_message([("greet", 0.99)])])
    assert "entities" in message.data


@pytest.mark.parametrize(("only", "learned"), [(True, ["complaint", "check_ticket_status"]), (False, None)])
def test_diet_learns_from_the_gated_intents_only_when_asked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, only: bool, learned: list[str] | None
) -> None:
    from rasa.nlu.classifiers.diet_classifier import DIETClassifier
    from rasa.shared.nlu.training_data.training_data import TrainingData

    seen: list[str] = []
    monkeypatch.setattr(
        DIETClassifier,
        "train",
        lambda self, data: seen.extend(m.get("intent") for m in data.training_examples),
    )
    context = ExecutionContext(GraphSchema({}), "test")
    config = {**GatedDIETClassifier.get_default_config(), **CONFIG, "train_on_intents_only": only}
    diet = GatedDIETClassifier.create(config, LocalModelStorage(tmp_path), Resource("diet"), context)
    intents = ["complaint", "greet", "check_ticket_status", "info"]
    diet.train(TrainingData([Message(data={"text": f"문장 {i}", "intent": i}) for i in intents]))
    assert seen == (learned or intents)
