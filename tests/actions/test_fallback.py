"""action_clarify: the two best guesses become the titles of utter_clarify's buttons."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.fallback import ActionClarify, best_guesses


def _tracker(parse_data: dict[str, Any]) -> Tracker:
    return Tracker(
        sender_id="test", slots={}, latest_message=parse_data, events=[], paused=False,
        followup_action=None, active_loop={}, latest_action_name="action_listen",
    )  # fmt: skip


UNSURE = {
    "text": "거기 불이 안 들어와요",
    "intent": {"name": "nlu_fallback", "confidence": 0.5},
    "intent_ranking": [
        {"name": "nlu_fallback", "confidence": 0.5},
        {"name": "deny", "confidence": 0.31},
        {"name": "complaint", "confidence": 0.30},
        {"name": "info", "confidence": 0.25},
        {"name": "welfare", "confidence": 0.05},
    ],
    "response_selector": {
        "default": {
            "ranking": [
                {"intent_response_key": "info/facilities", "confidence": 0.4},
                {"intent_response_key": "complaint/streetlight", "confidence": 0.3},
                {"intent_response_key": "complaint/garbage", "confidence": 0.1},
            ]
        }
    },
}


def test_guesses_skip_fallback_and_bare_answers_and_take_the_best_category_of_each_intent() -> None:
    assert best_guesses(UNSURE) == [("complaint", "streetlight"), ("info", "facilities")]


async def test_clarify_sets_the_guess_slots_to_profile_labels_and_says_nothing_itself() -> None:
    dispatcher = CollectingDispatcher()
    events = await ActionClarify().run(dispatcher, _tracker(UNSURE), {})
    assert events == [
        {"event": "slot", "timestamp": None, "name": "guess_1", "value": "가로등·신호등 고장 신고"},
        {"event": "slot", "timestamp": None, "name": "guess_2", "value": "시설 이용·예약 안내"},
    ]
    assert dispatcher.messages == []  # utter_clarify, next in the rule, shows them


async def test_clarify_without_any_ranking_still_offers_two_choices() -> None:
    events = await ActionClarify().run(CollectingDispatcher(), _tracker({"text": "?"}), {})
    assert [e["value"] for e in events] == ["민원 신고", "생활 정보"]
