"""The handoff queue in the database: open, find, claim (atomically), release, close.

A conversation has at most one open handoff (waiting or assigned). The queue's order is urgent first, then
the longest waiting.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, case, func, or_, select, update
from sqlalchemy.orm import Session, selectinload

from bot.privacy import short_id
from bot.store.models import OPEN_HANDOFF, Handoff, utcnow

__all__ = [
    "HandoffView", "TooManyOpen", "abandon", "claim", "close", "get", "offer_callbacks", "open_handoff",
    "position", "listing", "mark_resumed", "opened_since", "release_agent", "set_ticket", "state",
]  # fmt: skip

PRIORITIES = ("urgent", "normal")
_URGENT_FIRST = case((Handoff.priority == "urgent", 0), else_=1)


def _aware(moment: dt.datetime | None) -> dt.datetime | None:
    # SQLite gives back naive datetimes for what was stored in UTC.
    if moment is None or moment.tzinfo:
        return moment
    return moment.replace(tzinfo=dt.timezone.utc)


@dataclass(frozen=True)
class HandoffView:
    """A handoff as the gateway, the console and the command line read it."""

    id: int
    channel: str
    sender: str
    status: str
    priority: str
    reason: str
    guesses: tuple[dict[str, Any], ...]
    agent: str | None
    agent_id: int | None
    created_at: dt.datetime
    claimed_at: dt.datetime | None
    closed_at: dt.datetime | None
    ticket_number: str | None

    @property
    def is_open(self) -> bool:
        """Return whether the chat is still with people (waiting or assigned)."""
        return self.status in OPEN_HANDOFF

    def waiting_seconds(self, now: dt.datetime | None = None) -> int:
        """Return how long the citizen has waited for a person (until claimed, or until now)."""
        end = self.claimed_at or self.closed_at or now or utcnow()
        return max(0, int((end - self.created_at).total_seconds()))

    def as_json(self) -> dict[str, Any]:
        """Return a JSON-ready dict (the console's API and `list --json`)."""
        return {
            "id": self.id, "channel": self.channel, "sender": short_id(self.sender), "status": self.status,
            "priority": self.priority, "reason": self.reason, "guesses": list(self.guesses),
            "agent": self.agent, "created_at": self.created_at.isoformat(),
            "claimed_at": self.claimed_at.isoformat() if self.claimed_at else None,
            "closed_at": self.closed_at.isoformat() if self.closed_at else None,
            "waiting_seconds": self.waiting_seconds(), "ticket_number": self.ticket_number,
        }  # fmt: skip


def _view(handoff: Handoff) -> HandoffView:
    return HandoffView(
        id=handoff.id, channel=handoff.channel, sender=handoff.sender, status=handoff.status,
        priority=handoff.priority, reason=handoff.reason, guesses=tuple(json.loads(handoff.guesses or "[]")),
        agent=handoff.agent.name if handoff.agent else None, agent_id=handoff.agent_id,
        created_at=_aware(handoff.created_at) or utcnow(), claimed_at=_aware(handoff.claimed_at),
        closed_at=_aware(handoff.closed_at), ticket_number=handoff.ticket_number,
    )  # fmt: skip


def _select() -> Any:
    return select(Handoff).options(selectinload(Handoff.agent))


_HANDOFFS = Handoff.__table__
# Built once, on the table: every citizen's message asks it (see conversations._INSERT_MESSAGE).
_STATE = select(_HANDOFFS.c.id, _HANDOFFS.c.status).where(
    _HANDOFFS.c.channel == bindparam("channel"), _HANDOFFS.c.sender == bindparam("sender"),
    or_(_HANDOFFS.c.status.in_(OPEN_HANDOFF), _HANDOFFS.c.resumed.is_(False)),
)  # fmt: skip


def state(session: Session, *, channel: str, sender: str) -> tuple[HandoffView | None, list[int]]:
    """Return the conversation's open handoff (None: the bot answers) and its ended, unresumed handoffs.

    One query of a few columns (every citizen's message asks it): the full handoff only when one is open.
    """
    rows = session.execute(_STATE, {"channel": channel, "sender": sender}).all()
    open_ = max((id_ for id_, status in rows if status in OPEN_HANDOFF), default=None)
    unresumed = sorted(id_ for id_, status in rows if status not in OPEN_HANDOFF)
    return (get(session, open_) if open_ is not None else None), unresumed


def get(session: Session, handoff_id: int) -> HandoffView | None:
    """Return handoff HANDOFF_ID, or None."""
    handoff = session.scalars(_select().where(Handoff.id == handoff_id)).first()
    return _view(handoff) if handoff else None


class TooManyOpen(Exception):
    """An address has as many open handoffs as it may have."""


def open_handoff(
    session: Session,
    *,
    channel: str,
    sender: str,
    reason: str,
    priority: str = "normal",
    guesses: list[dict[str, Any]] | None = None,
    origin: str | None = None,
    max_open: int = 0,
) -> tuple[HandoffView, bool]:
    """Queue the conversation for a person; return the handoff and whether it is new.

    An open handoff is reused (one per conversation); an urgent request makes it urgent. A new one from
    ORIGIN (a web chat's address, hashed) is refused with TooManyOpen when MAX_OPEN (0: no cap) of that
    address's handoffs are open already, unless it is urgent (a crisis behind a school's or a carrier's
    shared address is queued whatever the others do; the hourly allowance still bounds a script).
    """
    if priority not in PRIORITIES:
        raise ValueError(f"unknown priority {priority!r}")
    existing = session.scalars(
        select(Handoff)
        .where(Handoff.channel == channel, Handoff.sender == sender, Handoff.status.in_(OPEN_HANDOFF))
        .with_for_update()
    ).first()
    if existing is not None:
        if priority == "urgent" and existing.priority != "urgent":
            existing.priority, existing.reason = "urgent", reason
        session.flush()
        return _view(existing), False
    if origin is not None and max_open > 0 and priority != "urgent":  # a crisis is always queued
        held = session.scalar(
            select(func.count(Handoff.id)).where(Handoff.origin == origin, Handoff.status.in_(OPEN_HANDOFF))
        )
        if (held or 0) >= max_open:
            raise TooManyOpen(origin)
    handoff = Handoff(
        channel=channel, sender=sender, status="waiting", priority=priority, reason=reason,
        guesses=json.dumps(guesses or [], ensure_ascii=False), created_at=utcnow(), resumed=False,
        origin=origin,
    )  # fmt: skip
    session.add(handoff)
    session.flush()
    return _view(handoff), True


def position(session: Session, handoff: HandoffView) -> int:
    """Return HANDOFF's place among the waiting chats (1 = next), in the queue's order."""
    ahead = session.scalar(
        select(func.count(Handoff.id)).where(
            Handoff.status == "waiting",
            Handoff.id != handoff.id,
            (_URGENT_FIRST < (0 if handoff.priority == "urgent" else 1))
            | ((Handoff.priority == handoff.priority) & (Handoff.created_at <= handoff.created_at)),
        )
    )
    return int(ahead or 0) + 1


def listing(session: Session, *, closed: int = 0) -> list[HandoffView]:
    """Return the open chats (urgent first, then the longest waiting), then the CLOSED latest closed ones."""
    open_ = session.scalars(
        _select()
        .where(Handoff.status.in_(OPEN_HANDOFF))
        .order_by(_URGENT_FIRST, Handoff.created_at, Handoff.id)
    ).all()
    done = (
        session.scalars(
            _select()
            .where(Handoff.status.not_in(OPEN_HANDOFF))
            .order_by(Handoff.closed_at.desc(), Handoff.id.desc())
            .limit(closed)
        ).all()
        if closed
        else []
    )
    return [_view(h) for h in [*open_, *done]]


def claim(session: Session, handoff_id: int, agent_id: int) -> bool:
    """Give the waiting chat HANDOFF_ID to AGENT_ID; return False if it was not waiting (someone was first).

    One conditional UPDATE: of two agents claiming at the same moment, the database lets exactly one
    change the row from waiting to assigned.
    """
    result = session.execute(
        update(Handoff)
        .where(Handoff.id == handoff_id, Handoff.status == "waiting")
        .values(status="assigned", agent_id=agent_id, claimed_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def close(
    session: Session, handoff_id: int, *, agent_id: int | None, status: str = "closed"
) -> HandoffView | None:
    """End the open chat HANDOFF_ID (closed, or abandoned by the citizen); return it, or None if not open.

    With AGENT_ID, only the agent it is assigned to can close it.
    """
    conditions = [Handoff.id == handoff_id, Handoff.status.in_(OPEN_HANDOFF)]
    if agent_id is not None:
        conditions += [Handoff.agent_id == agent_id, Handoff.status == "assigned"]
    result = session.execute(
        update(Handoff).where(*conditions).values(status=status, closed_at=utcnow())
        .execution_options(synchronize_session=False)
    )  # fmt: skip
    return get(session, handoff_id) if result.rowcount == 1 else None


def end_false_alarm(session: Session, handoff_id: int, *, agent_id: int) -> HandoffView | None:
    """End the open crisis chat HANDOFF_ID as a false alarm (no longer urgent); None if it cannot be.

    Any agent may end a waiting one; an assigned one, only its agent.
    """
    result = session.execute(
        update(Handoff)
        .where(
            Handoff.id == handoff_id, Handoff.reason.like("crisis%"),
            (Handoff.status == "waiting") | ((Handoff.status == "assigned") & (Handoff.agent_id == agent_id)),
        )
        .values(
            status="closed", priority="normal", reason="false_alarm", agent_id=agent_id, closed_at=utcnow()
        )
        .execution_options(synchronize_session=False)
    )  # fmt: skip
    return get(session, handoff_id) if result.rowcount == 1 else None


def abandon(session: Session, handoff_id: int) -> HandoffView | None:
    """Record that the citizen left the queue (cancelled, or left a callback request instead)."""
    return close(session, handoff_id, agent_id=None, status="abandoned")


def release_agent(session: Session, agent_id: int) -> list[HandoffView]:
    """Put AGENT_ID's assigned chats back in the queue (the agent left); return them."""
    ids = list(
        session.scalars(select(Handoff.id).where(Handoff.agent_id == agent_id, Handoff.status == "assigned"))
    )
    if ids:
        session.execute(
            update(Handoff)
            .where(Handoff.id.in_(ids), Handoff.status == "assigned")
            .values(status="waiting", agent_id=None, claimed_at=None)
            .execution_options(synchronize_session=False)
        )
    return [view for i in ids if (view := get(session, i)) is not None]


def mark_resumed(session: Session, ids: list[int]) -> None:
    """Record that Rasa resumed the conversations of handoffs IDS."""
    if ids:
        session.execute(
            update(Handoff).where(Handoff.id.in_(ids)).values(resumed=True)
            .execution_options(synchronize_session=False)
        )  # fmt: skip


def offer_callbacks(session: Session, *, older_than: dt.timedelta) -> list[HandoffView]:
    """Return the chats waiting longer than OLDER_THAN that were not offered a callback yet, marking them."""
    cutoff = utcnow() - older_than
    rows = session.scalars(
        _select()
        .where(
            Handoff.status == "waiting", Handoff.callback_offered_at.is_(None), Handoff.created_at < cutoff
        )
        .with_for_update(skip_locked=True)
    ).all()
    for handoff in rows:
        handoff.callback_offered_at = utcnow()
    session.flush()
    return [_view(h) for h in rows]


def set_ticket(session: Session, handoff_id: int, number: str) -> None:
    """Record the callback ticket filed for handoff HANDOFF_ID."""
    session.execute(
        update(Handoff).where(Handoff.id == handoff_id).values(ticket_number=number)
        .execution_options(synchronize_session=False)
    )  # fmt: skip


def opened_since(session: Session, *, since: dt.datetime) -> dict[tuple[str, str], list[dt.datetime]]:
    """Return when handoffs were opened since SINCE, by (channel, sender)."""
    opened: dict[tuple[str, str], list[dt.datetime]] = {}
    for channel, sender, created_at in session.execute(
        select(Handoff.channel, Handoff.sender, Handoff.created_at).where(Handoff.created_at >= since)
    ):
        opened.setdefault((channel, sender), []).append(_aware(created_at))  # type: ignore[arg-type]
    return opened
