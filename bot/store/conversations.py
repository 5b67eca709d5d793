"""Conversation repository: the messages the gateway saw, and answers waiting for a channel to take them."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.store.models import Message, OutboxItem, utcnow

__all__ = ["mark_answered", "queue_outbox", "record_message", "take_outbox", "unanswered_messages"]


def record_message(
    session: Session,
    *,
    channel: str,
    sender: str,
    direction: str,
    text: str,
    data: dict[str, Any] | None = None,
) -> int:
    """Store one message (direction "in" from the citizen, "out" from the bot); return its id."""
    message = Message(
        channel=channel, sender=sender, direction=direction, text=text,
        data=json.dumps(data or {}, ensure_ascii=False), answered=direction == "out", created_at=utcnow(),
    )  # fmt: skip
    session.add(message)
    session.flush()
    return int(message.id)


def mark_answered(session: Session, *, message_id: int) -> None:
    """Record that the bot answered the citizen's message MESSAGE_ID."""
    message = session.get(Message, message_id)
    if message is not None:
        message.answered = True


def unanswered_messages(session: Session, *, channel: str, sender: str) -> list[str]:
    """Return the texts of a sender's messages that the bot never answered, oldest first."""
    query = (
        select(Message.text)
        .where(Message.channel == channel, Message.sender == sender)
        .where(Message.direction == "in", Message.answered.is_(False))
        .order_by(Message.id)
    )
    return list(session.scalars(query))


def queue_outbox(session: Session, *, channel: str, sender: str, messages: list[dict[str, Any]]) -> None:
    """Keep MESSAGES for a sender until the channel can deliver them."""
    session.add(
        OutboxItem(
            channel=channel, sender=sender, data=json.dumps(messages, ensure_ascii=False), created_at=utcnow()
        )
    )
    session.flush()


def take_outbox(session: Session, *, channel: str, sender: str) -> list[dict[str, Any]]:
    """Return a sender's waiting messages, oldest first, and mark them delivered."""
    query = (
        select(OutboxItem)
        .where(OutboxItem.channel == channel, OutboxItem.sender == sender, OutboxItem.delivered_at.is_(None))
        .order_by(OutboxItem.id)
        .with_for_update(skip_locked=True)
    )
    waiting: list[dict[str, Any]] = []
    now = utcnow()
    for item in session.scalars(query):
        waiting.extend(json.loads(item.data))
        item.delivered_at = now
    session.flush()
    return waiting
