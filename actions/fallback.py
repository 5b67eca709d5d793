"""Ask once more, with the bot's three best guesses as buttons, when the NLU was not sure.

utter_clarify shows the guesses by the profile's short names, and a last button that sends the main
menu's name for a person ("상담원 연결"), so that a citizen none of the guesses fits reaches an agent in one
press. Typing "아니요" instead still asks them to say it again (data/rules/fallback.yml).
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.nlu.taxonomy import button_guesses
from bot.profile import load_profile
from bot.settings import load_settings

__all__ = ["GUESS_SLOTS", "ActionClarify"]

GUESS_SLOTS = ("guess_1", "guess_2", "guess_3")
# When the parse offers too few guesses: the main menu's service intents, in its order.
_MENU = (("complaint", None), ("welfare", None), ("info", None), ("check_ticket_status", None))


class ActionClarify(Action):
    """Put the three best guesses, by their short names, into the slots that utter_clarify shows."""

    def name(self) -> str:
        """Return the action's name."""
        return "action_clarify"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """Set the guess slots; a button sends its title back as the citizen's message."""
        profile = load_profile(load_settings().city_profile)
        titles: list[str] = []
        for intent, category in [*button_guesses(tracker.latest_message, len(GUESS_SLOTS)), *_MENU]:
            title = profile.label(intent, category)
            if title not in titles:
                titles.append(title)
        return [SlotSet(slot, title) for slot, title in zip(GUESS_SLOTS, titles)]
