"""Console logins, throttled before any password is hashed, in the state the gateways share.

A login costs an scrypt hash (128 MiB, tens of milliseconds of a core). So that logins can neither guess
passwords nor starve the citizens' chats: every attempt is counted before hashing, per client address
(MAX_PER_ADDRESS in WINDOW) and per name (MAX_FAILURES failures in WINDOW; an attempt counts as a failure
until it succeeds, so parallel guesses are counted too). The counts live in bot/shared.py's state: Redis
when several gateways run (a guess on one counts on all), else this process's bounded memory. At most
HASHERS hashes run at once in this process, in threads of their own (the database's threads stay free),
and at most MAX_WAITING wait for one.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from bot.shared import LocalShared, Shared
from bot.store.agents import verify_password

__all__ = ["HASHERS", "LoginThrottle"]

WINDOW = 600.0
MAX_FAILURES = 5
MAX_PER_ADDRESS = 20
HASHERS, MAX_WAITING = 2, 8


class LoginThrottle:
    """Decides whether a login attempt may be hashed; runs the hashes in a small pool of their own."""

    def __init__(self, shared: Shared | None = None, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.shared = shared or LocalShared(clock)
        self.hashing = 0
        self.executor = ThreadPoolExecutor(max_workers=HASHERS, thread_name_prefix="login-hash")

    async def admit(self, name: str, address: str) -> str | None:
        """Count an attempt before hashing; return why it is refused, or None (then call done()).

        Each count is taken after the attempt is added (and the attempt taken back if refused), so that
        attempts at the same moment, on one gateway or several, are all counted.
        """
        if self.hashing >= HASHERS + MAX_WAITING:
            return "too many logins at once; try again in a moment"
        self.hashing += 1
        by_address, by_name = f"login:address:{address}", f"login:name:{name}"
        await self.shared.add(by_address, WINDOW)
        if await self.shared.count(by_address, WINDOW) > MAX_PER_ADDRESS:
            await self.shared.remove_one(by_address)
            self.hashing -= 1
            return "too many logins from this address; wait ten minutes"
        await self.shared.add(by_name, WINDOW)  # a failure until it succeeds
        if await self.shared.count(by_name, WINDOW) > MAX_FAILURES:
            await self.shared.remove_one(by_name)
            await self.shared.remove_one(by_address)
            self.hashing -= 1
            return "too many failed logins; wait ten minutes"
        return None

    async def verify(self, password: str, stored: str) -> bool:
        """Check PASSWORD against the STORED hash in the login threads (not the database's)."""
        return await asyncio.get_running_loop().run_in_executor(
            self.executor, verify_password, password, stored
        )

    async def done(self, name: str, *, succeeded: bool) -> None:
        """End an admitted attempt: a success takes back its count against the name."""
        self.hashing -= 1
        if succeeded:
            await self.shared.remove_one(f"login:name:{name}")
