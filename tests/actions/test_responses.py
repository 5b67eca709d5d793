"""Every response an action sends exists in the domain, with the same variables the action fills."""

from __future__ import annotations

import re
import string

from bot.settings import PROJECT_ROOT
from tests.actions.helpers import domain


def test_every_response_named_in_the_actions_exists_in_the_domain() -> None:
    named = set()
    for path in (PROJECT_ROOT / "actions").glob("*.py"):
        named |= set(re.findall(r"[\"'](utter_\w+)[\"']", path.read_text(encoding="utf-8")))
    assert named, "the actions name no responses?"
    assert sorted(named - set(domain()["responses"])) == []


def test_main_menu_titles_are_the_profile_labels_of_their_intents() -> None:
    from bot.profile import load_profile

    city = load_profile("cheonan")
    labels = city.intent_labels
    buttons = domain()["responses"]["utter_greet"][0]["buttons"]
    # "소식 구독" is no intent: its payload is one of the words the gateway's subscriptions take first.
    news = [b for b in buttons if b["payload"] in city.news.subscribe_words]
    assert [b["title"] for b in news] == ["소식 구독"]
    menu = [b["title"] for b in buttons if b not in news]
    wanted = ["complaint", "check_ticket_status", "welfare", "info", "request_human"]
    assert menu == [labels[i] for i in wanted]


def test_no_response_has_an_unfilled_variable_other_than_slots_and_action_arguments() -> None:
    slots = set(domain()["slots"])
    filled_by_actions = {
        "category", "location", "description", "photo", "contact", "limit", "number", "department", "phone",
        "status", "timeline", "tickets", "time", "note", "answer", "due",
    }  # fmt: skip
    for name, variants in domain()["responses"].items():
        for variant in variants:
            fields = {f for _, f, _, _ in string.Formatter().parse(variant.get("text", "")) if f}
            assert fields <= slots | filled_by_actions, name
