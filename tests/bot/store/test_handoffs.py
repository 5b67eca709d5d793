"""The handoff queue on SQLite and PostgreSQL: one open handoff per chat, order, atomic claims."""

from __future__ import annotations

import datetime as dt
import json
import threading

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.handoff.__main__ import main
from bot.privacy import short_id
from bot.store import handoffs
from bot.store.agents import add_agent
from bot.store.models import Handoff


def _agents(sessions: sessionmaker[Session], n: int) -> list[int]:
    with sessions.begin() as session:
        return [add_agent(session, f"agent{i}", "a-long-password") for i in range(n)]


def _open(sessions: sessionmaker[Session], sender: str, priority: str = "normal") -> handoffs.HandoffView:
    with sessions.begin() as session:
        handoff, _ = handoffs.open_handoff(
            session, channel="web", sender=sender, reason="requested", priority=priority,
            guesses=[{"intent": "complaint", "category": "noise", "confidence": 0.4}],
        )  # fmt: skip
        return handoff


def test_a_chat_has_one_open_handoff_and_a_crisis_makes_it_urgent(sessions: sessionmaker[Session]) -> None:
    first = _open(sessions, "a")
    with sessions.begin() as session:
        again, new = handoffs.open_handoff(
            session, channel="web", sender="a", reason="crisis:suicide", priority="urgent"
        )
    assert (
        not new and again.id == first.id and again.priority == "urgent" and again.reason == "crisis:suicide"
    )
    assert first.guesses[0]["category"] == "noise"


def test_the_queue_is_urgent_first_then_longest_waiting(sessions: sessionmaker[Session]) -> None:
    a, b = _open(sessions, "a"), _open(sessions, "b")
    c = _open(sessions, "c", priority="urgent")
    with sessions() as session:
        assert [h.sender for h in handoffs.listing(session)] == ["c", "a", "b"]
        assert [handoffs.position(session, h) for h in (c, a, b)] == [1, 2, 3]


def test_only_one_of_many_agents_claiming_at_once_gets_the_chat(sessions: sessionmaker[Session]) -> None:
    agents = _agents(sessions, 8)
    handoff = _open(sessions, "a")
    barrier, results = threading.Barrier(len(agents)), {}

    def claim(agent_id: int) -> None:
        with sessions.begin() as session:
            barrier.wait()
            results[agent_id] = handoffs.claim(session, handoff.id, agent_id)

    threads = [threading.Thread(target=claim, args=(a,)) for a in agents]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    winners = [a for a, won in results.items() if won]
    assert len(results) == len(agents) and len(winners) == 1
    with sessions() as session:
        row = session.scalars(select(Handoff)).one()
        assert row.status == "assigned" and row.agent_id == winners[0]


def test_only_the_assigned_agent_closes_and_a_gone_agents_chats_go_back(
    sessions: sessionmaker[Session],
) -> None:
    mine, other = _agents(sessions, 2)
    a, b = _open(sessions, "a"), _open(sessions, "b")
    with sessions.begin() as session:
        assert handoffs.claim(session, a.id, mine) and handoffs.claim(session, b.id, mine)
        assert handoffs.close(session, a.id, agent_id=other) is None
        closed = handoffs.close(session, a.id, agent_id=mine)
        assert closed is not None and closed.status == "closed" and closed.closed_at is not None
        released = handoffs.release_agent(session, mine)
    assert [(h.id, h.status, h.agent) for h in released] == [(b.id, "waiting", None)]
    with sessions() as session:
        assert handoffs.state(session, channel="web", sender="a") == (None, [a.id])
        handoff, ended = handoffs.state(session, channel="web", sender="b")
        assert handoff is not None and handoff.id == b.id and handoff.status == "waiting" and ended == []


def test_a_long_wait_is_offered_a_callback_once(sessions: sessionmaker[Session]) -> None:
    _open(sessions, "a")
    with sessions.begin() as session:
        assert handoffs.offer_callbacks(session, older_than=dt.timedelta(hours=1)) == []
        assert [h.sender for h in handoffs.offer_callbacks(session, older_than=dt.timedelta(0))] == ["a"]
        assert handoffs.offer_callbacks(session, older_than=dt.timedelta(0)) == []


def test_the_command_line_lists_the_queue_as_json(
    sessions: sessionmaker[Session], database_url: str, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    _open(sessions, "a")
    _open(sessions, "b", priority="urgent")
    monkeypatch.setenv("DATABASE_URL", database_url)
    assert main(["list", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    # Operators see a short hash of the conversation id, never the id itself.
    assert [(r["sender"], r["priority"], r["status"]) for r in rows] == [
        (short_id("b"), "urgent", "waiting"),
        (short_id("a"), "normal", "waiting"),
    ]
    assert set(rows[0]) >= {"id", "channel", "sender", "status", "priority", "reason", "waiting_seconds"}
