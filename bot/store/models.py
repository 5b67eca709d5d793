"""Tables: tickets and their timeline, messages and the outbox (SQLAlchemy 1.4). Alembic creates them."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, CheckConstraint, Column, DateTime, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import DeclarativeMeta, registry, relationship

__all__ = ["Base", "Message", "OutboxItem", "STATUSES", "Ticket", "TicketEvent", "utcnow"]

_registry = registry()


class Base(metaclass=DeclarativeMeta):
    """Declarative base (the SQLAlchemy 1.4 form that type checkers understand)."""

    __abstract__ = True
    registry = _registry
    metadata = _registry.metadata
    __init__ = _registry.constructor


# A ticket's life: received -> assigned -> in_progress -> resolved, or rejected at any point.
STATUSES = ("received", "assigned", "in_progress", "resolved", "rejected")
_STATUS_CHECK = "status IN ('received', 'assigned', 'in_progress', 'resolved', 'rejected')"


def utcnow() -> dt.datetime:
    """Return the current time, timezone-aware, in UTC."""
    return dt.datetime.now(dt.timezone.utc)


class Ticket(Base):
    """A complaint filed by a citizen; its public number is derived from id and year (2026-000123)."""

    __tablename__ = "tickets"
    __table_args__ = (CheckConstraint(_STATUS_CHECK, name="ck_tickets_status"),)

    id = Column(Integer, primary_key=True, autoincrement=True)
    category = Column(String(32), nullable=False)
    department = Column(String(100), nullable=False)
    district = Column(String(50))  # 읍·면·동
    location_text = Column(Text)
    latitude = Column(Float)
    longitude = Column(Float)
    description = Column(Text, nullable=False)
    photo_url = Column(Text)
    contact_phone = Column(String(32))  # only with consent (contact_consent_at set)
    contact_consent_at = Column(DateTime(timezone=True))
    channel = Column(String(16), nullable=False)
    sender = Column(String(128), nullable=False, index=True)
    status = Column(String(16), nullable=False, default="received")
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    updated_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)

    events = relationship("TicketEvent", order_by="TicketEvent.id", back_populates="ticket")


class TicketEvent(Base):
    """One step of a ticket's timeline: a status it entered, with a note for the citizen."""

    __tablename__ = "ticket_events"
    __table_args__ = (CheckConstraint(_STATUS_CHECK, name="ck_ticket_events_status"),)

    id = Column(Integer, primary_key=True, autoincrement=True)
    ticket_id = Column(Integer, ForeignKey("tickets.id", ondelete="CASCADE"), nullable=False, index=True)
    status = Column(String(16), nullable=False)
    note = Column(Text, nullable=False, default="")
    actor = Column(String(64), nullable=False)
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)

    ticket = relationship("Ticket", back_populates="events")


class Message(Base):
    """One message of a conversation as the gateway saw it: the citizen's (in) or the bot's (out)."""

    __tablename__ = "messages"
    __table_args__ = (CheckConstraint("direction IN ('in', 'out')", name="ck_messages_direction"),)

    id = Column(Integer, primary_key=True, autoincrement=True)
    channel = Column(String(16), nullable=False)
    sender = Column(String(128), nullable=False, index=True)
    direction = Column(String(3), nullable=False)
    text = Column(Text, nullable=False, default="")
    # JSON: a pressed button's payload, a photo or a place (in); buttons and images (out).
    data = Column(Text, nullable=False, default="{}")
    # For a citizen's message: whether the bot answered it (False while Rasa was down).
    answered = Column(Boolean, nullable=False, default=False)
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)


class OutboxItem(Base):
    """Answers waiting for a channel that cannot push (Kakao): sent with the citizen's next message."""

    __tablename__ = "outbox"

    id = Column(Integer, primary_key=True, autoincrement=True)
    channel = Column(String(16), nullable=False)
    sender = Column(String(128), nullable=False, index=True)
    data = Column(Text, nullable=False)  # JSON list of channel-neutral messages
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    delivered_at = Column(DateTime(timezone=True))
