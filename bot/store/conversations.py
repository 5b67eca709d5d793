"""Conversation repository: the messages the gateway saw, and answers waiting for a channel to take them."""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from typing import Any

from sqlalchemy import (
    Float,
    Integer,
    String,
    Text,
    bindparam,
    column,
    func,
    insert,
    inspect,
    select,
    table,
    update,
)
from sqlalchemy.orm import Session

from bot.privacy import mask_personal_data, seal, unseal
from bot.store.models import Message, OutboxItem, utcnow

__all__ = [
    "defer", "deferred", "mark_answered", "mark_delivered", "open_question", "peek_outbox", "pending_senders",
    "has_conversation", "messages_around", "queue_outbox", "record_message", "settle_deferred",
    "rasa_user_events", "take_outbox", "texts_since", "transcript",
    "unanswered_messages",
    "waiting_for_the_bot",
    "missed_by_the_bot",
]  # fmt: skip

# Every message passes here twice (in and out): statements built once, on the table, not the ORM class.
# Building an ORM statement for each call cost five times the database work (SQLAlchemy 1.4, SQLite).
_INSERT_MESSAGE = insert(Message.__table__)
_MARK_ANSWERED = (
    update(Message.__table__).where(Message.__table__.c.id == bindparam("message_id")).values(answered=True)
)


def record_message(
    session: Session,
    *,
    channel: str,
    sender: str,
    direction: str,
    text: str,
    data: dict[str, Any] | None = None,
) -> int:
    """Store one message (direction "in" from the citizen, "out" from the bot); return its id.

    A citizen's text is stored masked, and sealed as written if masking changed it (bot/privacy.py).
    """
    sealed = None
    if direction == "in":
        masked = mask_personal_data(text, plates=True)[0]
        text, sealed = masked, (seal(text) if masked != text else None)
    result = session.execute(
        _INSERT_MESSAGE,
        {
            "channel": channel, "sender": sender, "direction": direction, "text": text, "sealed": sealed,
            "data": json.dumps(data or {}, ensure_ascii=False), "answered": direction == "out",
            "created_at": utcnow(),
        },
    )  # fmt: skip
    return int(result.inserted_primary_key[0])


def has_conversation(session: Session, *, channel: str, sender: str) -> bool:
    """Return whether anything of the conversation is stored (a message, or something waiting for it)."""
    said = select(Message.id).where(Message.channel == channel, Message.sender == sender).limit(1)
    waiting = select(OutboxItem.id).where(OutboxItem.channel == channel, OutboxItem.sender == sender).limit(1)
    return session.scalar(said) is not None or session.scalar(waiting) is not None


def mark_answered(session: Session, *, message_id: int) -> None:
    """Record that the bot answered the citizen's message MESSAGE_ID."""
    session.execute(_MARK_ANSWERED, {"message_id": message_id})


def unanswered_messages(session: Session, *, channel: str, sender: str) -> list[str]:
    """Return the texts of a sender's messages that the bot never answered, oldest first."""
    query = (
        select(Message)
        .where(Message.channel == channel, Message.sender == sender)
        .where(Message.direction == "in", Message.answered.is_(False))
        .order_by(Message.id)
    )
    return [message.raw_text for message in session.scalars(query)]


def waiting_for_the_bot(
    session: Session, *, since: dt.datetime, channel: str | None = None, sender: str | None = None,
    before: int | None = None,
) -> dict[tuple[str, str], list[Message]]:  # fmt: skip
    """Return, per conversation (channel, sender), the citizen's messages since SINCE that Rasa missed
    (missed_by_the_bot) and that no answered message followed, oldest first; only CHANNEL and SENDER's,
    and only before message id BEFORE, when given."""
    waiting: dict[tuple[str, str], list[Message]] = {}
    query = (
        select(Message)
        .where(Message.direction == "in", Message.answered.is_(False), Message.created_at >= since)
        .where(Message.data.contains(_MISSED))
        .order_by(Message.id)
    )
    if channel is not None and sender is not None:
        query = query.where(Message.channel == channel, Message.sender == sender)
    if before is not None:
        query = query.where(Message.id < before)
    for message in session.scalars(query):
        waiting.setdefault((message.channel, message.sender), []).append(message)
    for (channel, sender), messages in list(waiting.items()):
        answered_after = session.scalar(
            select(func.max(Message.id)).where(
                Message.channel == channel, Message.sender == sender, Message.direction == "in",
                Message.answered.is_(True), Message.id > messages[0].id,
            )
        )  # fmt: skip
        if answered_after is not None:
            waiting[(channel, sender)] = [m for m in messages if m.id > answered_after]
            if not waiting[(channel, sender)]:
                del waiting[(channel, sender)]
    return waiting


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


def texts_since(session: Session, *, channel: str, sender: str, since: dt.datetime) -> list[str]:
    """Return what the citizen wrote since SINCE, oldest first."""
    query = (
        select(Message.text)
        .where(Message.channel == channel, Message.sender == sender, Message.direction == "in")
        .where(Message.created_at >= since)
        .order_by(Message.id)
    )
    return list(session.scalars(query))


# How far back the bot's last turn is looked for: the messages people sent meanwhile (an agent's chat).
_QUESTION_LOOKBACK = 30


def open_question(session: Session, *, channel: str, sender: str) -> dict[str, Any] | None:
    """Return the form question the bot's last turn left open ({"expects", "text", "buttons"}), or None.

    Only Rasa's turns record an expectation (Outbound.expects), so messages that people or the gateway
    sent since (a crisis block, an agent's chat) do not close the question: the form still waits for it.
    """
    query = (
        select(Message.__table__.c.text, Message.__table__.c.data)
        .where(Message.channel == channel, Message.sender == sender, Message.direction == "out")
        .order_by(Message.id.desc())
        .limit(_QUESTION_LOOKBACK)
    )
    for text, raw in session.execute(query):
        data = json.loads(raw or "{}")
        if "expects" in data:
            if not data["expects"]:
                return None
            return {"expects": str(data["expects"]), "text": text, "buttons": data.get("buttons") or []}
    return None


def _add_data(session: Session, message_id: int, fields: dict[str, Any]) -> None:
    """Add FIELDS to the JSON data of message MESSAGE_ID (if it exists)."""
    message = session.get(Message, message_id)
    if message is not None:
        message.data = json.dumps(json.loads(message.data or "{}") | fields, ensure_ascii=False)


# How a message that Rasa never saw (it was down) is marked in its data: only those are sent to it later.
_MISSED = '"missed": true'


def missed_by_the_bot(session: Session, *, message_id: int) -> None:
    """Mark message MESSAGE_ID as one Rasa never saw (it did not answer): waiting_for_the_bot finds it."""
    _add_data(session, message_id, {"missed": True})


def defer(session: Session, *, message_id: int, text: str) -> None:
    """Keep TEXT, a second request of the citizen's message MESSAGE_ID, for when the first is done."""
    _add_data(session, message_id, {"later": seal(text)})


def deferred(session: Session, *, channel: str, sender: str, since: dt.datetime) -> tuple[int, str] | None:
    """Return (message id, text) of the conversation's second request still waiting (said after SINCE)."""
    query = (
        select(Message.__table__.c.id, Message.__table__.c.data)
        .where(Message.channel == channel, Message.sender == sender, Message.direction == "in")
        .where(Message.created_at >= since)
        .order_by(Message.id.desc())
        .limit(_QUESTION_LOOKBACK)
    )
    for message_id, raw in session.execute(query):
        data = json.loads(raw or "{}")
        if data.get("later") and not data.get("later_done"):
            return int(message_id), unseal(data["later"]) or mask_personal_data(str(data["later"]))[0]
    return None


def settle_deferred(session: Session, *, message_id: int) -> None:
    """Record that the second request of MESSAGE_ID has gone to the bot."""
    _add_data(session, message_id, {"later_done": True})


def transcript(session: Session, *, channel: str, sender: str, limit: int = 200) -> list[Message]:
    """Return the conversation's last LIMIT messages, both ways, oldest first."""
    query = (
        select(Message)
        .where(Message.channel == channel, Message.sender == sender)
        .order_by(Message.id.desc())
        .limit(limit)
    )
    rows = list(session.scalars(query))
    session.expunge_all()
    return rows[::-1]


def messages_around(
    session: Session, *, channel: str, sender: str, moment: dt.datetime, before: dt.timedelta,
    after: dt.timedelta, limit: int = 60,
) -> list[Message]:  # fmt: skip
    """Return the conversation's messages from BEFORE ahead of MOMENT to AFTER it (at most LIMIT, the
    latest), oldest first: the chat a ticket came from."""
    query = (
        select(Message)
        .where(Message.channel == channel, Message.sender == sender)
        .where(Message.created_at >= moment - before, Message.created_at <= moment + after)
        .order_by(Message.id.desc())
        .limit(limit)
    )
    rows = list(session.scalars(query))
    session.expunge_all()
    return rows[::-1]


def pending_senders(session: Session, *, channel: str) -> list[str]:
    """Return the senders of CHANNEL with messages waiting in the outbox."""
    query = (
        select(OutboxItem.sender)
        .where(OutboxItem.channel == channel, OutboxItem.delivered_at.is_(None))
        .distinct()
    )
    return list(session.scalars(query))


def peek_outbox(session: Session, *, channel: str, sender: str) -> tuple[list[int], list[dict[str, Any]]]:
    """Return the ids and the messages waiting for a sender, oldest first, leaving them waiting."""
    items = session.scalars(
        select(OutboxItem)
        .where(OutboxItem.channel == channel, OutboxItem.sender == sender, OutboxItem.delivered_at.is_(None))
        .order_by(OutboxItem.id)
    ).all()
    return [i.id for i in items], [m for i in items for m in json.loads(i.data)]


def mark_delivered(session: Session, ids: list[int]) -> None:
    """Record that the outbox items IDS reached the citizen."""
    now = utcnow()
    for item in session.scalars(select(OutboxItem).where(OutboxItem.id.in_(ids))):
        item.delivered_at = now


# Rasa's own table (rasa.core.tracker_store.SQLTrackerStore), in the same database: read, never written.
_events = table(
    "events",
    column("id", Integer),
    column("sender_id", String),
    column("type_name", String),
    column("timestamp", Float),
    column("data", Text),
)


def rasa_user_events(session: Session, *, since: dt.datetime) -> dict[str, list[dict[str, Any]]] | None:
    """Return Rasa's user events since SINCE by conversation id; None without Rasa's events table."""
    if not inspect(session.connection()).has_table("events"):
        return None
    events: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for sender_id, data in session.execute(
        select(_events.c.sender_id, _events.c.data)
        .where(_events.c.type_name == "user", _events.c.timestamp >= since.timestamp())
        .order_by(_events.c.timestamp, _events.c.id)
    ):
        try:
            event = json.loads(data or "")
        except ValueError:
            continue
        if isinstance(event, dict):
            events[sender_id].append(event)
    return events
