"""Two gateways behind Debian's HAProxy, sharing Redis (the real server) and one Rasa: the scaled setup.

An agent's console and a citizen's web chat reach the balancer and land on different gateways; the citizen
asks for a person, the agent on the other gateway hears of it, claims the chat and answers, and the
citizen reads the answer. Then one gateway is killed (SIGKILL): the balancer sends the next connection to
the other one, and the citizen's conversation goes on with its key.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.client import WebSocketClientProtocol
from websockets.client import connect as connect_socket

from bench.stack import Stack, running_stack
from bot.store.agents import add_agent
from bot.store.db import session_factory

ROOT = Path(__file__).resolve().parents[2]
MODEL = ROOT / "models" / "minwon.tar.gz"
SENDER = "5ca1ed00-1234-4bcd-9a51-0c8e2d1f4b6a"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    if not MODEL.is_file():
        pytest.fail(f"{MODEL} is missing: run `make train` (make test does)")
    import redis

    url = (os.environ.get("TEST_REDIS_URL") or "redis://127.0.0.1:6379/15").rsplit("/", 1)[0] + "/14"
    redis.Redis.from_url(url).flushdb()
    with running_stack(MODEL, tmp_path_factory.mktemp("scaled"), gateways=2, redis_url=url) as running:
        with session_factory(running.database_url).begin() as session:
            add_agent(session, "김상담", "a-long-password")
        yield running


async def _open(url: str, **headers: str) -> tuple[WebSocketClientProtocol, str]:
    """Open a web socket through the balancer; return it and the gateway that took it."""
    socket = await connect_socket(url, extra_headers=headers)
    return socket, socket.response_headers.get("X-Served-By", "")


async def _until(socket: WebSocketClientProtocol, wanted: Any, seconds: float = 60) -> list[dict[str, Any]]:
    """Read frames until WANTED(frame) holds; return every frame read."""
    frames: list[dict[str, Any]] = []
    deadline = time.monotonic() + seconds
    while not frames or not wanted(frames[-1]):
        frames.append(json.loads(await asyncio.wait_for(socket.recv(), deadline - time.monotonic())))
    return frames


def _texts(frames: list[dict[str, Any]]) -> list[str]:
    return [m["text"] for f in frames for m in f.get("messages", [])]


def test_an_agent_and_a_citizen_on_different_gateways_and_a_gateway_killed(stack: Stack) -> None:
    base = stack.gateway_url or ""
    ws = base.replace("http://", "ws://")

    async def scenario() -> None:
        async with httpx.AsyncClient(base_url=base, timeout=30) as agent:
            login = await agent.post(
                "/agent/api/login", json={"name": "김상담", "password": "a-long-password"}
            )
            csrf = {"X-CSRF-Token": login.json()["csrf"]}
            cookie = f"minwon_agent={agent.cookies['minwon_agent']}"
            console, console_at = await _open(f"{ws}/agent/ws", Cookie=cookie)
            citizen, citizen_at = await _open(f"{ws}/web/ws")
            while citizen_at == console_at:  # round-robin: the next connection goes to the other gateway
                await citizen.close()
                citizen, citizen_at = await _open(f"{ws}/web/ws")
            assert {console_at, citizen_at} == {"gateway1", "gateway2"}

            await citizen.send(json.dumps({"type": "hello", "sender": SENDER}))
            token = (await _until(citizen, lambda f: f["type"] == "session"))[-1]["token"]
            await citizen.send(json.dumps({"sender": SENDER, "text": "사람이랑 직접 얘기하고 싶어요"}))
            await _until(citizen, lambda f: any("상담원에게 연결해 드릴게요" in t for t in _texts([f])))
            await _until(console, lambda f: f == {"type": "queue"})  # heard on the other gateway

            queue = (await agent.get("/agent/api/queue")).json()
            handoff_id = queue["handoffs"][0]["id"]
            assert (
                await agent.post(f"/agent/api/handoffs/{handoff_id}/claim", headers=csrf)
            ).status_code == 200
            reply = await agent.post(
                f"/agent/api/handoffs/{handoff_id}/reply", json={"text": "어느 동네 일인가요?"}, headers=csrf
            )
            assert reply.json()["delivered"] == "now"
            await _until(citizen, lambda f: "어느 동네 일인가요?" in _texts([f]))
            await console.close()
            await citizen.close()

            # The citizen's gateway dies; the page reconnects through the balancer, to the other one.
            os.kill(stack.pids["gateway-1" if citizen_at == "gateway1" else "gateway-2"], signal.SIGKILL)
            again, again_at = await _open(f"{ws}/web/ws")
            assert again_at != citizen_at
            await again.send(json.dumps({"type": "hello", "sender": SENDER, "token": token}))
            await again.send(json.dumps({"sender": SENDER, "text": "쌍용동이에요"}))
            await _until(again, lambda f: f["type"] == "messages")  # taken: the agent's chat goes on
            await again.close()
            detail = (await agent.get(f"/agent/api/handoffs/{handoff_id}")).json()
            assert [m["text"] for m in detail["messages"] if m["from"] == "citizen"][-1] == "쌍용동이에요"

    asyncio.run(scenario())
