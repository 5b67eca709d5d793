"""Console logins, throttled before any password is hashed, in bounded memory.

A login costs an scrypt hash (128 MiB, tens of milliseconds of a core). So that logins can neither guess
passwords nor starve the citizens' chats: every attempt is counted before hashing, per client address
(MAX_PER_ADDRESS in WINDOW) and per name (MAX_FAILURES failures in WINDOW; an attempt counts as a failure
until it succeeds, so parallel guesses are counted too); at most HASHERS hashes run at once, in threads of
their own (the database's threads stay free), and at most MAX_WAITING wait for one. Each table keeps at
most MAX_KEYS names or addresses, the oldest forgotten first.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from bot.store.agents import verify_password

__all__ = ["HASHERS", "LoginThrottle"]

WINDOW = 600.0
MAX_FAILURES = 5
MAX_PER_ADDRESS = 20
HASHERS, MAX_WAITING = 2, 8
MAX_KEYS = 10_000


class _Windows:
    """Times of recent events per key, within WINDOW, for at most MAX_KEYS keys."""

    def __init__(self) -> None:
        self.times: OrderedDict[str, deque[float]] = OrderedDict()

    def count(self, key: str, now: float) -> int:
        recent = self.times.get(key)
        if recent is None:
            return 0
        while recent and recent[0] <= now - WINDOW:
            recent.popleft()
        if not recent:
            del self.times[key]
            return 0
        return len(recent)

    def add(self, key: str, now: float) -> None:
        self.times.setdefault(key, deque()).append(now)
        self.times.move_to_end(key)
        while len(self.times) > MAX_KEYS:
            self.times.popitem(last=False)

    def remove_one(self, key: str) -> None:
        recent = self.times.get(key)
        if recent:
            recent.pop()


class LoginThrottle:
    """Decides whether a login attempt may be hashed; runs the hashes in a small pool of their own."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.addresses, self.names = _Windows(), _Windows()
        self.hashing = 0
        self.executor = ThreadPoolExecutor(max_workers=HASHERS, thread_name_prefix="login-hash")

    def admit(self, name: str, address: str) -> str | None:
        """Count an attempt before hashing; return why it is refused, or None (then call done())."""
        now = self.clock()
        if self.addresses.count(address, now) >= MAX_PER_ADDRESS:
            return "too many logins from this address; wait ten minutes"
        if self.names.count(name, now) >= MAX_FAILURES:
            return "too many failed logins; wait ten minutes"
        if self.hashing >= HASHERS + MAX_WAITING:
            return "too many logins at once; try again in a moment"
        self.addresses.add(address, now)
        self.names.add(name, now)  # a failure until it succeeds
        self.hashing += 1
        return None

    async def verify(self, password: str, stored: str) -> bool:
        """Check PASSWORD against the STORED hash in the login threads (not the database's)."""
        return await asyncio.get_running_loop().run_in_executor(
            self.executor, verify_password, password, stored
        )

    def done(self, name: str, *, succeeded: bool) -> None:
        """End an admitted attempt: a success takes back its count against the name."""
        self.hashing -= 1
        if succeeded:
            self.names.remove_one(name)
