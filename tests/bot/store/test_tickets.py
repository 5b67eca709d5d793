"""The ticket repository on SQLite and PostgreSQL: numbers, timelines, ownership, bad input."""

from __future__ import annotations

import concurrent.futures
import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.store.models import Ticket, TicketEvent
from bot.store.tickets import (
    DESCRIPTION_LIMIT,
    InvalidStatus,
    TicketFilter,
    TicketNotFound,
    due_date,
    file_ticket,
    find_ticket,
    list_tickets,
    parse_number,
    recent_tickets,
    search_tickets,
    update_status,
)  # fmt: skip


def _file(sessions: sessionmaker[Session], sender: str = "kakao-user-1", **fields: object) -> str:
    values: dict[str, object] = {
        "category": "streetlight", "department": "도로과", "description": "가로등이 꺼졌어요",
        "channel": "kakao", "sender": sender, "note": "접수했어요", "district": "쌍용동",
        "location_text": "쌍용동 사거리",
    }  # fmt: skip
    values.update(fields)
    with sessions.begin() as session:
        return file_ticket(session, **values).number  # type: ignore[arg-type]


def test_filing_writes_the_ticket_and_its_first_event_in_one_transaction(
    sessions: sessionmaker[Session],
) -> None:
    number = _file(sessions)
    assert parse_number(number) is not None
    with sessions() as session:
        ticket = session.scalars(select(Ticket)).one()
        events = session.scalars(select(TicketEvent)).all()
    assert (ticket.category, ticket.department, ticket.status, ticket.district) == (
        "streetlight", "도로과", "received", "쌍용동",
    )  # fmt: skip
    assert [(e.status, e.note, e.actor) for e in events] == [("received", "접수했어요", "citizen")]


def test_a_failed_transaction_leaves_nothing(sessions: sessionmaker[Session]) -> None:
    with pytest.raises(RuntimeError), sessions.begin() as session:
        file_ticket(session, category="noise", department="환경과", description="소음", channel="web",
                    sender="w1", note="")  # fmt: skip
        raise RuntimeError("the answer could not be sent")
    with sessions() as session:
        assert session.scalars(select(Ticket)).all() == []
        assert session.scalars(select(TicketEvent)).all() == []


def test_status_changes_build_the_timeline(sessions: sessionmaker[Session]) -> None:
    number = _file(sessions)
    with sessions.begin() as session:
        update_status(
            session, number=number, status="assigned", note="도로과에 배정했어요", actor="staff:kim"
        )
    with sessions.begin() as session:
        view = update_status(
            session, number=number, status="in_progress", note="현장 확인 중", actor="staff:kim"
        )
    assert view.status == "in_progress"
    assert [e.status for e in view.events] == ["received", "assigned", "in_progress"]
    assert view.updated_at >= view.created_at


def test_unknown_and_malformed_numbers(sessions: sessionmaker[Session]) -> None:
    number = _file(sessions)
    year, ticket_id = parse_number(number)  # type: ignore[misc]
    with sessions() as session:
        assert find_ticket(session, number=f"{year}-{ticket_id + 1:06d}") is None
        assert find_ticket(session, number=f"{year - 1}-{ticket_id:06d}") is None, "the year is checked"
        for bad in ["", "123", "2026-12", "abcd-000001", "2026-000001; DROP TABLE tickets"]:
            assert find_ticket(session, number=bad) is None
    with sessions.begin() as session, pytest.raises(TicketNotFound):
        update_status(session, number="2026-999999", status="resolved", note="", actor="staff")
    with sessions.begin() as session, pytest.raises(InvalidStatus):
        update_status(session, number=number, status="done", note="", actor="staff")


def test_a_citizen_sees_only_their_own_tickets(sessions: sessionmaker[Session]) -> None:
    mine = _file(sessions, sender="kakao-me")
    theirs = _file(sessions, sender="kakao-other")
    with sessions() as session:
        assert find_ticket(session, number=mine, channel="kakao", sender="kakao-me") is not None
        assert find_ticket(session, number=theirs, channel="kakao", sender="kakao-me") is None
        assert find_ticket(session, number=mine, channel="telegram", sender="kakao-me") is None
        assert [t.number for t in recent_tickets(session, channel="kakao", sender="kakao-me")] == [mine]


def test_phone_numbers_are_kept_only_with_consent(sessions: sessionmaker[Session]) -> None:
    without = _file(sessions, contact_phone="010-1234-5678", contact_consent=False)
    with_consent = _file(sessions, contact_phone="010-1234-5678", contact_consent=True)
    with sessions() as session:
        assert find_ticket(session, number=without).contact_phone is None  # type: ignore[union-attr]
        kept = find_ticket(session, number=with_consent)
    assert kept is not None and kept.contact_phone == "010-1234-5678"
    assert kept.as_json()["contact_phone"] is True, "JSON shows only that a phone number exists"


def test_long_text_is_cut_at_the_limit_and_sql_and_html_are_stored_verbatim(
    sessions: sessionmaker[Session],
) -> None:
    nasty = "'); DROP TABLE tickets; -- <script>alert('x')</script> 가로등 % _ \\"
    number = _file(sessions, description=nasty + "가" * 5000, location_text=nasty)
    with sessions() as session:
        view = find_ticket(session, number=number)
    assert view is not None
    assert len(view.description) == DESCRIPTION_LIMIT
    assert view.description.startswith(nasty) and view.location_text == nasty


def test_list_by_status(sessions: sessionmaker[Session]) -> None:
    first, second = _file(sessions), _file(sessions)
    with sessions.begin() as session:
        update_status(session, number=first, status="resolved", note="고쳤어요", actor="staff")
    with sessions() as session:
        assert [t.number for t in list_tickets(session)] == [second, first]
        assert [t.number for t in list_tickets(session, status="resolved")] == [first]
        with pytest.raises(InvalidStatus):
            list_tickets(session, status="closed")


def test_fifty_tickets_filed_at_once_get_fifty_numbers(
    sessions: sessionmaker[Session], database_url: str
) -> None:
    with concurrent.futures.ThreadPoolExecutor(max_workers=10) as pool:
        numbers = list(pool.map(lambda i: _file(sessions, sender=f"user-{i}"), range(50)))
    assert len(set(numbers)) == 50
    with sessions() as session:
        assert len(session.scalars(select(Ticket)).all()) == 50


def test_a_deadline_counts_working_days_in_the_citys_time() -> None:
    seoul = ZoneInfo("Asia/Seoul")
    friday_evening = dt.datetime(2026, 12, 4, 20, 0, tzinfo=seoul)  # Friday
    due = due_date(friday_evening, 7, seoul).astimezone(seoul)
    # Mon 7 … Fri 11 are five, Mon 14 and Tue 15 the sixth and seventh.
    assert (due.date(), due.time()) == (dt.date(2026, 12, 15), dt.time(23, 59, 59))
    # 23:30 UTC on Sunday is already Monday in Seoul: Tuesday is the first working day after it.
    late_sunday = dt.datetime(2026, 12, 6, 23, 30, tzinfo=dt.timezone.utc)
    assert due_date(late_sunday, 1, seoul).astimezone(seoul).date() == dt.date(2026, 12, 8)


def test_open_tickets_past_or_near_their_deadline_stand_out(sessions: sessionmaker[Session]) -> None:
    now = dt.datetime.now(dt.timezone.utc)
    with sessions.begin() as session:
        late, soon, later = (
            file_ticket(session, category="streetlight", department="건설도로과", description=str(n),
                        channel="web", sender="u", note="접수", due_at=now + offset)
            for n, offset in enumerate([-dt.timedelta(hours=1), dt.timedelta(days=1), dt.timedelta(days=5)])
        )  # fmt: skip
        closed = update_status(session, number=late.number, status="resolved", note="끝", actor="staff:a")
    assert (late.due(now), soon.due(now), later.due(now), closed.due(now)) == ("overdue", "soon", None, None)
    with sessions() as session:
        total, found = search_tickets(session, TicketFilter(due="soon"))
    assert (total, [t.number for t in found]) == (1, [soon.number])
