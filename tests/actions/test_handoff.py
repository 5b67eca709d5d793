"""action_handoff: it says so, signals the gateway with the bot's guesses, ends a form and pauses."""

from __future__ import annotations

from typing import Any

from rasa_sdk.executor import CollectingDispatcher

from actions.handoff import ActionHandoff
from tests.actions.helpers import domain, message, tracker


async def run(
    latest: dict[str, Any], earlier: list[dict[str, Any]], **state: Any
) -> tuple[list[Any], list[Any]]:
    dispatcher = CollectingDispatcher()
    current = tracker(latest, **state)
    current.events = [{"event": "user", "text": m["text"], "parse_data": m} for m in [*earlier, latest]]
    events = await ActionHandoff().run(dispatcher, current, domain())
    return events, dispatcher.messages


async def test_a_request_signals_the_gateway_with_the_guesses_for_what_the_citizen_needs() -> None:
    noise = message(
        "윗집이 너무 시끄러운데", "complaint", 0.44, category="complaint/noise", category_confidence=0.7
    )
    events, messages = await run(message("상담원 연결", "request_human"), [noise])
    assert messages[0]["response"] == "utter_handoff"
    assert messages[1]["custom"] == {
        "handoff": {
            "reason": "requested",
            "guesses": [{"intent": "complaint", "category": "noise", "confidence": 0.44}],
        }
    }
    assert [(e["event"], e.get("name")) for e in events] == [("active_loop", None), ("pause", None)]


async def test_accepting_the_offer_after_not_understood_twice() -> None:
    events, messages = await run(message("네", "affirm"), [message("ㅁㄴㅇㄹ", "nlu_fallback", 0.2)])
    assert messages[1]["custom"]["handoff"]["reason"] == "not_understood"
    assert messages[1]["custom"]["handoff"]["guesses"][0]["intent"] == "nlu_fallback"


async def test_a_form_in_progress_ends() -> None:
    events, _ = await run(
        message("상담원 연결", "request_human"),
        [],
        active_loop="complaint_form",
        requested_slot="complaint_photo",
    )
    assert [(e["event"], e.get("name"), e.get("value")) for e in events] == [
        ("active_loop", None, None), ("slot", "requested_slot", None), ("pause", None, None),
    ]  # fmt: skip
