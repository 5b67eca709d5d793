"""Hand the conversation to a person: tell the gateway (which queues it) and pause the bot.

The gateway reads the custom message {"handoff": {"reason", "guesses"}} from the answer, opens the handoff
and tells the citizen their place in the queue; from then on it sends the citizen's messages to the agent,
not to Rasa, until the agent closes the chat and the gateway posts `resume`. A complaint form in progress is
stopped; the agent sees what was said and can file the ticket.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, ConversationPaused, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.nlu.taxonomy import best_category

__all__ = ["ActionHandoff", "last_guesses"]

# Messages that say nothing about what the citizen needs.
_NOT_A_NEED = {"request_human", "affirm", "deny", "greet", "thanks", "goodbye", "retry"}


def last_guesses(tracker: Tracker, n: int = 3) -> list[dict[str, Any]]:
    """Return the bot's N best guesses for the citizen's latest message that said what they need."""
    for event in reversed(tracker.events):
        if event.get("event") != "user":
            continue
        parse = event.get("parse_data") or {}
        if (parse.get("intent") or {}).get("name") in _NOT_A_NEED:
            continue
        return [
            {
                "intent": r["name"],
                "category": best_category(parse, r["name"]),
                "confidence": round(float(r.get("confidence") or 0.0), 3),
            }
            for r in (parse.get("intent_ranking") or [])[:n]
        ]
    return []


class ActionHandoff(Action):
    """Queue the conversation for a person and step back."""

    def name(self) -> str:
        """Return the action's name."""
        return "action_handoff"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        """Say so, signal the gateway, end any form and pause the conversation."""
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        reason = "requested" if intent == "request_human" else "not_understood"
        dispatcher.utter_message(response="utter_handoff")
        dispatcher.utter_message(
            json_message={"handoff": {"reason": reason, "guesses": last_guesses(tracker)}}
        )
        # No form stays active across a handoff (a rule's prediction says so in every case).
        events: list[EventType] = [ActiveLoop(None)]
        if tracker.active_loop.get("name"):
            events.append(SlotSet("requested_slot", None))
        return [*events, ConversationPaused()]
