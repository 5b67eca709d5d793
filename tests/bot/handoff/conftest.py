"""Handoff fixtures: cheap password hashes (the real cost is a setting, not behaviour), a fake Rasa, and a
gateway with two agents."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from bot.store import agents
from bot.store.agents import add_agent
from tests.bot.channels.helpers import FakeRasa, gateway


@pytest.fixture(autouse=True)
def cheap_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Hash with scrypt N=2^10 instead of 2^17: the same code, a thousandth of the time."""
    monkeypatch.setattr(agents, "_N", 2**10)


def bot_answers(body: dict[str, Any]) -> list[dict[str, Any]]:
    """Answer like Rasa: "상담원 연결" runs action_handoff; anything else is echoed."""
    if body["message"] == "상담원 연결":
        return [
            {"text": "상담원에게 연결해 드릴게요."},
            {"custom": {"handoff": {"reason": "requested", "guesses": [
                {"intent": "complaint", "category": "noise", "confidence": 0.42}]}}},
        ]  # fmt: skip
    return [{"text": f"챗봇: {body['message']}"}]


@pytest.fixture
def rasa() -> FakeRasa:
    return FakeRasa(answers=bot_answers)


@pytest.fixture
def client(database_url: str, rasa: FakeRasa, sessions: sessionmaker[Session]) -> Iterator[TestClient]:
    with sessions.begin() as session:
        add_agent(session, "김상담", "a-long-password")
        add_agent(session, "박상담", "another-password")
        add_agent(session, "최팀장", "supervisor-password", role="supervisor")
    with gateway(database_url, rasa, agent_grace=0.05, handoff_callback_after=0.0) as client:
        yield client
