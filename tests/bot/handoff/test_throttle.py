"""Console logins are counted before hashing, per address and per name, in bounded memory or Redis."""

from __future__ import annotations

import asyncio

from bot import shared
from bot.handoff.throttle import HASHERS, MAX_FAILURES, MAX_PER_ADDRESS, MAX_WAITING, WINDOW, LoginThrottle


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_parallel_guesses_at_one_name_are_counted_before_any_hash() -> None:
    """8 wrong logins at once: only MAX_FAILURES get to hashing (they were all let through before)."""
    clock = Clock()
    gate = LoginThrottle(clock=clock)
    admitted = await asyncio.gather(*(gate.admit("김상담", f"10.0.0.{i}") for i in range(8)))
    assert admitted.count(None) == MAX_FAILURES
    assert admitted[MAX_FAILURES] == "too many failed logins; wait ten minutes"
    for _ in range(MAX_FAILURES):
        await gate.done("김상담", succeeded=False)
    assert await gate.admit("김상담", "10.0.1.1") is not None
    clock.now += WINDOW + 1
    assert await gate.admit("김상담", "10.0.1.1") is None


async def test_a_success_takes_back_its_count() -> None:
    gate = LoginThrottle(clock=Clock())
    for _ in range(MAX_FAILURES * 2):
        assert await gate.admit("김상담", "10.0.0.1") is None
        await gate.done("김상담", succeeded=True)


async def test_one_address_trying_many_names_is_stopped() -> None:
    gate = LoginThrottle(clock=Clock())
    for i in range(MAX_PER_ADDRESS):
        assert await gate.admit(f"name-{i}", "10.0.0.1") is None
        await gate.done(f"name-{i}", succeeded=False)
    assert await gate.admit("another", "10.0.0.1") == "too many logins from this address; wait ten minutes"
    assert await gate.admit("another", "10.0.0.2") is None


async def test_only_so_many_hashes_run_or_wait_at_once() -> None:
    gate = LoginThrottle(clock=Clock())
    for i in range(HASHERS + MAX_WAITING):
        assert await gate.admit(f"name-{i}", f"10.0.0.{i}") is None
    assert await gate.admit("one-more", "10.0.9.9") == "too many logins at once; try again in a moment"
    await gate.done("name-0", succeeded=False)
    assert await gate.admit("one-more", "10.0.9.9") is None


async def test_the_counts_stay_bounded_whatever_is_tried() -> None:
    gate = LoginThrottle(clock=Clock())
    for i in range(shared.MAX_KEYS + 500):
        await gate.admit(f"name-{i}", f"addr-{i}")
        await gate.done(f"name-{i}", succeeded=False)
    assert isinstance(gate.shared, shared.LocalShared) and len(gate.shared.events) == shared.MAX_KEYS
