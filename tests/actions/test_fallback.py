"""action_clarify: the three best guesses become the titles of utter_clarify's buttons."""

from __future__ import annotations

from typing import Any

import yaml
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.fallback import GUESS_SLOTS, ActionClarify
from bot.nlu.taxonomy import button_guesses
from bot.settings import PROJECT_ROOT


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


def _values(events: list[dict[str, Any]]) -> dict[str, Any]:
    return {e["name"]: e["value"] for e in events if e["event"] == "slot"}


def test_guesses_skip_fallback_and_bare_answers_and_weigh_categories_by_their_intent() -> None:
    # info 0.25, all facilities; complaint 0.30 split 3:1 between streetlight (0.225) and garbage (0.075).
    assert button_guesses(UNSURE) == [
        ("info", "facilities"),
        ("complaint", "streetlight"),
        ("complaint", "garbage"),
    ]


async def test_clarify_sets_three_guess_slots_to_profile_labels_and_says_nothing_itself() -> None:
    dispatcher = CollectingDispatcher()
    events = await ActionClarify().run(dispatcher, _tracker(UNSURE), {})
    assert _values(events) == {
        "guess_1": "시설 이용·예약 안내", "guess_2": "가로등·신호등 고장 신고", "guess_3": "쓰레기 문제 신고",
    }  # fmt: skip
    assert dispatcher.messages == []  # utter_clarify, next in the rule, shows them


async def test_clarify_without_any_ranking_offers_the_main_menu() -> None:
    events = await ActionClarify().run(CollectingDispatcher(), _tracker({"text": "?"}), {})
    assert list(_values(events).values()) == ["민원 신고", "복지 상담", "생활 정보"]


async def test_clarify_never_offers_the_same_title_twice() -> None:
    only_complaint = {**UNSURE, "intent_ranking": [{"name": "complaint", "confidence": 0.4}]}
    only_complaint["response_selector"] = {
        "default": {"ranking": [{"intent_response_key": "complaint/noise", "confidence": 1.0}]}
    }
    titles = list(
        _values(await ActionClarify().run(CollectingDispatcher(), _tracker(only_complaint), {})).values()
    )
    assert len(titles) == len(set(titles)) == len(GUESS_SLOTS)
    assert titles[0] == "소음 신고"


def test_the_ask_back_offers_every_guess_and_a_way_to_a_person() -> None:
    domain = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8"))
    buttons = domain["responses"]["utter_clarify"][0]["buttons"]
    assert [b["payload"] for b in buttons[:-1]] == [f"{{{slot}}}" for slot in GUESS_SLOTS]
    assert set(GUESS_SLOTS) <= set(domain["slots"])
    assert buttons[-1]["payload"] == "상담원 연결"  # the main menu's name for a person (tests/test_model.py)
    assert all(len(b["title"]) <= 14 for b in buttons if "{" not in b["title"])  # Kakao's label limit
