"""action_answer_with_links: every welfare and info category answers with its department and 2-4 links."""

from __future__ import annotations

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.quick_links import ActionAnswerWithLinks
from bot.knowledge import knowledge_base
from bot.nlu.taxonomy import CATEGORIES
from bot.profile import load_profile
from tests.actions.helpers import domain, message, tracker

TOPICS = [(intent, category) for intent in ("welfare", "info") for category in CATEGORIES[intent]]


async def answer(text: str, intent: str, category: str | None, confidence: float = 0.9) -> list[dict]:
    dispatcher = CollectingDispatcher()
    latest = message(text, intent, category=category, category_confidence=confidence)
    assert await ActionAnswerWithLinks().run(dispatcher, tracker(latest), domain()) == []
    return dispatcher.messages


@pytest.mark.parametrize(("intent", "category"), TOPICS)
async def test_each_topic_answers_with_its_response_department_and_links(intent: str, category: str) -> None:
    profile = load_profile("cheonan")
    [sent] = await answer("질문", intent, f"{intent}/{category}")
    assert sent["response"] == f"utter_{intent}/{category}"
    department = profile.department(intent, category)
    assert (sent["department"], sent["phone"]) == (department.name, department.phone)
    assert 2 <= len(sent["buttons"]) <= 4
    for button in sent["buttons"]:
        assert button["url"].startswith("https://") if "url" in button else button["phone"]
    # The response exists and uses only the variables the action fills.
    text = domain()["responses"][f"utter_{intent}/{category}"][0]["text"]
    assert text.format(department=department.name, phone=department.phone)


@pytest.mark.parametrize(("intent", "label"), [("welfare", "복지 상담"), ("info", "생활 정보")])
async def test_the_menu_button_asks_which_topic_with_every_topic_as_a_button(intent: str, label: str) -> None:
    [sent] = await answer(label, intent, f"{intent}/other")
    assert sent["response"] == f"utter_which_{intent}"
    assert len(sent["buttons"]) == len(CATEGORIES[intent]) <= 10


async def test_an_unsure_topic_is_asked_not_guessed() -> None:
    [sent] = await answer("그거 어떻게 해요", "welfare", "welfare/senior", confidence=0.2)
    assert sent["response"] == "utter_which_welfare"


@pytest.mark.parametrize(
    ("text", "intent", "category"),
    [("기초연금 한 달에 얼마 받을 수 있어요?", "welfare", "senior"),
     ("문화누리카드 얼마 들어와요", "welfare", "other")],
)  # fmt: skip
async def test_a_question_the_knowledge_base_answers_gets_that_answer(
    text: str, intent: str, category: str
) -> None:
    hit = knowledge_base("cheonan").match(intent, category, text)
    assert hit is not None and hit.entry.category == category
    [sent] = await answer(text, intent, f"{intent}/{category}")
    assert (sent["response"], sent["answer"]) == ("utter_knowledge", hit.entry.answer)
    profile = load_profile("cheonan")
    expected = profile.link_buttons(hit.entry.links)
    assert sent["buttons"][: len(expected)] == expected and 1 <= len(sent["buttons"]) <= 4


async def test_a_question_no_entry_answers_gets_the_topics_general_answer() -> None:
    [sent] = await answer("그냥 복지 쪽 궁금한 게 있어서요", "welfare", "welfare/senior")
    assert sent["response"] == "utter_welfare/senior"
