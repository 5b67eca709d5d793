"""A dedicated in-scope / out-of-scope detector, after the intent classifier.

Usage (config.yml, after bot.nlu.intent_classifier.TfidfIntentClassifier):

    - name: bot.nlu.scope.ScopeDetector

One binary question first, "is this something the city's bot handles at all?", then which intent: the
detector's probability of out_of_scope replaces the intent classifier's, and the other intents share what
is left in the classifier's proportions. A message the classifier was torn on between two services keeps
its two services; one that resembles none of them is out of scope with the detector's confidence. Same
feature blocks and model as the intent classifier (TfidfClassifier), trained on every intent example.
"""

from __future__ import annotations

from typing import Any

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.intent_classifier import TfidfClassifier

__all__ = ["OUT_OF_SCOPE", "ScopeDetector", "rescaled"]

OUT_OF_SCOPE = "out_of_scope"
_IN_SCOPE = "in_scope"


def rescaled(ranking: list[dict[str, Any]], out_of_scope: float) -> list[dict[str, Any]]:
    """Return the intent RANKING with out_of_scope at probability OUT_OF_SCOPE, the others in proportion."""
    others = [r for r in ranking if r["name"] != OUT_OF_SCOPE]
    mass = sum(r["confidence"] for r in others)
    share = (1.0 - out_of_scope) / mass if mass > 0 else 0.0
    ranked = [{"name": r["name"], "confidence": r["confidence"] * share} for r in others]
    ranked.append({"name": OUT_OF_SCOPE, "confidence": out_of_scope})
    return sorted(ranked, key=lambda r: -r["confidence"])


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class ScopeDetector(TfidfClassifier):
    """Decides in scope or out of scope, and sets the intent ranking's out_of_scope to its probability."""

    @staticmethod
    def _label(example: Message) -> str | None:
        intent = example.get(INTENT)
        if not intent:
            return None
        return OUT_OF_SCOPE if intent == OUT_OF_SCOPE else _IN_SCOPE

    def _set(self, message: Message, ranking: list[tuple[str, float]]) -> None:
        """Rescale the intent ranking the intent classifier set (nothing to do if it set none)."""
        intents = message.get(INTENT_RANKING_KEY)
        if not intents:
            return
        ranked = rescaled(intents, dict(ranking).get(OUT_OF_SCOPE, 0.0))
        message.set(INTENT, ranked[0], add_to_output=True)
        message.set(INTENT_RANKING_KEY, ranked, add_to_output=True)
