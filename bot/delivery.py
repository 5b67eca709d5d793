"""Messages that are not replies (an agent's, a ticket's new status): pushed now, or kept in the outbox."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any

from bot.messages import Outbound
from bot.store.conversations import mark_delivered, peek_outbox, pending_senders, queue_outbox, take_outbox
from bot.store.db import Database
from bot.transcript import Transcript

__all__ = ["Blocked", "Delivery", "Pusher"]

# Sends messages to a citizen now; returns False when it cannot (no open page, the messenger refused), and
# raises Blocked when the citizen blocked the bot.
Pusher = Callable[[str, list[Outbound]], Awaitable[bool]]


class Blocked(Exception):
    """The citizen blocked the bot in their messenger: nothing sent will reach them."""


class Delivery:
    """Push per channel where the channel can (web chat, Telegram); else the outbox (Kakao)."""

    def __init__(self, db: Database, transcript: Transcript) -> None:
        self.db = db
        self.transcript = transcript
        self.pushers: dict[str, Pusher] = {}
        self.sometimes: set[str] = set()

    def register(self, channel: str, pusher: Pusher, *, always: bool = True) -> None:
        """Let CHANNEL's PUSHER send messages that are not replies; ALWAYS False: only at some moments
        (Kakao: through a callback that is still open), so citizens are told to expect the outbox."""
        self.pushers[channel] = pusher
        if not always:
            self.sometimes.add(channel)

    def can_push(self, channel: str) -> bool:
        """Return whether CHANNEL can reach a citizen outside a reply at any time."""
        return channel in self.pushers and channel not in self.sometimes

    async def deliver(self, channel: str, sender: str, messages: list[Outbound]) -> bool:
        """Send MESSAGES to a citizen now if the channel can push; else keep them for their next message.

        Returns whether they were pushed. They are stored in the conversation either way.
        """
        await self.transcript.settled(f"{channel}:{sender}")
        await self.transcript.write(channel, sender, messages)
        pushed = await self.push(channel, sender, messages)
        if pushed == "unpushed":
            await self.keep(channel, sender, messages)
        return pushed == "sent"  # (a citizen who blocked the bot: kept nowhere)

    async def push(self, channel: str, sender: str, messages: list[Outbound]) -> str:
        """Push MESSAGES now if the channel can, storing nothing; return "sent", "blocked" (the citizen
        blocked the bot) or "unpushed" (no open page, a channel that cannot push, the messenger refused)."""
        pusher = self.pushers.get(channel)
        try:
            return "sent" if pusher is not None and await pusher(sender, messages) else "unpushed"
        except Blocked:
            return "blocked"

    async def keep(self, channel: str, sender: str, messages: list[Outbound]) -> None:
        """Keep MESSAGES in the outbox for the citizen's next message."""
        payload = [m.as_json() for m in messages]
        await self.db.run_or(
            lambda s: queue_outbox(s, channel=channel, sender=sender, messages=payload), None
        )

    async def take(self, channel: str, sender: str) -> list[Outbound]:
        """Take (and remove) what waits in SENDER's outbox."""
        waiting: list[dict[str, Any]] = await self.db.run_or(
            lambda s: take_outbox(s, channel=channel, sender=sender), []
        )
        return [Outbound.from_json(m) for m in waiting]

    async def flush(self) -> None:
        """Push what waits in the outbox wherever a channel can push now (not Kakao's: its outbox goes with
        the citizen's next message, or through a callback the moment one is open)."""
        for channel, push in self.pushers.items():
            if channel in self.sometimes:
                continue
            senders: list[str] = await self.db.run_or(functools.partial(pending_senders, channel=channel), [])
            for sender in senders:
                found: tuple[list[int], list[dict[str, Any]]] = await self.db.run_or(
                    functools.partial(peek_outbox, channel=channel, sender=sender), ([], [])
                )
                ids, waiting = found
                try:
                    pushed = bool(waiting) and await push(sender, [Outbound.from_json(m) for m in waiting])
                except Blocked:
                    pushed = True  # nothing will ever reach them: the outbox is done with
                if pushed:
                    await self.db.run_or(functools.partial(mark_delivered, ids=ids), None)
