"""Ticket repository: filing, finding and moving complaint tickets through their timeline.

Public numbers read like 2026-000123: the year the ticket was filed and its row id. The id comes from
the database, so numbers are unique however many tickets are filed at once, and no counter is kept.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, delete, func, insert, or_, select
from sqlalchemy.orm import Session, selectinload

from bot.privacy import short_id
from bot.store.models import STATUSES, Ticket, TicketEvent, aware, utcnow

__all__ = [
    "CONTACT_RETENTION", "DESCRIPTION_LIMIT", "EventView", "InvalidStatus", "TicketFilter", "TicketNotFound",
    "TicketView", "due_date", "file_ticket", "filed_just_now", "find_ticket", "format_number", "list_tickets",
    "parse_number", "photo_refs", "purge_contacts", "reassign_ticket", "recent_tickets", "search_tickets",
    "CLOSED", "REPORT_DIMENSIONS", "add_demo_tickets", "delete_demo_tickets", "ticket_districts",
    "ticket_report", "update_status", "CannotMerge", "merge_ticket", "merged_with", "open_tickets_like",
]  # fmt: skip

# How long a phone number is kept after its ticket was closed: the consent question promises a year
# (utter_ask_complaint_contact_consent in domain.yml).
CONTACT_RETENTION = dt.timedelta(days=365)
CLOSED = ("resolved", "rejected")
# A description longer than this is cut here (and the citizen told so by the form).
DESCRIPTION_LIMIT = 2000
# The same citizen's same answers filed again within this are the same complaint (filed_just_now).
REFILED_WITHIN = dt.timedelta(minutes=10)
# A ticket due within this is "due soon" on the tickets page.
DUE_SOON = dt.timedelta(days=2)
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
    kind: str = "status"  # or "reassign"


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
    due_at: dt.datetime | None = None
    merged_into: str | None = None  # the number of the ticket it joined

    def due(self, now: dt.datetime | None = None) -> str | None:
        """Return "overdue" or "soon" for an open ticket past or near its deadline, else None."""
        if self.due_at is None or self.status in CLOSED:
            return None
        left = self.due_at - (now or utcnow())
        return "overdue" if left < dt.timedelta(0) else "soon" if left < DUE_SOON else None

    def as_json(self, *, with_contact: bool = False) -> dict[str, object]:
        """Return a JSON-ready dict; the phone number only when WITH_CONTACT."""
        return {
            "due_at": self.due_at.isoformat() if self.due_at else None, "due": self.due(),
            "merged_into": self.merged_into,
            "number": self.number, "category": self.category, "department": self.department,
            "district": self.district, "location": self.location_text,
            "coordinates": None if self.latitude is None else [self.latitude, self.longitude],
            "description": self.description, "photo_url": self.photo_url,
            "contact_phone": self.contact_phone if with_contact else bool(self.contact_phone),
            "channel": self.channel, "sender": short_id(self.sender), "status": self.status,
            "created_at": self.created_at.isoformat(), "updated_at": self.updated_at.isoformat(),
            "events": [
                {"status": e.status, "kind": e.kind, "note": e.note, "actor": e.actor, "at": e.at.isoformat()}
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


def _view(ticket: Ticket) -> TicketView:
    created = aware(ticket.created_at)
    return TicketView(
        number=format_number(ticket.id, created), category=ticket.category, department=ticket.department,
        district=ticket.district, location_text=ticket.location_text, latitude=ticket.latitude,
        longitude=ticket.longitude, description=ticket.description, photo_url=ticket.photo_url,
        contact_phone=ticket.contact_phone, channel=ticket.channel, sender=ticket.sender,
        status=ticket.status, created_at=created, updated_at=aware(ticket.updated_at),
        events=tuple(
            EventView(e.status, e.note, e.actor, aware(e.created_at), e.kind or "status")
            for e in ticket.events
        ),
        due_at=aware(ticket.due_at) if ticket.due_at else None,
        merged_into=_number_of(ticket.merged_into_ticket) if ticket.merged_into else None,
    )  # fmt: skip


def _number_of(ticket: Ticket | None) -> str | None:
    return format_number(ticket.id, aware(ticket.created_at)) if ticket is not None else None


def due_date(start: dt.datetime, working_days: int, zone: ZoneInfo) -> dt.datetime:
    """Return the end (23:59:59 in ZONE) of the WORKING_DAYS-th working day after START's day.

    Working days are Monday to Friday, as 민원 처리 기간 count them; public holidays are not known here
    and count as working days (a deadline can come a day or two early, never late).
    """
    day = start.astimezone(zone).date()
    left = working_days
    while left > 0:
        day += dt.timedelta(days=1)
        if day.weekday() < 5:
            left -= 1
    end = dt.datetime.combine(day, dt.time(23, 59, 59), tzinfo=zone)
    return end.astimezone(dt.timezone.utc)


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
    due_at: dt.datetime | None = None,
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
        channel=channel, sender=sender, status="received", created_at=now, updated_at=now, due_at=due_at,
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
    if ticket is None or aware(ticket.created_at).year != year:
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
    return search_tickets(session, TicketFilter(status=status), limit=limit)[1]


def update_status(session: Session, *, number: str, status: str, note: str, actor: str) -> TicketView:
    """Move ticket NUMBER to STATUS, adding an event with NOTE to its timeline; the tickets merged into it
    take the same step (merged_with lists them, for telling their citizens)."""
    if status not in STATUSES:
        raise InvalidStatus(status)
    ticket = _load(session, number)
    if ticket is None:
        raise TicketNotFound(number)
    now = utcnow()
    for each in [ticket, *_merged(session, ticket.id)]:
        each.status = status
        each.updated_at = now
        each.events.append(TicketEvent(status=status, note=note, actor=actor, created_at=now))
    session.flush()
    return _view(ticket)


def _merged(session: Session, ticket_id: int) -> list[Ticket]:
    return list(
        session.scalars(
            select(Ticket).where(Ticket.merged_into == ticket_id).options(selectinload(Ticket.events))
        )
    )


def merged_with(session: Session, number: str) -> list[TicketView]:
    """Return the tickets merged into ticket NUMBER."""
    ticket = _load(session, number)
    return [_view(t) for t in _merged(session, ticket.id)] if ticket is not None else []


class CannotMerge(ValueError):
    """Two tickets that cannot be merged (the same one, one merged already, or the target closed)."""


def merge_ticket(session: Session, *, number: str, into: str, note: str, actor: str) -> TicketView:
    """Merge ticket NUMBER into ticket INTO: it takes INTO's status and deadline, a "merge" step with NOTE,
    and follows INTO's steps from now on. Returns NUMBER's ticket."""
    ticket, target = _load(session, number), _load(session, into)
    if ticket is None or target is None:
        raise TicketNotFound(number if ticket is None else into)
    if ticket.id == target.id or ticket.merged_into or target.merged_into or target.status in CLOSED:
        raise CannotMerge(f"{number} cannot join {into}")
    if _merged(session, ticket.id):
        raise CannotMerge(f"{number} has tickets merged into it")
    now = utcnow()
    ticket.merged_into_ticket, ticket.status, ticket.due_at = target, target.status, target.due_at
    ticket.updated_at = now
    ticket.events.append(
        TicketEvent(status=target.status, kind="merge", note=note, actor=actor, created_at=now)
    )
    session.flush()
    return _view(ticket)


def reassign_ticket(session: Session, *, number: str, department: str, note: str, actor: str) -> TicketView:
    """Move ticket NUMBER to DEPARTMENT, adding a "reassign" step with NOTE to its timeline."""
    ticket = _load(session, number)
    if ticket is None:
        raise TicketNotFound(number)
    now = utcnow()
    ticket.department = department
    ticket.updated_at = now
    ticket.events.append(
        TicketEvent(status=ticket.status, kind="reassign", note=note, actor=actor, created_at=now)
    )
    session.flush()
    return _view(ticket)


@dataclass(frozen=True)
class TicketFilter:
    """What the tickets page asks for: every field optional; TEXT matches the number, the description
    and the place; DUE is "overdue" or "soon"; SINCE and UNTIL bound the filing time."""

    status: str | None = None
    category: str | None = None
    district: str | None = None
    department: str | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    text: str | None = None
    due: str | None = None


def search_tickets(
    session: Session, wanted: TicketFilter, *, offset: int = 0, limit: int = 50
) -> tuple[int, list[TicketView]]:
    """Return how many tickets match WANTED and the page of them from OFFSET, newest first."""
    query = select(Ticket)
    if wanted.status:
        if wanted.status not in STATUSES:
            raise InvalidStatus(wanted.status)
        query = query.where(Ticket.status == wanted.status)
    for column, value in (
        (Ticket.category, wanted.category), (Ticket.district, wanted.district),
        (Ticket.department, wanted.department),
    ):  # fmt: skip
        if value:
            query = query.where(column == value)
    if wanted.since:
        query = query.where(Ticket.created_at >= wanted.since)
    if wanted.until:
        query = query.where(Ticket.created_at < wanted.until)
    if wanted.due in ("overdue", "soon"):
        now = utcnow()
        query = query.where(Ticket.status.not_in(CLOSED), Ticket.due_at.is_not(None))
        if wanted.due == "overdue":
            query = query.where(Ticket.due_at < now)
        else:
            query = query.where(Ticket.due_at >= now, Ticket.due_at < now + DUE_SOON)
    text = (wanted.text or "").strip()
    if text:
        pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        matches = [
            Ticket.description.ilike(pattern, escape="\\"),
            Ticket.location_text.ilike(pattern, escape="\\"),
        ]
        parsed = parse_number(text)
        if parsed is not None:
            matches.append(Ticket.id == parsed[1])
        query = query.where(or_(*matches))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    page = session.scalars(
        query.order_by(Ticket.id.desc()).offset(offset).limit(limit).options(selectinload(Ticket.events))
    )
    return int(total), [_view(t) for t in page]


def open_tickets_like(
    session: Session, ticket: TicketView, *, since: dt.datetime, most: int = 200
) -> list[TicketView]:
    """Return the open tickets, not merged, of TICKET's 읍·면·동 and category filed from SINCE (the latest
    MOST), but TICKET itself: the candidates of bot/tickets/duplicates.py."""
    parsed = parse_number(ticket.number)
    rows = session.scalars(
        select(Ticket)
        .where(Ticket.district == ticket.district, Ticket.category == ticket.category)
        .where(Ticket.status.not_in(CLOSED), Ticket.merged_into.is_(None), Ticket.created_at >= since)
        .where(Ticket.id != (parsed[1] if parsed else 0))
        .order_by(Ticket.id.desc())
        .limit(most)
        .options(selectinload(Ticket.events))
    )
    return [_view(t) for t in rows]


def ticket_districts(session: Session) -> list[str]:
    """Return the 읍·면·동 (or 구) that tickets name, in 가나다 order."""
    found = session.scalars(select(Ticket.district).where(Ticket.district.is_not(None)).distinct())
    return sorted(str(d) for d in found)


# What a report can count tickets by.
REPORT_DIMENSIONS = {
    "district": Ticket.district, "category": Ticket.category, "department": Ticket.department,
    "status": Ticket.status, "channel": Ticket.channel,
}  # fmt: skip


def ticket_report(
    session: Session, by: tuple[str, ...], *, since: dt.datetime | None = None,
    until: dt.datetime | None = None, department: str | None = None,
) -> list[dict[str, object]]:  # fmt: skip
    """Count the tickets filed from SINCE to UNTIL (of DEPARTMENT, if given) per value of the BY dimensions
    (REPORT_DIMENSIONS): how many, how many still open, how many open past their deadline; most first."""
    unknown = [b for b in by if b not in REPORT_DIMENSIONS]
    if not by or unknown:
        raise ValueError(f"count by some of {', '.join(REPORT_DIMENSIONS)}")
    columns = [REPORT_DIMENSIONS[b] for b in by]
    still_open = Ticket.status.not_in(CLOSED)
    late = and_(still_open, Ticket.due_at < utcnow())
    total = func.count()
    query = select(
        *columns, total, func.sum(case((still_open, 1), else_=0)), func.sum(case((late, 1), else_=0))
    ).group_by(*columns)
    if since:
        query = query.where(Ticket.created_at >= since)
    if until:
        query = query.where(Ticket.created_at < until)
    if department:
        query = query.where(Ticket.department == department)
    rows = session.execute(query.order_by(total.desc(), *columns)).all()
    return [
        {**dict(zip(by, row[: len(by)])), "tickets": int(row[-3]), "open": int(row[-2] or 0),
         "overdue": int(row[-1] or 0)}
        for row in rows
    ]  # fmt: skip


DEMO_CHANNEL = "demo"  # demo tickets are filed on a channel of their own, so that they can be deleted


def add_demo_tickets(session: Session, rows: list[dict[str, object]]) -> int:
    """Insert made-up tickets (ROWS of Ticket's columns) on the demo channel, in one statement."""
    session.execute(insert(Ticket), [{**row, "channel": DEMO_CHANNEL} for row in rows])
    return len(rows)


def delete_demo_tickets(session: Session) -> int:
    """Delete every demo ticket; return how many."""
    result = session.execute(delete(Ticket).where(Ticket.channel == DEMO_CHANNEL))
    return int(result.rowcount or 0)


def photo_refs(session: Session, *, prefix: str = "upload:") -> set[str]:
    """Return the photo references (starting with PREFIX) that tickets keep."""
    return set(session.scalars(select(Ticket.photo_url).where(Ticket.photo_url.startswith(prefix))))


def purge_contacts(session: Session, *, older_than: dt.timedelta = CONTACT_RETENTION) -> int:
    """Forget the phone numbers of tickets closed more than OLDER_THAN ago; return how many were forgotten."""
    cutoff = utcnow() - older_than
    tickets = session.scalars(
        select(Ticket).where(
            Ticket.contact_phone.is_not(None), Ticket.status.in_(CLOSED), Ticket.updated_at < cutoff
        )
    ).all()
    for ticket in tickets:
        ticket.contact_phone = None
        ticket.contact_consent_at = None
    session.flush()
    return len(tickets)
