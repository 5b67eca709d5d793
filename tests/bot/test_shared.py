"""The state the gateways share behaves the same in memory and in Redis (the real server of 127.0.0.1)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.shared import LocalShared, RedisShared, Shared


@pytest.fixture(params=["memory", "redis"])
async def state(request: pytest.FixtureRequest) -> AsyncIterator[Shared]:
    shared: Shared = (
        LocalShared() if request.param == "memory" else RedisShared(request.getfixturevalue("redis_url"))
    )
    yield shared
    await shared.close()


async def test_events_are_counted_in_a_sliding_window(state: Shared) -> None:
    for _ in range(3):
        await state.add("login:name:김상담", 0.3)
    assert await state.count("login:name:김상담", 0.3) == 3
    await state.remove_one("login:name:김상담")
    assert await state.count("login:name:김상담", 0.3) == 2
    await asyncio.sleep(0.4)
    assert await state.count("login:name:김상담", 0.3) == 0


async def test_a_bucket_gives_its_burst_then_refills_at_its_rate(state: Shared) -> None:
    taken = [await state.spend("rate:web-address:10.0.0.1", 10, 3) for _ in range(4)]
    assert taken == [True, True, True, False]
    assert not await state.spend("rate:web-address:10.0.0.1", 10, 3, cost=2)  # nothing taken
    assert await state.spend("rate:web-address:10.0.0.2", 10, 3)  # another address, its own bucket
    await asyncio.sleep(0.25)  # 2.5 tokens back
    assert await state.spend("rate:web-address:10.0.0.1", 10, 3, cost=2)
    assert not await state.spend("rate:web-address:10.0.0.1", 10, 3)


async def test_a_key_is_first_once_until_it_expires(state: Shared) -> None:
    assert await state.first("telegram:update:41", 0.3)
    assert not await state.first("telegram:update:41", 0.3)
    await asyncio.sleep(0.4)
    assert await state.first("telegram:update:41", 0.3)


async def test_a_value_is_taken_once(state: Shared) -> None:
    await state.put("kakao:callback:u1", "https://callback.kakao.com/1", 5)
    assert await state.get("kakao:callback:u1") == "https://callback.kakao.com/1"
    assert await asyncio.gather(*(state.take("kakao:callback:u1") for _ in range(3))) == [
        "https://callback.kakao.com/1", None, None,
    ]  # fmt: skip
    await state.put("short", "x", 0.2)
    await asyncio.sleep(0.3)
    assert await state.get("short") is None


async def test_presence_expires_unless_said_again(state: Shared) -> None:
    await state.mark("online:7", "gw-a:1", 0.3)
    await state.mark("online:7", "gw-b:2", 5)
    assert await state.present("online:7")
    await state.unmark("online:7", "gw-b:2")
    await asyncio.sleep(0.4)
    assert not await state.present("online:7")


async def test_published_events_reach_every_listener_and_are_counted(state: Shared) -> None:
    heard: list[dict[str, Any]] = []

    async def hear(event: dict[str, Any]) -> None:
        heard.append(event)

    state.listen("console", hear)
    listening = asyncio.create_task(state.run())
    if isinstance(state, RedisShared):
        await asyncio.wait_for(state.subscribed.wait(), 5)
    assert await state.publish("console", {"type": "queue", "한글": "좋아요"}) == 1
    assert await state.publish("nobody-listens", {"type": "queue"}) == 0
    for _ in range(50):
        if heard:
            break
        await asyncio.sleep(0.02)
    listening.cancel()
    assert heard == [{"type": "queue", "한글": "좋아요"}]


async def test_while_redis_is_away_the_gateway_goes_on_as_if_alone() -> None:
    """Found by make bench-faults: a Redis restart made the turn lock fail, and Kakao messages were lost."""
    away = RedisShared("redis://127.0.0.1:9/0")  # nothing listens there
    assert await away.acquire("turn:kakao:u1", 45, wait=3) is not None
    assert await away.first("telegram:update:1", 60) and await away.count("login:name:a", 600) == 0
    assert await away.get("web:page:x") is None and await away.publish("console", {"type": "queue"}) == 0
    assert await away.present("online:7")  # no agent's chats are released for Redis's absence
    assert await away.spend("rate:web-address:10.0.0.1", 1, 1, cost=5)  # no citizen refused for it
    await away.release("turn:kakao:u1", "token")
    await away.close()


async def test_a_round_job_runs_on_one_gateway_of_two_and_survives_its_failures(redis_url: str) -> None:
    gateways = [RedisShared(redis_url), RedisShared(redis_url)]
    ran: list[str] = []

    def job(name: str) -> Any:
        async def run() -> None:
            ran.append(name)
            raise RuntimeError("a failed round")  # logged; the next round runs

        return run

    tasks = [asyncio.create_task(g.every("sweep", 0.2, job(f"g{i}"))) for i, g in enumerate(gateways)]
    await asyncio.sleep(0.9)
    for task in tasks:
        task.cancel()
    for gateway in gateways:
        await gateway.close()
    assert 2 <= len(ran) <= 6  # about one a round (4 rounds), not one per gateway each round (8)
