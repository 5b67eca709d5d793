"""The retention job: old conversations go, labelled training messages stay masked, Rasa's events too."""

from __future__ import annotations

import datetime as dt
import json
import os
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, sessionmaker

from bot import retention
from bot.store import live
from bot.store.agents import add_agent
from bot.store.conversations import queue_outbox, record_message
from bot.store.labels import add_label
from bot.store.models import LiveFollower, LiveQuestion, LiveVote, Message, OutboxItem, utcnow

NOW = utcnow()
OLD = NOW - dt.timedelta(days=91)


def _said(session: Session, text_: str, at: dt.datetime) -> int:
    message_id = record_message(session, channel="web", sender="c1", direction="in", text=text_)
    session.get(Message, message_id).created_at = at  # type: ignore[union-attr]
    return message_id


def _events(session: Session, *timestamps: float) -> None:
    """Rasa's events table (SQLTrackerStore's columns) with events at TIMESTAMPS."""
    session.execute(text(
        "CREATE TABLE IF NOT EXISTS events (id INTEGER PRIMARY KEY, sender_id VARCHAR(255), "
        "type_name VARCHAR(255), timestamp FLOAT, intent_name VARCHAR(255), action_name VARCHAR(255), "
        "data TEXT)"
    ))  # fmt: skip
    for i, moment in enumerate(timestamps, start=1):
        session.execute(
            text("INSERT INTO events VALUES (:i, 'web:c1', 'user', :t, NULL, NULL, '{}')"),
            {"i": i, "t": moment},
        )


def test_old_conversations_go_and_labelled_messages_stay_masked(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        _said(session, "오래된 메시지 010-1234-5678", OLD)
        kept = _said(session, "라벨 붙은 메시지 010-2222-3333", OLD)
        _said(session, "어제 메시지 010-4444-5555", NOW - dt.timedelta(days=1))
        add_label(session, message_id=kept, intent="complaint", category="noise",
                  agent_id=add_agent(session, "김상담", "a-long-password"))  # fmt: skip
        queue_outbox(session, channel="kakao", sender="c1", messages=[{"text": "안녕하세요"}])
        session.execute(OutboxItem.__table__.update().values(created_at=OLD))
        queue_outbox(session, channel="kakao", sender="c1", messages=[{"text": "새 답"}])
        _events(session, OLD.timestamp(), NOW.timestamp())
    with sessions.begin() as session:
        counts = retention.apply_retention(session, days=90)
    assert counts == {
        "messages_deleted": 1, "labelled_messages_unsealed": 1, "outbox_deleted": 1, "events_deleted": 1,
        "ticket_contacts_forgotten": 0, "live_citizens_forgotten": 0,
    }  # fmt: skip
    with sessions() as session:
        rows = {m.text: m.sealed for m in session.scalars(select(Message))}
        assert rows.keys() == {"라벨 붙은 메시지 ***-****-****", "어제 메시지 ***-****-****"}
        assert rows["라벨 붙은 메시지 ***-****-****"] is None  # no raw text left to open
        assert rows["어제 메시지 ***-****-****"] is not None
        assert session.scalar(select(func.count()).select_from(OutboxItem)) == 1
        assert session.execute(text("SELECT count(*) FROM events")).scalar() == 1


def test_a_past_live_session_keeps_its_questions_and_support_but_not_who_asked_or_agreed(
    sessions: sessionmaker[Session],
) -> None:
    with sessions.begin() as session:
        old = live.add_session(
            session, title="2026 여름 소통라이브", opens_at=OLD - dt.timedelta(days=9),
            closes_at=OLD - dt.timedelta(days=1), airs_at=OLD, stream_url="https://youtu.be/old", by="홍보팀",
        )  # fmt: skip
        added = live.add_question(
            session, session_id=old, channel="web", sender="page-asker-1", text="분수대는 언제 고쳐요?",
            district=None, topic="other", most=3, now=OLD - dt.timedelta(days=5),
        )  # fmt: skip
        assert added is not None
        live.vote(
            session,
            question_id=added[0].id,
            channel="kakao",
            sender="kakao-agreer-1",
            now=OLD - dt.timedelta(days=4),
        )
        live.follow(session, session_id=old, channel="web", sender="page-asker-1")
    with sessions.begin() as session:
        assert retention.apply_retention(session, days=90)["live_citizens_forgotten"] == 3
    with sessions.begin() as session:
        assert retention.apply_retention(session, days=90)["live_citizens_forgotten"] == 0
        ids = {*session.scalars(select(LiveQuestion.sender)), *session.scalars(select(LiveVote.sender))}
        assert session.scalars(select(LiveFollower)).all() == []
        [group] = live.ranking(session, session_id=old)
    assert all(i.startswith("#") for i in ids) and len(ids) == 2
    assert (group["supporters"], group["questions"][0]["text"]) == (2, "분수대는 언제 고쳐요?")


def test_the_command_line_counts_without_deleting_on_a_dry_run(
    sessions: sessionmaker[Session],
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("PHOTOS_DIR", str(tmp_path))
    with sessions.begin() as session:
        _said(session, "오래된 메시지", OLD)
    photo = tmp_path / "0123456789ab" / f"{'f' * 32}.jpg"  # a web-chat upload no ticket kept
    photo.parent.mkdir()
    photo.write_bytes(b"\xff\xd8")
    long_ago = time.time() - 100 * 86400
    os.utime(photo, (long_ago, long_ago))
    assert retention.main(["--dry-run"]) == 0
    counted = json.loads(capsys.readouterr().out)
    assert (counted["messages_deleted"], counted["photos_deleted"]) == (1, 1) and photo.exists()
    assert retention.main(["--days", "90"]) == 0
    assert json.loads(capsys.readouterr().out) == {
        "days": 90, "dry_run": False, "messages_deleted": 1, "labelled_messages_unsealed": 0,
        "outbox_deleted": 0, "events_deleted": 0, "ticket_contacts_forgotten": 0,
        "live_citizens_forgotten": 0, "photos_deleted": 1,
    }  # fmt: skip
    assert not photo.exists()
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Message)) == 0


def test_a_message_is_stored_masked_and_sealed(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        message_id = _said(session, "주민번호 900101-1234567 카드 1234-5678-9012-3456", NOW)
        plain = _said(session, "가로등이 꺼졌어요", NOW)
    with sessions() as session:
        message = session.get(Message, message_id)
        assert message is not None and "1234567" not in message.text and "1234567" not in message.sealed
        assert message.raw_text == "주민번호 900101-1234567 카드 1234-5678-9012-3456"
        unmasked = session.get(Message, plain)
        assert unmasked is not None and unmasked.sealed is None and unmasked.raw_text == "가로등이 꺼졌어요"
