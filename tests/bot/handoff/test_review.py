"""The review queue: what the bot was least sure of, read from Rasa's own events table, in the console."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect, sync_playwright
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from bot.handoff.review import review_queue
from bot.store import handoffs
from bot.store.agents import add_agent
from bot.store.conversations import record_message
from bot.store.models import Label, Message, utcnow
from tests.bot.channels.helpers import FakeRasa, console_login, served
from tests.bot.handoff.test_console import SENDER, login, say

CHROMIUM = Path("/usr/bin/chromium")
OTHER = "d00d0000-1234-4bcd-9a51-0c8e2d1f4b6a"


def parse(intent: str, confidence: float, category: str | None = None) -> dict[str, Any]:
    """Return a parse result as Rasa gives it; below 0.5 the FallbackClassifier puts nlu_fallback on top."""
    guess = {"name": intent, "confidence": confidence}
    ranking = [guess, {"name": "out_of_scope", "confidence": round((1 - confidence) / 2, 3)}]
    selector = {"default": {"ranking": [
        {"intent_response_key": f"{intent}/{category}", "confidence": 0.8}] if category else []}}  # fmt: skip
    if confidence < 0.5:  # config.yml's threshold
        fallback = {"name": "nlu_fallback", "confidence": 0.5}
        return {"intent": fallback, "intent_ranking": [fallback, *ranking], "response_selector": selector}
    return {"intent": guess, "intent_ranking": ranking, "response_selector": selector}


def write_tracker(
    database_url: str, conversation_id: str, said: list[tuple[str, dict[str, Any], float]]
) -> None:
    """Store a conversation's user events (text, parse result, UNIX time) as Rasa's SQLTrackerStore does."""
    store = SQLTrackerStore(host=database_url)  # a host with "://" is the whole URL
    events = [UserUttered(text, p["intent"], [], p, timestamp=moment) for text, p, moment in said]
    try:
        asyncio.run(store.save(DialogueStateTracker.from_events(conversation_id, events, [])))
    finally:
        store.engine.dispose()


def record(session: Session, text: str, *, sender: str = SENDER, ago: dt.timedelta | None = None) -> int:
    """Store a citizen's web chat message (AGO in the past); return its id."""
    message_id = record_message(session, channel="web", sender=sender, direction="in", text=text)
    if ago is not None:
        session.execute(update(Message).where(Message.id == message_id).values(created_at=utcnow() - ago))
    return message_id


def test_the_queue_holds_what_the_bot_was_unsure_of_least_sure_bucket_and_newest_first(
    database_url: str, sessions: sessionmaker[Session]
) -> None:
    now = time.time()
    with sessions.begin() as session:
        old = record(session, "가로등이 나갔다니까요", ago=dt.timedelta(days=31))
        fallback = record(session, "저기 불이 안 들어와요 010-1234-5678")
        confident = record(session, "기초연금 신청 방법 알려주세요")
        labelled = record(session, "이거 어디다 말해요")
        unsure = record(session, "쓰레기 언제 가져가요")
        unsure_newer = record(session, "12가3456 차 좀 빼 달라고요")
        before_handoff = record(session, "밤마다 윗집이 쿵쿵거려요", sender=OTHER)
        request = record(session, "상담원 연결", sender=OTHER)
        handoffs.open_handoff(session, channel="web", sender=OTHER, reason="requested")
        unparsed = record(session, "여보세요", sender=OTHER)  # to the agent: Rasa never saw it
        session.add(
            Label(
                message_id=labelled,
                intent="info",
                category="contact",
                agent_id=add_agent(session, "김상담", "a-long-password"),
            )
        )
    write_tracker(
        database_url,
        f"web:{SENDER}",
        [
            ("가로등이 나갔다니까요", parse("complaint", 0.2, "streetlight"), now - 31 * 86400),
            ("저기 불이 안 들어와요 010-1234-5678", parse("complaint", 0.31, "streetlight"), now),
            ("기초연금 신청 방법 알려주세요", parse("welfare", 0.97, "senior"), now),
            ("이거 어디다 말해요", parse("info", 0.2, "contact"), now),
            ("쓰레기 언제 가져가요", parse("info", 0.52, "facilities"), now),
            ("12가3456 차 좀 빼 달라고요", parse("complaint", 0.58, "illegal_parking"), now),
        ],
    )
    write_tracker(
        database_url,
        f"web:{OTHER}",
        [
            ("밤마다 윗집이 쿵쿵거려요", parse("complaint", 0.92, "noise"), now),
            ("상담원 연결", parse("request_human", 0.98), now),
        ],
    )

    with sessions() as session:
        items = review_queue(session)

    # Fallback (0.3) first; 0.58 before 0.52, both in the 0.5 step, as the newer; the confident message
    # that a handoff followed last; never the confident, the labelled, the old or the unparsed ones.
    assert [(i.message_id, i.reason) for i in items] == [
        (fallback, "fallback"),
        (unsure_newer, "low_confidence"),
        (unsure, "low_confidence"),
        (before_handoff, "handoff"),
    ]
    assert {confident, labelled, old, request, unparsed}.isdisjoint(i.message_id for i in items)
    first = items[0].as_json()
    assert first["text"] == "저기 불이 안 들어와요 ***-****-****"
    assert first["understood"] == {"intent": "complaint", "category": "streetlight", "confidence": 0.31}
    assert first["channel"] == "web" and dt.datetime.fromisoformat(first["at"]).tzinfo is not None
    assert items[1].text == "******* 차 좀 빼 달라고요"
    assert (items[3].intent, items[3].category, items[3].confidence) == ("complaint", "noise", 0.92)
    with sessions() as session:
        assert [i.message_id for i in review_queue(session, limit=2)] == [fallback, unsure_newer]
        assert review_queue(session, now=utcnow() + dt.timedelta(days=31)) == []
        assert [i.message_id for i in review_queue(session, threshold=0.55)] == [
            fallback,
            unsure,
            before_handoff,
        ]


def test_a_handoff_long_after_a_message_does_not_put_it_in_the_queue(
    database_url: str, sessions: sessionmaker[Session]
) -> None:
    with sessions.begin() as session:
        record(session, "밤마다 윗집이 쿵쿵거려요", ago=dt.timedelta(hours=2))
        handoffs.open_handoff(session, channel="web", sender=SENDER, reason="requested")
    write_tracker(
        database_url,
        f"web:{SENDER}",
        [("밤마다 윗집이 쿵쿵거려요", parse("complaint", 0.92, "noise"), time.time())],
    )
    with sessions() as session:
        assert review_queue(session) == []


def test_without_rasa_events_the_queue_is_empty(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        record(session, "저기 불이 안 들어와요")
    with sessions() as session:
        assert review_queue(session) == []


PARSES = {
    "불이 안 들어와요 제 번호 010-2345-6789": parse("complaint", 0.31, "streetlight"),
    "기초연금 알려주세요": parse("welfare", 0.95, "senior"),
    "쓰레기 언제 가져가요": parse("info", 0.62, "facilities"),
    "상담원 연결": parse("request_human", 0.99),
}


def chat_and_track(client: TestClient, rasa: FakeRasa, database_url: str) -> None:
    """A citizen says PARSES's messages in the web chat; Rasa's tracker gets what it received."""
    with client.websocket_connect("/web/ws") as citizen:
        for text in PARSES:
            say(citizen, text)
    now = time.time()
    received = [b["message"] for b in rasa.received]
    write_tracker(database_url, f"web:{SENDER}", [(text, PARSES[text], now) for text in received])


def test_the_console_lists_the_review_queue_and_a_label_takes_a_message_off_it(
    client: TestClient, rasa: FakeRasa, database_url: str
) -> None:
    chat_and_track(client, rasa, database_url)
    assert client.get("/agent/api/review").status_code == 401
    headers = login(client)

    items = client.get("/agent/api/review").json()["items"]
    assert [(i["text"], i["reason"]) for i in items] == [
        ("불이 안 들어와요 제 번호 ***-****-****", "fallback"),
        ("쓰레기 언제 가져가요", "low_confidence"),
        ("기초연금 알려주세요", "handoff"),
    ]
    assert items[1]["understood"] == {"intent": "info", "category": "facilities", "confidence": 0.62}
    assert [i["id"] for i in client.get("/agent/api/review?limit=0").json()["items"]] == [items[0]["id"]]
    assert len(client.get("/agent/api/review?limit=100000").json()["items"]) == 3

    labelled = client.post(
        f"/agent/api/messages/{items[0]['id']}/label",
        json={"intent": "complaint", "category": "streetlight"},
        headers=headers,
    )
    assert labelled.status_code == 200
    assert [i["id"] for i in client.get("/agent/api/review").json()["items"]] == [
        items[1]["id"],
        items[2]["id"],
    ]


@pytest.mark.parametrize("limit", ["many", "1.5", "-"])
def test_a_limit_that_is_not_a_number_is_refused(client: TestClient, limit: str) -> None:
    login(client)
    response = client.get(f"/agent/api/review?limit={limit}")
    assert response.status_code == 400 and "limit" in response.json()["error"]


@pytest.fixture
def console_url(database_url: str, rasa: FakeRasa, sessions: sessionmaker[Session]) -> Iterator[str]:
    """The gateway served by uvicorn in a thread, with an agent, for the browser."""
    with sessions.begin() as session:
        add_agent(session, "김상담", "a-long-password")
    with served(database_url, rasa) as url:
        yield url


def test_an_agent_labels_the_review_queue_in_a_browser(
    console_url: str, database_url: str, sessions: sessionmaker[Session]
) -> None:
    if not CHROMIUM.exists():
        pytest.fail("Chromium is missing: run `make browser` (make test does)")
    with sessions.begin() as session:
        for text in PARSES:
            record(session, text)
        handoffs.open_handoff(session, channel="web", sender=SENDER, reason="requested")
    now = time.time()
    write_tracker(database_url, f"web:{SENDER}", [(text, p, now) for text, p in PARSES.items()])

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        page = browser.new_context(viewport={"width": 1280, "height": 800}, locale="ko-KR").new_page()
        console_login(page, console_url, "김상담")
        page.click("#tab-review")
        items = page.locator(".review-item")
        expect(items).to_have_count(3)
        expect(page.locator("#tab-review")).to_contain_text("3")
        first = items.first
        expect(first.locator(".text")).to_have_text("불이 안 들어와요 제 번호 ***-****-****")
        expect(first.locator(".seen")).to_have_text("챗봇 이해: 가로등·신호등 고장 신고 (31%)")
        expect(first.locator(".reason")).to_have_text("이해 못 함")
        expect(items.nth(1).locator(".reason")).to_have_text("확신 낮음")
        expect(items.nth(2).locator(".reason")).to_have_text("상담원 연결된 대화")
        page.screenshot(path="/tmp/review.png")
        first.get_by_role("button", name="라벨 저장").click()
        expect(items).to_have_count(2)
        expect(page.locator("#review-notice")).to_contain_text("저장했어요")
        page.screenshot(path="/tmp/review-saved.png")
        browser.close()
    with sessions() as session:
        label = session.scalars(select(Label)).one()
    assert (label.intent, label.category) == ("complaint", "streetlight")
