"""Two gateways on one database and one Redis (the real server): an agent on one, the citizen on the other."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from bot.handoff import reception as reception_module
from bot.privacy import sign
from bot.store.agents import add_agent
from tests.bot.channels.helpers import SECRET, FakeRasa, gateway, stored
from tests.bot.channels.test_kakao import skill_request
from tests.bot.handoff.test_console import PROFILE, SENDER, WEEKDAY_NOON, handoff_row, login, say


def frames_until(socket: Any, text: str) -> list[str]:
    """Read the page's frames until one says TEXT; return every text read."""
    seen: list[str] = []
    while not any(text in t for t in seen):
        frame = socket.receive_json()
        seen += [m["text"] for m in frame.get("messages", [])]
    return seen


@pytest.fixture
def agent_at_noon(sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch) -> None:
    """An agent 김상담, at noon on a weekday (agents at work)."""
    monkeypatch.setattr(reception_module, "utcnow", lambda: WEEKDAY_NOON)
    with sessions.begin() as session:
        add_agent(session, "김상담", "a-long-password")


@pytest.mark.usefixtures("agent_at_noon")
def test_an_agent_on_one_gateway_reaches_a_citizen_on_another(
    database_url: str, redis_url: str, rasa: FakeRasa, sessions: sessionmaker[Session]
) -> None:
    with (
        gateway(database_url, rasa, redis_url=redis_url) as a,
        gateway(database_url, rasa, redis_url=redis_url) as b,
    ):
        csrf = login(a)
        with a.websocket_connect("/agent/ws") as console, b.websocket_connect("/web/ws") as citizen:
            citizen.send_text(json.dumps({"type": "hello", "sender": SENDER, "token": sign(SENDER)}))
            say(citizen, "상담원 연결")
            assert console.receive_json() == {"type": "queue"}  # published on B, heard on A
            handoff_id = handoff_row(sessions).id
            assert a.post(f"/agent/api/handoffs/{handoff_id}/claim", headers=csrf).status_code == 200
            reply = a.post(
                f"/agent/api/handoffs/{handoff_id}/reply", json={"text": "어디신가요?"}, headers=csrf
            )
            assert reply.json()["delivered"] == "now"
            assert "어디신가요?" in frames_until(citizen, "어디신가요?")


def test_a_guess_on_one_gateway_counts_on_the_other(
    database_url: str, redis_url: str, rasa: FakeRasa
) -> None:
    with (
        gateway(database_url, rasa, redis_url=redis_url) as a,
        gateway(database_url, rasa, redis_url=redis_url) as b,
    ):
        wrong = {"name": "김상담", "password": "wrong-password"}
        assert [a.post("/agent/api/login", json=wrong).status_code for _ in range(5)] == [401] * 5
        assert b.post("/agent/api/login", json=wrong).status_code == 429


def test_an_address_has_one_allowance_of_new_chats_across_gateways(
    database_url: str, redis_url: str, rasa: FakeRasa
) -> None:
    """Behind the load balancer, a script opening fresh conversations meets one limit on every gateway."""
    limits = (100, 100, 100, 100, 2, 10)  # two new conversations an hour from one address
    with (
        gateway(database_url, rasa, redis_url=redis_url, web_limits=limits) as a,
        gateway(database_url, rasa, redis_url=redis_url, web_limits=limits) as b,
    ):
        frames = []
        for i, client in enumerate([a, b, a, b]):
            with client.websocket_connect("/web/ws") as socket:
                socket.send_text(json.dumps({"type": "hello", "sender": f"shared-limit-{i:04d}"}))
                frames.append(socket.receive_json())
    assert [f["type"] for f in frames] == ["session", "session", "error", "error"]


@pytest.mark.usefixtures("agent_at_noon")
def test_a_kakao_callback_opened_on_one_gateway_carries_an_agents_answer_from_the_other(
    database_url: str, redis_url: str, rasa: FakeRasa, sessions: sessionmaker[Session]
) -> None:
    secret = {"X-Kakao-Skill-Secret": SECRET}

    def skill(client: TestClient, text: str, callback: str) -> dict[str, Any]:
        return client.post(
            "/kakao/skill", json=skill_request(text, callbackUrl=callback), headers=secret
        ).json()

    with (
        gateway(database_url, rasa, redis_url=redis_url) as a,
        gateway(database_url, rasa, redis_url=redis_url) as b,
    ):

        def posted(count: int) -> dict[str, Any]:
            deadline = time.monotonic() + 5
            while len(rasa.callbacks) < count and time.monotonic() < deadline:
                time.sleep(0.05)
            return dict(rasa.callbacks[count - 1]["template"])

        # The request that queued the chat on B holds its callback: the claim on A says hello through it.
        assert skill(b, "상담원 연결", "https://callback.kakao.com/cb/1")["useCallback"] is True
        handoff_id = handoff_row(sessions).id
        csrf = login(a)
        a.post(f"/agent/api/handoffs/{handoff_id}/claim", headers=csrf)
        greeting = posted(1)["outputs"][0]["simpleText"]["text"]
        assert greeting.endswith("[상담원] " + PROFILE.messages["handoff_claimed"])
        assert skill(b, "가로등이요", "https://callback.kakao.com/cb/3")["useCallback"] is True
        reply = a.post(f"/agent/api/handoffs/{handoff_id}/reply", json={"text": "확인할게요"}, headers=csrf)
        assert reply.json()["delivered"] == "now"
        assert [o["simpleText"]["text"] for o in posted(2)["outputs"]] == ["[상담원] 확인할게요"]


def test_a_conversations_turns_keep_their_order_across_gateways(
    database_url: str, redis_url: str, rasa: FakeRasa, sessions: sessionmaker[Session]
) -> None:
    """The second message reaches another gateway while the first one's turn is still with Rasa: it is
    stored after the first one's answer (it would otherwise come between the question and its answer)."""
    rasa.delay = 0.8
    secret = {"X-Kakao-Skill-Secret": SECRET}
    with (
        gateway(database_url, rasa, redis_url=redis_url) as a,
        gateway(database_url, rasa, redis_url=redis_url) as b,
    ):
        first = threading.Thread(
            target=lambda: a.post("/kakao/skill", json=skill_request("첫 번째"), headers=secret)
        )
        first.start()
        time.sleep(0.3)
        b.post("/kakao/skill", json=skill_request("두 번째"), headers=secret)
        first.join()
    assert [(d, t) for d, t, _ in stored(sessions)] == [
        ("in", "첫 번째"), ("out", "챗봇: 첫 번째"), ("in", "두 번째"), ("out", "챗봇: 두 번째"),
    ]  # fmt: skip
