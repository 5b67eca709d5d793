"""Sending card news to a topic's subscribers: on the profile's schedule, or when staff say so.

APScheduler fires each topic at its time in the city's time zone (one gateway of several: the first to take
the round's key); the broadcast's recipients are rows in the database (bot/store/broadcasts.py), sent in
batches under a lock that one gateway holds at a time, each marked as it is done. A gateway that stopped
half-way leaves pending rows that the next round (any gateway, every RESUME_EVERY seconds) goes on with.
Telegram's rate limits are kept by python-telegram-bot's AIORateLimiter on the gateway's bot (about 30
messages a second overall); a Telegram user who blocked the bot is unsubscribed; Kakao cannot push from a
skill, so Kakao subscribers get the cards with their next message (the outbox), like a closed web chat.

AT_ONCE recipients are pushed together and then recorded in one transaction (their rows, the conversation's
transcript, the outbox of those who could not be pushed); the step is shielded from a gateway's orderly stop.
Only a process killed between pushing and recording may send those few recipients the set again when the
broadcast resumes.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import logging
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from sqlalchemy.orm import Session

from bot.delivery import Delivery
from bot.messages import Outbound, fill
from bot.profile import CityProfile, Topic
from bot.shared import Shared
from bot.store.broadcasts import (
    CardSetView,
    finish_broadcast,
    pending_deliveries,
    settle_deliveries,
    start_broadcast,
    start_digests,
    unfinished_broadcasts,
)
from bot.store.db import Database, StoreUnavailable

__all__ = ["BATCH", "Broadcaster", "cards_of", "start_topic"]

logger = logging.getLogger(__name__)

BATCH = 200  # recipients per batch (one lock, one query)
AT_ONCE = 30  # recipients being sent to at the same time (the rate limiter decides how fast)
LOCK_FOR = 600.0  # seconds a batch may take before another gateway may take the broadcast over
RESUME_EVERY = 60.0
DIGEST_DAYS = dt.timedelta(days=7)  # a 읍·면·동's digest: the posts of the week before it is sent
_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def cards_of(card_set: CardSetView, button: str) -> list[Outbound]:
    """Return CARD_SET as it is sent: its title over its cards (a caption's first line: a card's title)."""
    cards = []
    for card in card_set.cards:
        caption = str(card.get("caption") or "").strip()
        first, _, rest = caption.partition("\n")
        made = {"title": first or card_set.title, "text": rest.strip(), "button": button}
        if card.get("image"):
            made["image"] = str(card["image"])
        if card.get("link"):
            made["url"] = str(card["link"])
        cards.append(made)
    return [Outbound(text=card_set.title, cards=tuple(cards))]


def start_topic(
    session: Session, *, profile: CityProfile, topic: str, now: dt.datetime | None = None
) -> list[tuple[int, CardSetView]]:
    """Start TOPIC's broadcasts: its newest card set that was never sent or, for a per-읍·면·동 topic, each
    읍·면·동's digest of the posts of the DIGEST_DAYS before NOW; return them (none: nothing new to send)."""
    if profile.news.subscriptions[topic].per_district:
        # Compared in UTC (SQLite keeps no zone and reads a stored time as UTC); named in the city's time.
        until = (now or dt.datetime.now(dt.timezone.utc)).astimezone(dt.timezone.utc)
        since = until - DIGEST_DAYS
        first, last = since.astimezone(profile.timezone), until.astimezone(profile.timezone)

        def title(district: str) -> str:
            return fill(
                profile.messages["district_digest"], district=district,
                since=f"{first.month}월 {first.day}일", until=f"{last.month}월 {last.day}일",
            )  # fmt: skip

        return start_digests(session, key=topic, since=since, title=title)
    started = start_broadcast(session, topic=topic)
    return [] if started is None else [started]


class Broadcaster:
    """Send card sets to subscribers, on schedule and after a restart."""

    def __init__(
        self, *, db: Database, delivery: Delivery, profile: CityProfile, shared: Shared, batch: int = BATCH
    ) -> None:
        self.db, self.delivery, self.shared, self.batch = db, delivery, shared, batch
        self.profile = profile
        self.stopping = False

    def trigger(self, topic: Topic) -> CronTrigger:
        """Return when TOPIC is sent: its weekday and time, in the city's time zone."""
        return CronTrigger(
            day_of_week=_WEEKDAYS[topic.day], hour=topic.time.hour, minute=topic.time.minute,
            timezone=self.profile.timezone,
        )  # fmt: skip

    async def send(self, topic: str) -> list[int]:
        """Start TOPIC's broadcasts (start_topic) and send them; return their ids."""
        try:
            started = await self.db.run(functools.partial(start_topic, profile=self.profile, topic=topic))
        except StoreUnavailable:
            logger.warning("%s was not sent: the database is away", topic)
            return []
        if not started:
            logger.info("nothing new for %s: nothing was sent", topic)
        for broadcast_id, card_set in started:
            await self.run(broadcast_id, card_set)
        return [broadcast_id for broadcast_id, _ in started]

    async def run(self, broadcast_id: int, card_set: CardSetView) -> bool:
        """Send BROADCAST_ID's pending recipients their card set, AT_ONCE at a time, while this gateway
        holds the broadcast's lock; return whether it is finished."""
        messages = cards_of(card_set, self.profile.messages["news_open"])
        stored = [m.as_json() for m in messages]
        key = f"broadcast:{broadcast_id}"
        while not self.stopping:
            token = await self.shared.acquire(key, LOCK_FOR)
            if token is None:
                return False  # another gateway is sending it
            try:
                batch = await self.db.run(
                    functools.partial(pending_deliveries, broadcast_id=broadcast_id, limit=self.batch)
                )
                if not batch:
                    await self.db.run(functools.partial(finish_broadcast, broadcast_id=broadcast_id))
                    logger.info("broadcast %d of %s finished", broadcast_id, card_set.topic)
                    return True
                for start in range(0, len(batch), AT_ONCE):
                    if self.stopping:
                        return False
                    # Pushed together, then recorded together (one transaction for the lot), shielded from
                    # an orderly stop so that what was sent is always recorded.
                    chunk = batch[start : start + AT_ONCE]
                    await asyncio.shield(self._chunk(chunk, messages, stored, card_set.topic))
            except StoreUnavailable:
                logger.warning("broadcast %d paused: the database is away", broadcast_id)
                return False
            finally:
                await self.shared.release(key, token)
        return False

    async def _chunk(
        self,
        chunk: list[tuple[int, str, str]],
        messages: list[Outbound],
        stored: list[dict[str, Any]],
        topic: str,
    ) -> None:
        async def push(channel: str, sender: str) -> str:
            try:
                return await self.delivery.push(channel, sender, messages)
            except Exception:  # noqa: BLE001 - one recipient's failure must not stop the others
                logger.exception("a broadcast to a %s conversation failed", channel)
                return "failed"

        statuses = await asyncio.gather(*(push(channel, sender) for _, channel, sender in chunk))
        done = [(row, "queued" if status == "unpushed" else status) for row, status in zip(chunk, statuses)]
        await self.db.run(functools.partial(settle_deliveries, done=done, messages=stored, topic=topic))

    async def resume(self) -> None:
        """Go on with every broadcast that stopped before its last recipient."""
        for broadcast_id, card_set in await self.db.run_or(unfinished_broadcasts, []):
            await self.run(broadcast_id, card_set)

    async def _fire(self, topic: str) -> None:
        if await self.shared.first(f"broadcast-round:{topic}", 3600):
            await self.send(topic)

    def scheduler(self) -> AsyncIOScheduler:
        """Return a scheduler with a job per topic (not started)."""
        scheduler = AsyncIOScheduler(timezone=self.profile.timezone)
        for key, topic in self.profile.news.subscriptions.items():
            scheduler.add_job(
                self._fire, self.trigger(topic), args=[key], id=f"broadcast-{key}", coalesce=True,
                misfire_grace_time=3600, max_instances=1,
            )  # fmt: skip
        return scheduler

    async def run_forever(self) -> None:
        """Send on schedule and resume what stopped (a task of the gateway's lifespan)."""
        if not self.profile.news.subscriptions:
            return
        scheduler = self.scheduler()
        scheduler.start()
        try:
            await self.shared.every("broadcasts", RESUME_EVERY, self.resume)
        finally:
            self.stopping = True
            scheduler.shutdown(wait=False)
