"""DIET for the entities, run only on the messages whose intent may carry them.

Usage (config.yml, after the intent classifier; every other setting is DIET's):

    - name: bot.nlu.entities.GatedDIETClassifier
      intents: [complaint, check_ticket_status]
      min_confidence: 0.1
      intent_classification: false

Places and ticket numbers are read only from complaints (the complaint form keeps the place of the first
message) and from questions about a ticket (actions/tickets.py, which also finds numbers with a pattern).
Most messages are questions and small talk, whose entities nothing reads, and DIET's TensorFlow call was a
fifth of Rasa's time per message. A message goes to DIET when one of INTENTS has at least MIN_CONFIDENCE in
the intent classifier's ranking, so that a complaint the classifier is unsure of keeps its place.

DIET learns from the examples of INTENTS only (with `train_on_intents_only: true`), the kind of message it
will see: two fifths of the data, so training takes a fraction of the time it took on every example.

A model loaded to serve builds only what prediction needs. Rasa's own loading trains one step on one example
to create the weights, which traces the training graph and makes the optimizer's slots: about 630 MB of each
Rasa server's memory against 160 MB here, for the same entities (tests/test_model.py compares them).
"""

from __future__ import annotations

import copy
from typing import Any

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.nlu.classifiers.diet_classifier import DIETClassifier
from rasa.nlu.extractors.extractor import EntityTagSpec
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from rasa.utils.tensorflow.model_data import RasaModelData
from rasa.utils.tensorflow.models import RasaModel

__all__ = ["GatedDIETClassifier"]


@DefaultV1Recipe.register(
    [DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR],
    is_trainable=True,
)
class GatedDIETClassifier(DIETClassifier):
    """DIETClassifier that skips the messages whose likely intents read no entities."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """Return DIET's default config and which intents need entities (all, if none are named)."""
        return {
            **DIETClassifier.get_default_config(), "intents": [], "min_confidence": 0.1,
            "train_on_intents_only": False,
        }  # fmt: skip

    def train(self, training_data: TrainingData) -> Resource:
        """Train DIET on every example, or on the examples of INTENTS only."""
        intents = set(self.component_config["intents"])
        if intents and self.component_config["train_on_intents_only"]:
            training_data = training_data.filter_training_examples(lambda m: m.get(INTENT) in intents)
        return super().train(training_data)

    @classmethod
    def _load_model_class(
        cls, tf_model_file: str, model_data_example: RasaModelData, label_data: RasaModelData,
        entity_tag_specs: list[EntityTagSpec], config: dict[str, Any], finetune_mode: bool,
    ) -> RasaModel:  # fmt: skip
        """Load the model for prediction: the weights DIET predicts with, not the optimizer's state.

        One prediction on an example creates the weights, which the checkpoint fills as they are created;
        a weight it has no value for is an error. Fine-tuning loads as Rasa does (it needs the optimizer).
        """
        if finetune_mode:
            return super()._load_model_class(
                tf_model_file, model_data_example, label_data, entity_tag_specs, config, finetune_mode
            )
        model = cls.model_class()(
            data_signature=model_data_example.get_signature(), label_data=label_data,
            entity_tag_specs=entity_tag_specs, config=copy.deepcopy(config),
        )  # fmt: skip
        restored = model.load_weights(tf_model_file)
        example = {name: features for name, features in model_data_example.items() if TEXT in name}
        model.run_inference(RasaModelData(label_key=model_data_example.label_key, data=example))
        restored.expect_partial().assert_existing_objects_matched()
        return model

    def _wanted(self, message: Message) -> bool:
        intents = set(self.component_config["intents"])
        if not intents:
            return True
        ranking = message.get(INTENT_RANKING_KEY) or [message.get(INTENT) or {}]
        least = self.component_config["min_confidence"]
        return any(r.get("name") in intents and (r.get("confidence") or 0.0) >= least for r in ranking)

    def process(self, messages: list[Message]) -> list[Message]:
        """Find the entities of the messages that may need them; leave the others as they are."""
        super().process([m for m in messages if self._wanted(m)])
        return messages
