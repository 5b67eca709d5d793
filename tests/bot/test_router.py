"""The routing point stores the bot's answers after it has returned them, in the conversation's order."""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from bot import transcript as transcript_module
from bot.delivery import Delivery
from bot.handoff.hub import Hub
from bot.handoff.reception import Reception
from bot.messages import Inbound, Outbound
from bot.profile import load_profile
from bot.rasa import RasaClient
from bot.router import Router
from bot.store.db import Database
from bot.transcript import Transcript
from tests.bot.channels.helpers import FakeRasa, gateway, stored

SENDER = "c0ffee00-1234-4bcd-9a51-0c8e2d1f4b6a"


@pytest.fixture
def slow_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    """Storing an answer takes 50 ms (a busy database): a later write that does not wait would overtake it."""
    record = transcript_module.record_message

    def slowly(session: Session, **row: Any) -> int:
        if row["direction"] == "out":
            time.sleep(0.05)
        return record(session, **row)

    monkeypatch.setattr(transcript_module, "record_message", slowly)


@dataclass
class Parts:
    """The router with the parts a test looks at."""

    router: Router
    transcript: Transcript
    delivery: Delivery

    async def route(self, message: Inbound) -> list[Outbound]:
        return await self.router.route(message)

    async def settled(self) -> None:
        await self.transcript.settled()


def make_router(sessions: sessionmaker[Session], rasa: FakeRasa) -> Parts:
    client = httpx.AsyncClient(transport=httpx.MockTransport(rasa))
    profile = load_profile("cheonan")
    db, rasa_client = Database(sessions), RasaClient(client, "http://rasa.test")
    transcript = Transcript(db)
    delivery = Delivery(db, transcript)
    reception = Reception(db=db, rasa=rasa_client, hub=Hub(), delivery=delivery, profile=profile)
    router = Router(
        rasa=rasa_client, db=db, transcript=transcript, reception=reception, texts=profile.messages,
        foreign_help=profile.foreign_help,
    )  # fmt: skip
    return Parts(router, transcript, delivery)


def test_the_answer_is_returned_before_it_is_stored_and_stored_after(
    sessions: sessionmaker[Session],
) -> None:
    async def scenario() -> None:
        router = make_router(sessions, FakeRasa())
        answers = await router.route(Inbound(channel="web", user_id=SENDER, text="안녕하세요"))
        assert [a.text for a in answers] == ["받았어요: 안녕하세요"]
        assert stored(sessions) == [("in", "안녕하세요", False)]  # the save has not run yet
        await router.settled()
        assert stored(sessions) == [("in", "안녕하세요", True), ("out", "받았어요: 안녕하세요", True)]

    asyncio.run(scenario())


def test_a_conversation_keeps_its_order_when_storing_is_slow(
    sessions: sessionmaker[Session], slow_answers: None
) -> None:
    async def scenario() -> None:
        router = make_router(sessions, FakeRasa())
        await router.route(Inbound(channel="web", user_id=SENDER, text="하나"))
        # Another conversation does not wait for this one's answers.
        other = await router.route(Inbound(channel="web", user_id="f" * 36, text="다른 사람"))
        assert other and f"web:{SENDER}" in router.transcript._saving  # its answer is still being stored
        await router.route(Inbound(channel="web", user_id=SENDER, text="둘"))
        await router.delivery.deliver("web", SENDER, [Outbound(text="상담원 답변이에요.", author="김상담")])
        await router.settled()

    asyncio.run(scenario())
    mine = [(d, t) for d, t, _ in stored(sessions) if t != "다른 사람" and t != "받았어요: 다른 사람"]
    assert mine == [
        ("in", "하나"), ("out", "받았어요: 하나"), ("in", "둘"), ("out", "받았어요: 둘"),
        ("out", "상담원 답변이에요."),
    ]  # fmt: skip


def test_the_gateway_stores_the_answers_it_sent_before_it_stops(
    database_url: str, sessions: sessionmaker[Session], slow_answers: None
) -> None:
    with gateway(database_url, FakeRasa()) as client, client.websocket_connect("/web/ws") as socket:
        socket.send_text(json.dumps({"sender": SENDER, "text": "가로등이 꺼졌어요"}))
        assert socket.receive_json()["messages"][0]["text"] == "받았어요: 가로등이 꺼졌어요"
    assert stored(sessions) == [
        ("in", "가로등이 꺼졌어요", True), ("out", "받았어요: 가로등이 꺼졌어요", True),
    ]  # fmt: skip


def test_a_database_failure_while_storing_answers_is_logged_and_the_next_message_goes_on(
    sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    record = transcript_module.record_message

    def failing(session: Session, **row: Any) -> int:
        if row["direction"] == "out":
            raise OperationalError("INSERT", {}, Exception("disk I/O error"))
        return record(session, **row)

    async def scenario() -> list[Outbound]:
        router = make_router(sessions, FakeRasa())
        await router.route(Inbound(channel="web", user_id=SENDER, text="하나"))
        await router.settled()
        monkeypatch.setattr(transcript_module, "record_message", record)
        answers = await router.route(Inbound(channel="web", user_id=SENDER, text="둘"))
        await router.settled()
        return answers

    monkeypatch.setattr(transcript_module, "record_message", failing)
    assert [a.text for a in asyncio.run(scenario())] == ["받았어요: 둘"]
    assert "a database transaction failed: OperationalError" in caplog.text
    # The first message is kept, unanswered (its answer could not be stored); the second went through.
    assert stored(sessions) == [("in", "하나", False), ("in", "둘", True), ("out", "받았어요: 둘", True)]


def test_a_message_in_another_language_gets_an_english_answer_not_a_korean_refusal(
    sessions: sessionmaker[Session],
) -> None:
    async def scenario() -> list[Outbound]:
        parts = make_router(sessions, rasa := FakeRasa())
        answers = await parts.route(
            Inbound(channel="web", user_id=SENDER, text="Hello, where can I buy garbage bags?")
        )
        await parts.settled()
        assert rasa.received == []
        return answers

    [answer] = asyncio.run(scenario())
    assert answer.text.startswith("Hello! This is the Cheonan City chatbot.") and "1345" in answer.text
    assert answer.buttons == ({"title": "Immigration Contact Center 1345", "phone": "1345"},)
