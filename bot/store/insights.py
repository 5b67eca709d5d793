"""The figures of the insights dashboard: where the problems are, how fast they are solved, in one period.

Every figure is one grouped query (on the indexes of migration 0008), so that 100,000 tickets stay fast
(`python -m bench.insights`).
"""

from __future__ import annotations

import datetime as dt
import statistics
from typing import Any

from sqlalchemy import Float, String, case, column, func, inspect, select, table
from sqlalchemy.orm import Session

from bot.store.models import Handoff, Ticket, aware
from bot.store.tickets import CLOSED, ticket_report

__all__ = ["insights"]


# Rasa's own table (its SQL tracker store), in the same database: read, never written.
_EVENTS = table(
    "events", column("type_name", String), column("timestamp", Float), column("intent_name", String)
)


def _week(session: Session, column: Any, *, epoch: bool = False) -> Any:
    """The Monday of COLUMN's week (UTC), as text YYYY-MM-DD, in the database's own dialect; EPOCH: COLUMN
    holds seconds since 1970 (Rasa's timestamps)."""
    if session.get_bind().dialect.name == "postgresql":
        moment = func.to_timestamp(column) if epoch else column
        return func.to_char(func.date_trunc("week", moment), "YYYY-MM-DD")
    if epoch:
        return func.date(column, "unixepoch", "-6 days", "weekday 1")
    return func.date(column, "-6 days", "weekday 1")  # SQLite: back to the Monday


def _fallback_weeks(session: Session, since: dt.datetime, until: dt.datetime) -> list[dict[str, object]]:
    """Citizens' messages per week and how many of them the bot did not understand (nlu_fallback)."""
    if not inspect(session.connection()).has_table("events"):
        return []  # Rasa has not written here (yet)
    week = _week(session, _EVENTS.c.timestamp, epoch=True)
    missed = func.sum(case((_EVENTS.c.intent_name == "nlu_fallback", 1), else_=0))
    rows = session.execute(
        select(week, func.count(), missed)
        .where(_EVENTS.c.type_name == "user")
        .where(_EVENTS.c.timestamp >= since.timestamp(), _EVENTS.c.timestamp < until.timestamp())
        .group_by(week)
        .order_by(week)
    ).all()
    return [
        {"week": str(w), "messages": int(n), "fallbacks": int(f or 0), "rate": round(int(f or 0) / int(n), 3)}
        for w, n, f in rows
    ]


def insights(
    session: Session, *, since: dt.datetime, until: dt.datetime, department: str | None = None
) -> dict[str, Any]:
    """Return the dashboard's figures for tickets filed from SINCE to UNTIL (of DEPARTMENT, if given)."""

    def report(*by: str) -> list[dict[str, object]]:
        return ticket_report(session, by, since=since, until=until, department=department)

    in_period = [Ticket.created_at >= since, Ticket.created_at < until]
    if department:
        in_period.append(Ticket.department == department)
    places = report("district", "category")
    by_department = report("department")
    week = _week(session, Ticket.created_at)
    weeks = session.execute(
        select(week, func.count(), func.sum(case((Ticket.status.in_(CLOSED), 1), else_=0)))
        .where(*in_period)
        .group_by(week)
        .order_by(week)
    ).all()
    return {
        "total": sum(int(str(r["tickets"])) for r in by_department),
        "by_district_category": places,
        "top_places": places[:10],
        "by_district": report("district"),
        "by_category": report("category"),
        "by_status": report("status"),
        "by_channel": report("channel"),
        "by_department": _with_median_days(session, by_department, in_period),
        "weeks": [{"week": str(w), "tickets": int(n), "closed": int(c or 0)} for w, n, c in weeks],
        "handoffs": _handoffs(session, since, until),
        "fallback_weeks": _fallback_weeks(session, since, until),
    }


def _with_median_days(
    session: Session, found: list[dict[str, object]], in_period: list[Any]
) -> list[dict[str, object]]:
    """Add each department's median days from filing to resolution (tickets resolved, filed in the period)."""
    durations: dict[str, list[float]] = {}
    resolved = session.execute(
        select(Ticket.department, Ticket.created_at, Ticket.updated_at).where(
            *in_period, Ticket.status == "resolved"
        )
    )
    for department, created, updated in resolved:
        days = (aware(updated) - aware(created)).total_seconds() / 86400
        durations.setdefault(department, []).append(days)
    for row in found:
        spent = durations.get(str(row["department"]))
        row["median_days"] = round(statistics.median(spent), 1) if spent else None
    return found


def _handoffs(session: Session, since: dt.datetime, until: dt.datetime) -> dict[str, int]:
    """Chats handed to people in the period, and how many of them for a crisis."""
    total, crises = session.execute(
        select(func.count(), func.sum(case((Handoff.reason.like("crisis:%"), 1), else_=0))).where(
            Handoff.created_at >= since, Handoff.created_at < until
        )
    ).one()
    return {"handoffs": int(total or 0), "crises": int(crises or 0)}
