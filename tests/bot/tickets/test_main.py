"""python -m bot.tickets: what staff see and change."""

from __future__ import annotations

import json

import pytest
from sqlalchemy.orm import Session, sessionmaker

from bot.store.tickets import file_ticket, find_ticket
from bot.tickets.__main__ import main


@pytest.fixture
def number(sessions: sessionmaker[Session], database_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("DATABASE_URL", database_url)
    with sessions.begin() as session:
        return file_ticket(
            session, category="garbage", department="자원순환과", description="쓰레기 무단투기",
            channel="telegram", sender="42", note="접수했어요", contact_phone="010-9999-0000",
            contact_consent=True,
        ).number  # fmt: skip


def test_update_then_show_json_prints_the_timeline(number: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["update", number, "--status", "in_progress", "--note", "수거 차량 배정", "--by", "kim"]) == 0
    assert f"{number} is now in_progress" in capsys.readouterr().out
    assert main(["show", number, "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["number"] == number and shown["status"] == "in_progress"
    assert [(e["status"], e["actor"]) for e in shown["events"]] == [
        ("received", "citizen"), ("in_progress", "staff:kim"),
    ]  # fmt: skip
    assert shown["contact_phone"] is True, "the phone number itself is not printed"


def test_list_json_filters_by_status(number: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["list", "--json", "--status", "received"]) == 0
    assert [t["number"] for t in json.loads(capsys.readouterr().out)] == [number]
    assert main(["list", "--json", "--status", "resolved"]) == 0
    assert json.loads(capsys.readouterr().out) == []


def test_unknown_numbers_and_bad_statuses(number: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["show", "2026-999999"]) == 1
    assert "no ticket 2026-999999" in capsys.readouterr().err
    assert main(["update", "nonsense", "--status", "resolved", "--note", "x"]) == 1
    with pytest.raises(SystemExit) as exit_info:
        main(["update", number, "--status", "done", "--note", "x"])
    assert exit_info.value.code == 2


def test_an_unreachable_database_is_a_clear_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none")
    assert main(["list"]) == 1
    assert "database is unreachable" in capsys.readouterr().err


def test_purge_contacts_forgets_phones_of_tickets_closed_long_enough_ago(
    number: str, sessions: sessionmaker[Session], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["purge-contacts"]) == 0
    assert "forgot 0 " in capsys.readouterr().out  # still open
    assert main(["update", number, "--status", "resolved", "--note", "치웠어요"]) == 0
    assert main(["purge-contacts"]) == 0
    assert "forgot 0 " in capsys.readouterr().out  # closed just now, within the year
    assert main(["purge-contacts", "--days", "0"]) == 0
    assert "forgot 1 " in capsys.readouterr().out
    with sessions() as session:
        ticket = find_ticket(session, number=number)
    assert ticket is not None and ticket.contact_phone is None and ticket.description == "쓰레기 무단투기"


def test_report_counts_by_the_dimensions_asked_for(number: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", "--by", "department,channel", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == [
        {"department": "자원순환과", "channel": "telegram", "tickets": 1, "open": 1, "overdue": 0}
    ]
    assert main(["report", "--by", "category", "--until", "2000-01-01", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []
    assert main(["report", "--by", "sender"]) == 2
    assert "district, category" in capsys.readouterr().err


def test_demo_tickets_are_filed_on_their_own_channel_and_deleted_alone(
    number: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["demo", "--count", "7000", "--days", "30"]) == 0
    assert "filed 7000 demo tickets" in capsys.readouterr().out
    assert main(["report", "--by", "channel", "--json"]) == 0
    counts = {r["channel"]: r["tickets"] for r in json.loads(capsys.readouterr().out)}
    assert counts == {"demo": 7000, "telegram": 1}
    assert main(["demo", "--delete"]) == 0
    assert "deleted 7000 demo tickets" in capsys.readouterr().out
    assert main(["list", "--json"]) == 0
    assert [t["number"] for t in json.loads(capsys.readouterr().out)] == [number]
