"""Ask once more, with the bot's best guesses as buttons, when the NLU was not sure."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.nlu.taxonomy import best_category
from bot.profile import load_profile
from bot.settings import load_settings

__all__ = ["ActionClarify", "best_guesses"]

# No useful guess: the fallback itself, and answers that only make sense after a question.
_NOT_A_GUESS = {"nlu_fallback", "affirm", "deny", "greet", "goodbye", "thanks", "out_of_scope", "retry"}


def best_guesses(parse_data: dict[str, Any], n: int = 2) -> list[tuple[str, str | None]]:
    """Return the N most likely (intent, category) pairs of a parse result, most likely first."""
    ranking = [r["name"] for r in parse_data.get("intent_ranking", []) if r["name"] not in _NOT_A_GUESS]
    return [(intent, best_category(parse_data, intent)) for intent in ranking[:n]]


class ActionClarify(Action):
    """Put the two best guesses, by their short names, into the slots that utter_clarify shows."""

    def name(self) -> str:
        """Return the action's name."""
        return "action_clarify"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """Set guess_1 and guess_2; a button sends its title back as the citizen's message."""
        profile = load_profile(load_settings().city_profile)
        guesses = best_guesses(tracker.latest_message) or [("complaint", None), ("info", None)]
        titles = [profile.label(intent, category) for intent, category in guesses]
        if len(titles) < 2:
            titles.append(profile.label("request_human"))
        return [SlotSet("guess_1", titles[0]), SlotSet("guess_2", titles[1])]
