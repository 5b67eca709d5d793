"""What the gateways share: in Redis when REDIS_URL is set (several gateways), else in this process's memory.

One small interface, two implementations that behave alike (tests/bot/test_shared.py runs both):
    windows    events per key in a sliding window (login throttling per address and per name)
    spend      token buckets per key (how fast one client address may write, open chats, ask for agents)
    first      whether a key is seen for the first time within a time (Telegram's update ids)
    put/take   short-lived values, taken once (Telegram's long button payloads, Kakao's open callbacks)
    presence   members with an expiry per key (which agents have a console open, on any gateway)
    locks      one holder at a time per key, for at most a time (a conversation's turn, on any gateway)
    publish    events to the handlers listening on a channel (console events; pushes to a web-chat page
               open on another gateway); publish returns how many listeners got the event
Keys are prefixed "minwon:"; every key expires, so Redis holds nothing forever.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import secrets
import time
from collections import OrderedDict, defaultdict
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, ParamSpec, TypeVar, cast

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from bot.limits import Buckets

__all__ = ["Limit", "LocalShared", "RedisShared", "Shared", "shared_from"]

logger = logging.getLogger(__name__)

Handler = Callable[[dict[str, Any]], Awaitable[None]]
P = ParamSpec("P")
R = TypeVar("R")
PREFIX = "minwon:"
MAX_KEYS = 10_000  # in memory: the least recently used key is forgotten first
LOCK_POLL = 0.02  # seconds between tries for a held lock
# Redis: delete KEYS[1] only if it still holds ARGV[1] (the holder's token).
_RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end"
# Redis: take ARGV[3] tokens from the bucket at KEYS[1] (refilling ARGV[1] a second up to ARGV[2]) if it
# has them; 1 if taken. Redis's own clock, so that every gateway counts alike.
_SPEND = """
local rate, burst, cost = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local kept = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(kept[1]) or burst
tokens = math.min(burst, tokens + math.max(0, now - (tonumber(kept[2]) or now)) * rate)
local taken = tokens >= cost
if taken then tokens = tokens - cost end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', string.format('%.6f', now))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate * 1000) + 1000)
if taken then return 1 else return 0 end
"""


class Shared:
    """The interface (and what both implementations have in common)."""

    # This process among the gateways (its own channel for pushes is "push:<id>").
    gateway_id: str

    def __init__(self) -> None:
        self.gateway_id = secrets.token_hex(4)
        self.handlers: dict[str, list[Handler]] = defaultdict(list)

    def listen(self, channel: str, handler: Handler) -> None:
        """Call HANDLER with every event published on CHANNEL (from any gateway), from now on."""
        self.handlers[channel].append(handler)

    async def _dispatch(self, channel: str, event: dict[str, Any]) -> None:
        for handler in list(self.handlers.get(channel, ())):
            try:
                await handler(event)
            except Exception:  # noqa: BLE001 - one handler's failure must not stop the others
                logger.exception("a handler of %s failed", channel)

    async def count(self, key: str, window: float) -> int:
        """Return how many events KEY had in the last WINDOW seconds."""
        raise NotImplementedError

    async def add(self, key: str, window: float) -> None:
        """Record an event of KEY (kept for WINDOW seconds)."""
        raise NotImplementedError

    async def remove_one(self, key: str) -> None:
        """Take back KEY's latest event."""
        raise NotImplementedError

    async def spend(self, key: str, rate: float, burst: float, cost: float = 1.0) -> bool:
        """Take COST tokens from KEY's bucket (RATE a second up to BURST); False, taking none, if too few."""
        raise NotImplementedError

    async def first(self, key: str, ttl: float) -> bool:
        """Return whether KEY is new (then it is remembered for TTL seconds)."""
        raise NotImplementedError

    async def put(self, key: str, value: str, ttl: float) -> None:
        """Keep VALUE under KEY for TTL seconds."""
        raise NotImplementedError

    async def get(self, key: str) -> str | None:
        """Return KEY's value, if it is kept."""
        raise NotImplementedError

    async def take(self, key: str) -> str | None:
        """Return KEY's value and forget it (only one caller gets it)."""
        raise NotImplementedError

    async def mark(self, key: str, member: str, ttl: float) -> None:
        """Say that MEMBER is present under KEY for TTL seconds (again: for TTL more)."""
        raise NotImplementedError

    async def unmark(self, key: str, member: str) -> None:
        """Say that MEMBER is gone from KEY."""
        raise NotImplementedError

    async def present(self, key: str) -> bool:
        """Return whether any member is present under KEY."""
        raise NotImplementedError

    async def publish(self, channel: str, event: dict[str, Any]) -> int:
        """Send EVENT to CHANNEL's listeners on every gateway; return how many listeners got it."""
        raise NotImplementedError

    async def acquire(self, key: str, ttl: float, *, wait: float | None = None) -> str | None:
        """Hold KEY (for at most TTL seconds); wait up to WAIT (default TTL) for its holder to release it.

        Returns the token that releases it, or None when the wait ran out (a holder that died keeps a key
        no longer than TTL; the caller goes on without it rather than lose a message).
        """
        token = secrets.token_hex(8)
        deadline = time.monotonic() + (ttl if wait is None else wait)
        while not await self._try(key, token, ttl):
            if time.monotonic() >= deadline:
                logger.warning("waited too long for %s; going on without it", key.split(":")[0])
                return None
            await asyncio.sleep(LOCK_POLL)
        return token

    async def _try(self, key: str, token: str, ttl: float) -> bool:
        raise NotImplementedError

    async def release(self, key: str, token: str | None) -> None:
        """Let go of KEY if TOKEN still holds it."""
        raise NotImplementedError

    async def every(self, name: str, seconds: float, job: Callable[[], Awaitable[Any]]) -> None:
        """Run JOB every SECONDS on one gateway of several (the first to take NAME's key each round), for
        ever (a task of the gateway's lifespan); a failed round is logged and the next one runs."""
        while True:
            await asyncio.sleep(seconds)
            try:
                if await self.first(name, seconds * 0.9):
                    await job()
            except Exception:  # noqa: BLE001 - the job must survive anything; the next round retries
                logger.exception("%s failed; it runs again in %.0f s", name, seconds)

    async def run(self) -> None:
        """Deliver published events to this process's listeners (a task of the gateway's lifespan)."""

    async def close(self) -> None:
        """Let go of connections."""


class LocalShared(Shared):
    """One gateway: everything in this process's memory, bounded."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self.clock = clock
        self.events: OrderedDict[str, list[float]] = OrderedDict()
        self.values: OrderedDict[str, tuple[str, float]] = OrderedDict()
        self.members: OrderedDict[str, dict[str, float]] = OrderedDict()
        self.buckets: dict[tuple[float, float], Buckets] = {}

    @staticmethod
    def _touch(table: OrderedDict[str, Any], key: str) -> None:
        table.move_to_end(key)
        while len(table) > MAX_KEYS:
            table.popitem(last=False)

    async def count(self, key: str, window: float) -> int:
        now = self.clock()
        recent = [t for t in self.events.get(key, []) if t > now - window]
        if recent:
            self.events[key] = recent
        else:
            self.events.pop(key, None)
        return len(recent)

    async def add(self, key: str, window: float) -> None:
        self.events.setdefault(key, []).append(self.clock())
        self._touch(self.events, key)

    async def remove_one(self, key: str) -> None:
        if self.events.get(key):
            self.events[key].pop()

    def _live(self, key: str) -> str | None:
        kept = self.values.get(key)
        if kept is None:
            return None
        if kept[1] <= self.clock():
            del self.values[key]
            return None
        return kept[0]

    async def spend(self, key: str, rate: float, burst: float, cost: float = 1.0) -> bool:
        if (rate, burst) not in self.buckets:
            self.buckets[rate, burst] = Buckets(rate, burst, clock=self.clock)
        return self.buckets[rate, burst].take(key, cost)

    async def first(self, key: str, ttl: float) -> bool:
        if self._live(key) is not None:
            return False
        await self.put(key, "1", ttl)
        return True

    async def put(self, key: str, value: str, ttl: float) -> None:
        self.values[key] = (value, self.clock() + ttl)
        self._touch(self.values, key)

    async def get(self, key: str) -> str | None:
        return self._live(key)

    async def take(self, key: str) -> str | None:
        value = self._live(key)
        self.values.pop(key, None)
        return value

    async def mark(self, key: str, member: str, ttl: float) -> None:
        self.members.setdefault(key, {})[member] = self.clock() + ttl
        self._touch(self.members, key)

    async def unmark(self, key: str, member: str) -> None:
        self.members.get(key, {}).pop(member, None)

    async def present(self, key: str) -> bool:
        now = self.clock()
        return any(until > now for until in self.members.get(key, {}).values())

    async def publish(self, channel: str, event: dict[str, Any]) -> int:
        listeners = len(self.handlers.get(channel, ()))
        await self._dispatch(channel, event)
        return listeners

    async def _try(self, key: str, token: str, ttl: float) -> bool:
        if self._live(f"lock:{key}") is not None:
            return False
        await self.put(f"lock:{key}", token, ttl)
        return True

    async def release(self, key: str, token: str | None) -> None:
        if token is not None and self._live(f"lock:{key}") == token:
            self.values.pop(f"lock:{key}", None)


def _or(default: Any) -> Callable[[Callable[P, Coroutine[Any, Any, R]]], Callable[P, Coroutine[Any, Any, R]]]:
    """While Redis is away (a restart), a shared call answers DEFAULT instead of failing the citizen's
    message: a turn goes on without its lock, a count is zero, a key is new, nothing is kept or heard."""

    def wrap(call: Callable[P, Coroutine[Any, Any, R]]) -> Callable[P, Coroutine[Any, Any, R]]:
        @functools.wraps(call)
        async def guarded(*args: P.args, **kwargs: P.kwargs) -> R:
            try:
                return await call(*args, **kwargs)
            except (RedisError, OSError) as exc:
                logger.warning("Redis did not answer (%s); going on without it", type(exc).__name__)
                return cast(R, default)

        return guarded

    return wrap


class RedisShared(Shared):
    """Several gateways: Redis at URL. Events go through Redis pub/sub, as JSON. While Redis is away, the
    gateways go on as if each were alone (_or), so no citizen's message is refused for it."""

    def __init__(self, url: str) -> None:
        super().__init__()
        self.redis = aioredis.from_url(url, decode_responses=True, socket_timeout=5, socket_connect_timeout=3)
        # Its own connection for listening: it waits for events as long as none come (no read timeout), and
        # pings now and then to notice a Redis that went away.
        self.listener = aioredis.from_url(
            url,
            decode_responses=True,
            socket_connect_timeout=3,
            socket_keepalive=True,
            health_check_interval=15,
        )
        self.subscribed = asyncio.Event()

    @_or(0)
    async def count(self, key: str, window: float) -> int:
        now = time.time()
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.zremrangebyscore(PREFIX + key, "-inf", now - window)
            pipe.zcard(PREFIX + key)
            _, count = await pipe.execute()
        return int(count)

    @_or(None)
    async def add(self, key: str, window: float) -> None:
        now = time.time()
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.zadd(PREFIX + key, {f"{now:.6f}:{secrets.token_hex(4)}": now})
            pipe.expire(PREFIX + key, max(1, int(window) + 1))
            await pipe.execute()

    @_or(None)
    async def remove_one(self, key: str) -> None:
        await self.redis.zpopmax(PREFIX + key)

    @_or(True)
    async def spend(self, key: str, rate: float, burst: float, cost: float = 1.0) -> bool:
        return bool(await self.redis.eval(_SPEND, 1, PREFIX + key, rate, burst, cost))

    @_or(True)
    async def first(self, key: str, ttl: float) -> bool:
        return bool(await self.redis.set(PREFIX + key, "1", nx=True, px=max(1, int(ttl * 1000))))

    @_or(None)
    async def put(self, key: str, value: str, ttl: float) -> None:
        await self.redis.set(PREFIX + key, value, px=max(1, int(ttl * 1000)))

    @_or(None)
    async def get(self, key: str) -> str | None:
        value = await self.redis.get(PREFIX + key)
        return None if value is None else str(value)

    @_or(None)
    async def take(self, key: str) -> str | None:
        value = await self.redis.getdel(PREFIX + key)
        return None if value is None else str(value)

    @_or(None)
    async def mark(self, key: str, member: str, ttl: float) -> None:
        until = time.time() + ttl
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.zadd(PREFIX + key, {member: until})
            pipe.expire(PREFIX + key, max(1, int(ttl) + 1))
            await pipe.execute()

    @_or(None)
    async def unmark(self, key: str, member: str) -> None:
        await self.redis.zrem(PREFIX + key, member)

    @_or(True)
    async def present(self, key: str) -> bool:
        return int(await self.redis.zcount(PREFIX + key, time.time(), "+inf")) > 0

    @_or(0)
    async def publish(self, channel: str, event: dict[str, Any]) -> int:
        return int(await self.redis.publish(PREFIX + channel, json.dumps(event, ensure_ascii=False)))

    @_or(True)
    async def _try(self, key: str, token: str, ttl: float) -> bool:
        return bool(await self.redis.set(f"{PREFIX}lock:{key}", token, nx=True, px=max(1, int(ttl * 1000))))

    @_or(None)
    async def release(self, key: str, token: str | None) -> None:
        if token is not None:
            await self.redis.eval(_RELEASE, 1, f"{PREFIX}lock:{key}", token)

    async def run(self) -> None:
        """Listen on every channel that has a handler by now (listen() comes first, while the gateway is
        built); after Redis goes away, subscribe again, a second apart."""
        if not self.handlers:
            return
        while True:
            try:
                async with self.listener.pubsub() as pubsub:
                    await pubsub.subscribe(*(PREFIX + c for c in self.handlers))
                    self.subscribed.set()
                    async for message in pubsub.listen():
                        if message.get("type") != "message":
                            continue
                        channel = str(message["channel"]).removeprefix(PREFIX)
                        try:
                            event = json.loads(message["data"])
                        except (TypeError, ValueError):
                            continue
                        if isinstance(event, dict):
                            await self._dispatch(channel, event)
            except (RedisError, OSError) as exc:
                self.subscribed.clear()
                logger.warning("Redis pub/sub lost (%s); subscribing again", type(exc).__name__)
                await asyncio.sleep(1.0)

    async def close(self) -> None:
        await self.redis.close()
        await self.listener.close()


class Limit:
    """RATE tokens a second up to BURST per key, named NAME, in the gateways' shared state."""

    def __init__(self, shared: Shared, name: str, rate: float, burst: float) -> None:
        self.shared, self.name, self.rate, self.burst = shared, name, rate, burst

    async def take(self, key: str, cost: float = 1.0) -> bool:
        """Take COST tokens from KEY's bucket; return False (taking nothing) if it has too few."""
        return await self.shared.spend(f"rate:{self.name}:{key}", self.rate, self.burst, cost)


def shared_from(redis_url: str) -> Shared:
    """Return Redis-backed state for REDIS_URL, or this process's own without it."""
    return RedisShared(redis_url) if redis_url else LocalShared()
