"""action_answer_with_links: every welfare and info category answers with its department and 2-4 links."""

from __future__ import annotations

from pathlib import Path

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.quick_links import ActionAnswerWithLinks
from bot.knowledge import knowledge_base
from bot.news.fetch import store_feed
from bot.nlu.taxonomy import CATEGORIES
from bot.profile import load_profile
from bot.store.db import session_factory
from bot.store.migrate import upgrade
from tests.actions.helpers import domain, message, tracker

FEEDS = Path(__file__).resolve().parents[1] / "data" / "feeds"

TOPICS = [(intent, category) for intent in ("welfare", "info") for category in CATEGORIES[intent]]


@pytest.fixture(autouse=True)
def no_posts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A database without any of the city's posts (the topics' general answers)."""
    url = f"sqlite:///{tmp_path / 'actions.db'}"
    upgrade(url)
    monkeypatch.setenv("DATABASE_URL", url)
    return url


@pytest.fixture
def posts(database_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """The shipped feeds read into the database (SQLite and PostgreSQL)."""
    with session_factory(database_url).begin() as session:
        for source in ("blog", "youtube", "press"):
            store_feed(session, source, (FEEDS / f"cheonan_{source}.xml").read_bytes())
    monkeypatch.setenv("DATABASE_URL", database_url)
    return database_url


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


async def test_city_news_is_the_newest_posts_as_cards(posts: str) -> None:
    city = load_profile("cheonan")
    [sent] = await answer("요즘 천안 소식 알려줘", "info", "info/city_news")
    assert sent["text"] == city.messages["news_newest"]
    cards = sent["custom"]["cards"]
    assert len(cards) == city.news.cards
    assert cards[0]["title"] == "천안시, '희망 2027 나눔 캠페인' 돌입…시청 광장에 사랑의 온도탑 제막"
    assert cards[0]["url"] == "https://www.cheonan.example/press/5132" and "image" not in cards[0]
    assert all(c["button"] == city.messages["news_open"] for c in cards)


async def test_a_question_the_knowledge_base_answers_also_gets_the_posts_about_it(posts: str) -> None:
    first, cards = await answer("흥타령춤축제 언제 해요?", "info", "info/events_tourism")
    assert first["response"] == "utter_knowledge" and first["answer"].startswith("천안흥타령춤축제는")
    assert cards["custom"]["cards"][0]["title"] == "2027 천안흥타령춤축제, 9월 22일 개막 확정"


async def test_without_posts_or_database_city_news_gets_its_general_answer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    [sent] = await answer("요즘 천안 소식 알려줘", "info", "info/city_news")
    assert sent["response"] == "utter_info/city_news"
    monkeypatch.setenv("DATABASE_URL", "postgresql://postgres@127.0.0.1:9/down")
    [sent] = await answer("요즘 천안 소식 알려줘", "info", "info/city_news")
    assert sent["response"] == "utter_info/city_news"
