"""What a question finds among the city's posts, on SQLite's FTS5 and PostgreSQL's full-text index."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from bot.news.answers import card, news_answer
from bot.news.fetch import store_feed
from bot.news.terms import terms
from bot.profile import load_profile
from bot.store.models import Post
from bot.store.posts import search_posts

FEEDS = Path(__file__).resolve().parents[2] / "data" / "feeds"
CITY = load_profile("cheonan")


@pytest.fixture
def posts(sessions: sessionmaker[Session]) -> sessionmaker[Session]:
    with sessions.begin() as session:
        for source in ("blog", "youtube", "press"):
            store_feed(session, source, (FEEDS / f"cheonan_{source}.xml").read_bytes())
    return sessions


def ask(sessions: sessionmaker[Session], question: str, topic: str = "city_news") -> tuple[str, list[str]]:
    with sessions() as session:
        line, found = news_answer(session, CITY, question, topic)
    return line, [p.title for p in found]


def test_terms_are_syllable_pairs_without_particles_and_generic_words() -> None:
    skip = CITY.news.generic_words
    assert terms("흥타령 축제 언제예요?", skip=skip, question=True) == ["흥타", "타령", "축제"]
    assert terms("요즘 천안 소식 알려줘", skip=skip, question=True) == []
    assert terms("성환 배가 맛있어요", question=True)[:2] == ["성환", "배"]
    # A post's words give pairs with and without the particle: 축제는 is found by 축제.
    assert {"축제", "제는"} <= set(terms("축제는 10월이에요"))


def test_a_named_event_finds_its_posts_from_every_feed(posts: sessionmaker[Session]) -> None:
    line, titles = ask(posts, "흥타령 축제 언제예요?", "events_tourism")
    assert line == "news_found"
    assert titles[0] == "2027 천안흥타령춤축제, 9월 22일 개막 확정"  # a press release: not a blog category
    with posts() as session:
        _, found = news_answer(session, CITY, "흥타령 축제 언제예요?", "events_tourism")
    assert all("흥타령" in p.title + p.summary for p in found)


def test_the_post_that_holds_more_of_the_question_comes_first(posts: sessionmaker[Session]) -> None:
    _, titles = ask(posts, "성환 배")
    assert titles[0] == "성환 배로 만드는 겨울 간식 3가지 🍐"


def test_a_question_of_generic_words_gets_the_newest_posts_of_its_topic(posts: sessionmaker[Session]) -> None:
    line, titles = ask(posts, "요즘 천안 소식 알려줘")
    assert line == "news_newest" and len(titles) == CITY.news.cards
    assert (
        titles[0] == "천안시, '희망 2027 나눔 캠페인' 돌입…시청 광장에 사랑의 온도탑 제막"
    )  # the newest of all
    line, events = ask(posts, "이번 주 행사 뭐 있어요?", "events_tourism")
    assert line == "news_newest"
    assert events[0] == "천안주말사용설명서 12월 첫째 주"  # the newest of 즐기는천안 and 흥겨운천안


def test_something_no_post_mentions_is_said_so_over_the_newest(posts: sessionmaker[Session]) -> None:
    line, titles = ask(posts, "독도 소식 있어요?")
    assert line == "news_not_found" and len(titles) == CITY.news.cards


def test_one_shared_syllable_pair_is_no_match(posts: sessionmaker[Session]) -> None:
    with posts() as session:
        assert search_posts(session, ["흥타", "독도", "우주", "로켓"], limit=5) == []


def test_the_index_follows_a_post_that_changes(posts: sessionmaker[Session]) -> None:
    with posts.begin() as session:
        session.execute(update(Post).where(Post.guid == "cheonan-blog-2304").values(terms="우주 로켓"))
    with posts() as session:
        assert [p.link for p in search_posts(session, ["우주", "로켓"], limit=5)] == [
            "https://blog.cheonan.example/posts/2304"
        ]
        assert "https://blog.cheonan.example/posts/2304" not in [
            p.link for p in search_posts(session, terms("빵빵데이", question=True), limit=5)
        ]


def test_a_card_has_the_date_in_the_citys_words_and_the_button_of_the_profile(
    posts: sessionmaker[Session],
) -> None:
    with posts() as session:
        [post] = search_posts(session, terms("스마트 버스정류장", question=True), limit=1)
    made = card(post, CITY)
    assert made["text"].startswith("12월 4일(금) · 찬 바람을 막아 주는")
    assert made["button"] == CITY.messages["news_open"] and made["url"] == post.link
    assert made["image"] == "https://blog.cheonan.example/img/2324.jpg"
