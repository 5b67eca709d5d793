"""The retention rule in the database: what is older than the kept days is deleted (bot/retention.py)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Float, String, column, delete, exists, inspect, table, update
from sqlalchemy.orm import Session

from bot.store.live import forget_citizens
from bot.store.models import Label, Message, OutboxItem, utcnow
from bot.store.tickets import purge_contacts

__all__ = ["apply_retention"]

# Rasa's own table (rasa.core.tracker_store.SQLTrackerStore), in the same database.
_EVENTS = table("events", column("sender_id", String), column("timestamp", Float))


def apply_retention(session: Session, *, days: int, now: dt.datetime | None = None) -> dict[str, int]:
    """Delete what is older than DAYS days; return how many rows of each kind went."""
    cutoff = (now or utcnow()) - dt.timedelta(days=days)
    old = Message.created_at < cutoff
    labelled = exists().where(Label.message_id == Message.id)
    counts = {
        "messages_deleted": session.execute(
            delete(Message).where(old, ~labelled).execution_options(synchronize_session=False)
        ).rowcount,
        "labelled_messages_unsealed": session.execute(
            update(Message)
            .where(old, labelled, Message.sealed.is_not(None))
            .values(sealed=None)
            .execution_options(synchronize_session=False)
        ).rowcount,
        "outbox_deleted": session.execute(
            delete(OutboxItem)
            .where(OutboxItem.created_at < cutoff)
            .execution_options(synchronize_session=False)
        ).rowcount,
        "events_deleted": 0,
    }
    if inspect(session.connection()).has_table("events"):
        counts["events_deleted"] = session.execute(
            delete(_EVENTS).where(_EVENTS.c.timestamp < cutoff.timestamp())
        ).rowcount
    counts["ticket_contacts_forgotten"] = purge_contacts(session)
    counts["live_citizens_forgotten"] = forget_citizens(session, before=cutoff)
    return counts
