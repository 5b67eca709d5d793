"""action_check_ticket_status: own tickets with their timeline; unknown, malformed and others' numbers."""

from __future__ import annotations

from typing import Any

import pytest
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.orm import Session, sessionmaker

from actions.tickets import ActionCheckTicketStatus
from bot.store.tickets import TicketView, file_ticket, update_status
from tests.actions.helpers import domain, message, tracker

ME = "web:citizen-1"


@pytest.fixture
def database(database_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("DATABASE_URL", database_url)
    return database_url


def file(sessions: sessionmaker[Session], sender: str = "citizen-1", category: str = "garbage") -> TicketView:
    with sessions.begin() as session:
        return file_ticket(
            session, category=category, department="청소행정과", description="골목에 쓰레기가 쌓였어요",
            channel="web", sender=sender, note="챗봇으로 접수했어요", district="두정동",
            location_text="두정동 먹자골목",
        )  # fmt: skip


async def ask(
    text: str, sender_id: str = ME, entities: list[dict[str, Any]] | None = None
) -> list[dict[str, Any]]:
    dispatcher = CollectingDispatcher()
    latest = message(text, "check_ticket_status", entities=entities)
    events = await ActionCheckTicketStatus().run(dispatcher, tracker(latest, sender_id=sender_id), domain())
    assert events == []
    return dispatcher.messages


async def test_a_number_shows_the_whole_timeline_after_staff_moved_it(
    database: str, sessions: sessionmaker[Session]
) -> None:
    ticket = file(sessions)
    with sessions.begin() as session:
        update_status(session, number=ticket.number, status="assigned", note="", actor="staff")
        update_status(
            session, number=ticket.number, status="in_progress", note="현장 확인 예정", actor="staff"
        )
    entity = {"entity": "ticket_number", "value": ticket.number}
    [sent] = await ask(f"{ticket.number} 어떻게 됐어요?", entities=[entity])
    assert sent["response"] == "utter_ticket_status"
    assert (sent["number"], sent["status"], sent["department"]) == (ticket.number, "처리 중", "청소행정과")
    assert sent["category"] == "쓰레기 문제 신고" and sent["location"] == "두정동 먹자골목"
    lines = sent["timeline"].splitlines()
    assert len(lines) == 3
    assert lines[0].endswith("접수: 챗봇으로 접수했어요")
    assert lines[1].endswith("담당 부서 배정") and lines[2].endswith("처리 중: 현장 확인 예정")
    assert "월" in lines[0] and "일" in lines[0]


async def test_my_tickets_lists_recent_ones_with_a_button_each(
    database: str, sessions: sessionmaker[Session]
) -> None:
    first, second = file(sessions), file(sessions, category="noise")
    file(sessions, sender="someone-else")
    [sent] = await ask("내 민원 조회")
    assert sent["response"] == "utter_ticket_list"
    assert [b["title"] for b in sent["buttons"]] == [second.number, first.number]
    assert sent["tickets"].splitlines()[0] == f"· {second.number} 소음 신고: 접수"


async def test_my_tickets_with_one_ticket_shows_it_and_with_none_says_so(
    database: str, sessions: sessionmaker[Session]
) -> None:
    [sent] = await ask("내 민원")
    assert sent["response"] == "utter_no_tickets"
    ticket = file(sessions)
    [sent] = await ask("내 민원")
    assert sent["response"] == "utter_ticket_status" and sent["number"] == ticket.number


async def test_someone_elses_ticket_reads_exactly_like_an_unknown_number(
    database: str, sessions: sessionmaker[Session]
) -> None:
    theirs = file(sessions, sender="someone-else")
    [other] = await ask(f"{theirs.number} 처리됐나요")
    [unknown] = await ask("2026-999999 처리됐나요")
    assert other["response"] == unknown["response"] == "utter_ticket_not_found"
    assert set(other) == set(unknown) and other["number"] == theirs.number
    assert "청소행정과" not in str(other)


@pytest.mark.parametrize("text", ["2026-123 어떻게 됐어요", "26-000123 조회", "2026-0001234567890 조회"])
async def test_a_malformed_number_gets_the_format_explained(database: str, text: str) -> None:
    [sent] = await ask(text)
    assert sent["response"] == "utter_ticket_number_malformed"


async def test_a_number_written_with_a_space_is_read(database: str, sessions: sessionmaker[Session]) -> None:
    ticket = file(sessions)
    [sent] = await ask(f"접수번호 {ticket.number.replace('-', ' ')} 확인해 주세요")
    assert sent["response"] == "utter_ticket_status"


async def test_a_database_outage_is_said_plainly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://postgres@127.0.0.1:9/down")
    [sent] = await ask("내 민원")
    assert sent["response"] == "utter_tickets_database_down"
