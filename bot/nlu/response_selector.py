"""The category selector: TfidfClassifier over the retrieval keys, in the shape of Rasa's ResponseSelector."""

from __future__ import annotations

from typing import Any

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.constants import (
    RESPONSE_SELECTOR_DEFAULT_INTENT,
    RESPONSE_SELECTOR_PREDICTION_KEY,
    RESPONSE_SELECTOR_PROPERTY_NAME,
    RESPONSE_SELECTOR_RANKING_KEY,
    RESPONSE_SELECTOR_RESPONSES_KEY,
    RESPONSE_SELECTOR_RETRIEVAL_INTENTS,
    RESPONSE_SELECTOR_UTTER_ACTION_KEY,
)
from rasa.shared.nlu.constants import INTENT_RESPONSE_KEY, PREDICTED_CONFIDENCE_KEY
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.intent_classifier import TfidfClassifier

__all__ = ["TfidfResponseSelector"]


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class TfidfResponseSelector(TfidfClassifier):
    """Chooses the retrieval key (complaint/streetlight…) of a message, in place of Rasa's ResponseSelector.

    It learns every retrieval intent's keys together and answers under the key "default", as Rasa's
    ResponseSelector does when no retrieval_intent is set: `response` is the best key (`utter_action`
    names its response in the domain, where the texts are) and `ranking` the keys, best first. The
    response texts themselves are left out (`responses` is empty): the domain has them, and nothing reads
    them from the parse result.
    """

    def __init__(self, config: dict[str, Any], model_storage: ModelStorage, resource: Resource) -> None:
        """Create an untrained selector."""
        super().__init__(config, model_storage, resource)
        self._retrieval_intents: list[str] = []

    @staticmethod
    def _label(example: Message) -> str | None:
        return example.get(INTENT_RESPONSE_KEY)

    def _remember(self, training_data: TrainingData) -> None:
        self._retrieval_intents = sorted(training_data.retrieval_intents)

    def _extra(self) -> dict[str, Any]:
        return {"retrieval_intents": self._retrieval_intents}

    def _restore(self, extra: dict[str, Any]) -> None:
        self._retrieval_intents = list(extra.get("retrieval_intents") or [])

    def _set(self, message: Message, ranking: list[tuple[str, float]]) -> None:
        """Set the message's response selector output (the shape of Rasa's ResponseSelector)."""
        best, confidence = ranking[0]
        selected = {
            RESPONSE_SELECTOR_PREDICTION_KEY: {
                RESPONSE_SELECTOR_RESPONSES_KEY: [], PREDICTED_CONFIDENCE_KEY: confidence,
                INTENT_RESPONSE_KEY: best, RESPONSE_SELECTOR_UTTER_ACTION_KEY: f"utter_{best}",
            },
            RESPONSE_SELECTOR_RANKING_KEY: [
                {PREDICTED_CONFIDENCE_KEY: c, INTENT_RESPONSE_KEY: key} for key, c in ranking
            ],
        }  # fmt: skip
        properties = message.get(RESPONSE_SELECTOR_PROPERTY_NAME) or {}
        properties[RESPONSE_SELECTOR_RETRIEVAL_INTENTS] = self._retrieval_intents
        properties[RESPONSE_SELECTOR_DEFAULT_INTENT] = selected
        message.set(RESPONSE_SELECTOR_PROPERTY_NAME, properties, add_to_output=True)
