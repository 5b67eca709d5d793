"""Token buckets per key: how often a socket or a client address may send.

A bucket holds up to BURST tokens and refills RATE tokens a second; each message takes one. Buckets keeps
them in bounded memory: at most MAX_KEYS keys, the least recently used forgotten first (a forgotten key
starts full again). bot.shared.Limit keeps them where the gateways share state (Redis with several
gateways), so that a client address has one allowance, not one per gateway.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable

__all__ = ["Buckets"]


class Buckets:
    """RATE tokens a second up to BURST, per key."""

    def __init__(
        self,
        rate: float,
        burst: float,
        *,
        max_keys: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rate, self.burst, self.max_keys, self.clock = rate, burst, max_keys, clock
        self.buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def take(self, key: str, cost: float = 1.0) -> bool:
        """Take COST tokens from KEY's bucket; return False (taking nothing) if it has too few."""
        now = self.clock()
        tokens, then = self.buckets.get(key, (self.burst, now))
        tokens = min(self.burst, tokens + (now - then) * self.rate)
        allowed = tokens >= cost
        self.buckets[key] = (tokens - cost if allowed else tokens, now)
        self.buckets.move_to_end(key)
        while len(self.buckets) > self.max_keys:
            self.buckets.popitem(last=False)
        return allowed
