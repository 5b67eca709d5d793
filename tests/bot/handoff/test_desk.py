"""The desk without HTTP: agents' operations on stored chats, and the domain errors it raises."""

from __future__ import annotations

import asyncio
import datetime as dt

import httpx
import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session, sessionmaker

from bot.delivery import Delivery
from bot.handoff.desk import Conflict, Desk, Invalid, NotFound
from bot.handoff.hub import Hub
from bot.handoff.reception import Reception
from bot.messages import Outbound
from bot.profile import load_profile
from bot.rasa import RasaClient
from bot.store import handoffs
from bot.store.agents import add_agent
from bot.store.db import Database, StoreUnavailable
from bot.store.models import AccessLog, Label, OutboxItem
from bot.transcript import Transcript
from tests.bot.channels.helpers import FakeRasa, stored

SENDER = "desk-citizen-0001"


def make_desk(sessions: sessionmaker[Session], rasa: FakeRasa | None = None) -> tuple[Desk, Delivery]:
    profile = load_profile("cheonan")
    db = Database(sessions)
    client = RasaClient(
        httpx.AsyncClient(transport=httpx.MockTransport(rasa or FakeRasa())), "http://rasa.test"
    )
    transcript = Transcript(db)
    delivery = Delivery(db, transcript)
    hub = Hub()
    reception = Reception(db=db, rasa=client, hub=hub, delivery=delivery, profile=profile)
    desk = Desk(
        db=db, hub=hub, delivery=delivery, transcript=transcript, reception=reception, rasa=client,
        profile=profile, callback_after=dt.timedelta(minutes=5), grace=0.0,
    )  # fmt: skip
    return desk, delivery


def waiting_chat(sessions: sessionmaker[Session]) -> tuple[int, int, int]:
    """Return a waiting handoff of a Kakao citizen (no push) and two agents' ids."""
    with sessions.begin() as session:
        first, second = (
            add_agent(session, "김상담", "a-long-password"),
            add_agent(session, "박상담", "b-long-pass"),
        )
        handoff, _ = handoffs.open_handoff(session, channel="kakao", sender=SENDER, reason="requested")
    return handoff.id, first, second


def test_a_claimed_chat_belongs_to_the_first_agent(sessions: sessionmaker[Session]) -> None:
    handoff_id, first, second = waiting_chat(sessions)
    desk, _ = make_desk(sessions)

    async def scenario() -> None:
        await desk.claim(handoff_id, first)
        with pytest.raises(Conflict):
            await desk.claim(handoff_id, second)
        with pytest.raises(Conflict):
            await desk.reply(handoff_id, second, "제가 도와드릴게요")
        with pytest.raises(NotFound):
            await desk.claim(handoff_id + 100, first)

    asyncio.run(scenario())


def test_a_reply_to_a_kakao_citizen_waits_in_the_outbox_and_is_stored(
    sessions: sessionmaker[Session],
) -> None:
    handoff_id, agent, _ = waiting_chat(sessions)
    desk, delivery = make_desk(sessions)

    async def scenario() -> None:
        await desk.claim(handoff_id, agent)
        assert await desk.reply(handoff_id, agent, "  가로등은 내일 고쳐요  ") is False
        waiting = await delivery.take("kakao", SENDER)
        assert [(m.text, m.author) for m in waiting] == [
            ("상담원이 연결되었어요. 편하게 말씀해 주세요.", "상담원"),
            ("가로등은 내일 고쳐요", "상담원"),
        ]

    asyncio.run(scenario())
    assert stored(sessions)[-1] == ("out", "가로등은 내일 고쳐요", True)
    with sessions() as session:
        assert all(item.delivered_at for item in session.scalars(select(OutboxItem)))  # taken once


def test_wrong_requests_are_refused_with_domain_errors(sessions: sessionmaker[Session]) -> None:
    handoff_id, agent, _ = waiting_chat(sessions)
    desk, _ = make_desk(sessions)

    async def scenario() -> None:
        await desk.claim(handoff_id, agent)
        with pytest.raises(Invalid):
            await desk.reply(handoff_id, agent, "   ")
        with pytest.raises(Invalid):
            await desk.label(1, agent, "complaint", None)
        with pytest.raises(Invalid):
            await desk.file_ticket(handoff_id, agent, category="ufo", description="x", location="")
        with pytest.raises(NotFound):
            await desk.label(10_000, agent, "greet", None)

    asyncio.run(scenario())
    with sessions() as session:
        assert session.scalars(select(Label)).all() == []


def test_opening_personal_data_is_logged_with_the_reason(sessions: sessionmaker[Session]) -> None:
    handoff_id, agent, _ = waiting_chat(sessions)
    desk, delivery = make_desk(sessions)

    async def scenario() -> dict[str, object]:
        await desk.claim(handoff_id, agent)
        await delivery.deliver("kakao", SENDER, [Outbound(text="연락처 010-1234-5678 남겨 주세요")])
        masked = await desk.detail(handoff_id, agent_id=agent)
        assert "010-1234-5678" not in str(masked["messages"])
        return await desk.detail(handoff_id, agent_id=agent, reveal="콜백 번호 확인")

    shown = asyncio.run(scenario())
    assert "010-1234-5678" in str(shown["messages"])
    with sessions() as session:
        assert [(a.agent_id, a.reason) for a in session.scalars(select(AccessLog))] == [
            (agent, "콜백 번호 확인")
        ]


def test_the_desk_says_when_the_database_is_down(sessions: sessionmaker[Session]) -> None:
    desk, _ = make_desk(sessions)
    desk.db = Database(sessionmaker(create_engine("postgresql://nobody@127.0.0.1:1/none", future=True)))

    async def scenario() -> None:
        with pytest.raises(StoreUnavailable):
            await desk.queue()

    asyncio.run(scenario())
