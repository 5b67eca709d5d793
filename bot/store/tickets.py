"""Ticket repository: filing, finding and moving complaint tickets through their timeline.

Public numbers read like 2026-000123: the year the ticket was filed and its row id. The id comes from
the database, so numbers are unique however many tickets are filed at once, and no counter is kept.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from bot.privacy import short_id
from bot.store.models import STATUSES, Ticket, TicketEvent, utcnow

__all__ = [
    "CONTACT_RETENTION", "DESCRIPTION_LIMIT", "EventView", "InvalidStatus", "TicketNotFound", "TicketView",
    "file_ticket", "filed_just_now", "find_ticket", "format_number", "list_tickets", "parse_number",
    "photo_refs", "purge_contacts", "recent_tickets", "update_status",
]  # fmt: skip

# How long a phone number is kept after its ticket was closed: the consent question promises a year
# (utter_ask_complaint_contact_consent in domain.yml).
CONTACT_RETENTION = dt.timedelta(days=365)
_CLOSED = ("resolved", "rejected")
# A description longer than this is cut here (and the citizen told so by the form).
DESCRIPTION_LIMIT = 2000
# The same citizen's same answers filed again within this are the same complaint (filed_just_now).
REFILED_WITHIN = dt.timedelta(minutes=10)
# Six digits, more once a city has filed a million tickets; at most nine, so the id fits PostgreSQL's integer.
_NUMBER = re.compile(r"^\s*(\d{4})-(\d{6,9})\s*$")


class TicketNotFound(LookupError):
    """No ticket has that number."""


class InvalidStatus(ValueError):
    """A status outside received, assigned, in_progress, resolved, rejected."""


@dataclass(frozen=True)
class EventView:
    """One step of a ticket's timeline."""

    status: str
    note: str
    actor: str
    at: dt.datetime


@dataclass(frozen=True)
class TicketView:
    """A ticket as the actions, the CLI and the console see it."""

    number: str
    category: str
    department: str
    district: str | None
    location_text: str | None
    latitude: float | None
    longitude: float | None
    description: str
    photo_url: str | None
    contact_phone: str | None
    channel: str
    sender: str
    status: str
    created_at: dt.datetime
    updated_at: dt.datetime
    events: tuple[EventView, ...]

    def as_json(self, *, with_contact: bool = False) -> dict[str, object]:
        """Return a JSON-ready dict; the phone number only when WITH_CONTACT."""
        return {
            "number": self.number, "category": self.category, "department": self.department,
            "district": self.district, "location": self.location_text,
            "coordinates": None if self.latitude is None else [self.latitude, self.longitude],
            "description": self.description, "photo_url": self.photo_url,
            "contact_phone": self.contact_phone if with_contact else bool(self.contact_phone),
            "channel": self.channel, "sender": short_id(self.sender), "status": self.status,
            "created_at": self.created_at.isoformat(), "updated_at": self.updated_at.isoformat(),
            "events": [
                {"status": e.status, "note": e.note, "actor": e.actor, "at": e.at.isoformat()}
                for e in self.events
            ],
        }  # fmt: skip


def format_number(ticket_id: int, created_at: dt.datetime) -> str:
    """Return the public number of a ticket."""
    return f"{created_at.year}-{ticket_id:06d}"


def parse_number(text: str) -> tuple[int, int] | None:
    """Return (year, id) of a public number like 2026-000123, or None if TEXT is not one."""
    match = _NUMBER.match(text or "")
    if not match:
        return None
    return int(match.group(1)), int(match.group(2))


def _aware(moment: dt.datetime) -> dt.datetime:
    # SQLite returns naive datetimes for what was stored in UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.timezone.utc)


def _view(ticket: Ticket) -> TicketView:
    created = _aware(ticket.created_at)
    return TicketView(
        number=format_number(ticket.id, created), category=ticket.category, department=ticket.department,
        district=ticket.district, location_text=ticket.location_text, latitude=ticket.latitude,
        longitude=ticket.longitude, description=ticket.description, photo_url=ticket.photo_url,
        contact_phone=ticket.contact_phone, channel=ticket.channel, sender=ticket.sender,
        status=ticket.status, created_at=created, updated_at=_aware(ticket.updated_at),
        events=tuple(EventView(e.status, e.note, e.actor, _aware(e.created_at)) for e in ticket.events),
    )  # fmt: skip


def file_ticket(
    session: Session,
    *,
    category: str,
    department: str,
    description: str,
    channel: str,
    sender: str,
    note: str,
    district: str | None = None,
    location_text: str | None = None,
    latitude: float | None = None,
    longitude: float | None = None,
    photo_url: str | None = None,
    contact_phone: str | None = None,
    contact_consent: bool = False,
) -> TicketView:
    """Add a ticket and its first event ("received") to SESSION's transaction; return it.

    A phone number is stored only with the citizen's consent; without it, it is dropped here.
    """
    now = utcnow()
    ticket = Ticket(
        category=category, department=department, district=district, location_text=location_text,
        latitude=latitude, longitude=longitude, description=description[:DESCRIPTION_LIMIT],
        photo_url=photo_url, contact_phone=contact_phone if contact_consent else None,
        contact_consent_at=now if contact_consent and contact_phone else None,
        channel=channel, sender=sender, status="received", created_at=now, updated_at=now,
    )  # fmt: skip
    ticket.events.append(TicketEvent(status="received", note=note, actor="citizen", created_at=now))
    session.add(ticket)
    session.flush()
    return _view(ticket)


def filed_just_now(
    session: Session, *, channel: str, sender: str, category: str, description: str,
    location_text: str | None, within: dt.timedelta = REFILED_WITHIN,
) -> TicketView | None:  # fmt: skip
    """Return the ticket this citizen filed with these very answers within WITHIN, if any.

    A form's last turn can be cut after its ticket was filed (the gateway that carried it died, Rasa never
    saved the turn); the citizen's "접수해 주세요" again must answer with that ticket, not file a second one.
    """
    ticket = session.scalars(
        select(Ticket)
        .where(Ticket.channel == channel, Ticket.sender == sender, Ticket.category == category)
        .where(Ticket.description == description[:DESCRIPTION_LIMIT], Ticket.created_at >= utcnow() - within)
        .order_by(Ticket.id.desc())
        .options(selectinload(Ticket.events))
    ).first()
    if ticket is None or (ticket.location_text or None) != (location_text or None):
        return None
    return _view(ticket)


def _load(session: Session, number: str) -> Ticket | None:
    parsed = parse_number(number)
    if parsed is None:
        return None
    year, ticket_id = parsed
    ticket = session.scalars(
        select(Ticket).where(Ticket.id == ticket_id).options(selectinload(Ticket.events))
    ).one_or_none()
    if ticket is None or _aware(ticket.created_at).year != year:
        return None
    return ticket


def find_ticket(
    session: Session, *, number: str, channel: str | None = None, sender: str | None = None
) -> TicketView | None:
    """Return the ticket NUMBER, or None; with CHANNEL and SENDER, only if it is theirs."""
    ticket = _load(session, number)
    if ticket is None:
        return None
    if sender is not None and (ticket.sender != sender or ticket.channel != channel):
        return None
    return _view(ticket)


def recent_tickets(session: Session, *, channel: str, sender: str, limit: int = 5) -> list[TicketView]:
    """Return a sender's most recent tickets, newest first."""
    query = (
        select(Ticket)
        .where(Ticket.channel == channel, Ticket.sender == sender)
        .order_by(Ticket.id.desc())
        .limit(limit)
        .options(selectinload(Ticket.events))
    )
    return [_view(t) for t in session.scalars(query)]


def list_tickets(session: Session, *, status: str | None = None, limit: int = 50) -> list[TicketView]:
    """Return tickets, newest first, optionally only those with STATUS."""
    if status is not None and status not in STATUSES:
        raise InvalidStatus(status)
    query = select(Ticket).order_by(Ticket.id.desc()).limit(limit).options(selectinload(Ticket.events))
    if status is not None:
        query = query.where(Ticket.status == status)
    return [_view(t) for t in session.scalars(query)]


def update_status(session: Session, *, number: str, status: str, note: str, actor: str) -> TicketView:
    """Move ticket NUMBER to STATUS, adding an event with NOTE to its timeline."""
    if status not in STATUSES:
        raise InvalidStatus(status)
    ticket = _load(session, number)
    if ticket is None:
        raise TicketNotFound(number)
    now = utcnow()
    ticket.status = status
    ticket.updated_at = now
    ticket.events.append(TicketEvent(status=status, note=note, actor=actor, created_at=now))
    session.flush()
    return _view(ticket)


def photo_refs(session: Session, *, prefix: str = "upload:") -> set[str]:
    """Return the photo references (starting with PREFIX) that tickets keep."""
    return set(session.scalars(select(Ticket.photo_url).where(Ticket.photo_url.startswith(prefix))))


def purge_contacts(session: Session, *, older_than: dt.timedelta = CONTACT_RETENTION) -> int:
    """Forget the phone numbers of tickets closed more than OLDER_THAN ago; return how many were forgotten."""
    cutoff = utcnow() - older_than
    tickets = session.scalars(
        select(Ticket).where(
            Ticket.contact_phone.is_not(None), Ticket.status.in_(_CLOSED), Ticket.updated_at < cutoff
        )
    ).all()
    for ticket in tickets:
        ticket.contact_phone = None
        ticket.contact_consent_at = None
    session.flush()
    return len(tickets)
