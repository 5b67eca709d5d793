"""Out-of-scope messages: an honest answer when the citizen asks whether they talk to a person, else the
polite refusal with the main menu."""

from __future__ import annotations

import re

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.messages import squash

__all__ = ["ActionOutOfScope", "asks_who_answers"]

# "너 사람이야 로봇이야?", "챗봇이에요?", "AI랑 얘기하는 거예요?", "진짜 사람 맞아요?" (spaces taken out).
_WHO = re.compile(
    r"(사람|로봇|챗봇|봇|인공지능|기계|자동응답|ai|공무원|상담원)"
    r"(이야|야|이에요|예요|에요|이세요|세요|인가요|이니|니|맞|이지|지\?|랑|이랑|하고)"
    r"|너누구|누구세요|누구야|정체가|사람이쓰는|사람이답",
    re.IGNORECASE,
)


def asks_who_answers(text: str) -> bool:
    """Return whether TEXT asks whether a person or a program answers."""
    return bool(_WHO.search(squash(text)))


class ActionOutOfScope(Action):
    """Say honestly that a program answers, when asked; otherwise what the bot can help with."""

    def name(self) -> str:
        """Return the action's name."""
        return "action_out_of_scope"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """Send utter_i_am_a_bot or utter_out_of_scope."""
        text = str(tracker.latest_message.get("text") or "")
        dispatcher.utter_message(
            response="utter_i_am_a_bot" if asks_who_answers(text) else "utter_out_of_scope"
        )
        return []
