"""The figures of the insights dashboard: where the problems are, how fast they are solved, in one period.

Every figure is one grouped query (on the indexes of migration 0008), so that 100,000 tickets stay fast
(`python -m bench.insights`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Float, Integer, String, case, cast, column, func, inspect, select, table
from sqlalchemy.orm import Session

from bot.store.models import Handoff, Ticket
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
    """Return the dashboard's figures for tickets filed from SINCE to UNTIL (of DEPARTMENT, if given).

    The tickets are read three times whatever their number: counted once by every dimension together
    (then added up per dimension here), once per week, and once per department and tenth of a day taken.
    """
    in_period = [Ticket.created_at >= since, Ticket.created_at < until]
    if department:
        in_period.append(Ticket.department == department)
    finest = ticket_report(session, DIMENSIONS, since=since, until=until, department=department)
    places = _rolled(finest, ("district", "category"))
    week = _week(session, Ticket.created_at)
    weeks = session.execute(
        select(week, func.count(), func.sum(case((Ticket.status.in_(CLOSED), 1), else_=0)))
        .where(*in_period)
        .group_by(week)
        .order_by(week)
    ).all()
    medians = _median_days(session, in_period)
    by_department = [
        {**row, "median_days": medians.get(str(row["department"]))}
        for row in _rolled(finest, ("department",))
    ]
    return {
        "total": sum(int(str(r["tickets"])) for r in finest),
        "by_district_category": places,
        "top_places": places[:10],
        "by_district": _rolled(finest, ("district",)),
        "by_category": _rolled(finest, ("category",)),
        "by_status": _rolled(finest, ("status",)),
        "by_channel": _rolled(finest, ("channel",)),
        "by_department": by_department,
        "weeks": [{"week": str(w), "tickets": int(n), "closed": int(c or 0)} for w, n, c in weeks],
        "handoffs": _handoffs(session, since, until),
        "fallback_weeks": _fallback_weeks(session, since, until),
    }


DIMENSIONS = ("district", "category", "department", "status", "channel")
COUNTS = ("tickets", "open", "overdue")


def _rolled(finest: list[dict[str, object]], by: tuple[str, ...]) -> list[dict[str, object]]:
    """Add up the finest rows per value of BY; most tickets first (then by name), as ticket_report orders."""
    totals: dict[tuple[object, ...], dict[str, int]] = {}
    for row in finest:
        sums = totals.setdefault(tuple(row[b] for b in by), dict.fromkeys(COUNTS, 0))
        for name in COUNTS:
            sums[name] += int(str(row[name]))
    ordered = sorted(totals.items(), key=lambda kv: (-kv[1]["tickets"], tuple(str(k or "") for k in kv[0])))
    return [{**dict(zip(by, key)), **sums} for key, sums in ordered]


def _median_days(session: Session, in_period: list[Any]) -> dict[str, float]:
    """Each department's median days from filing to resolution (tickets resolved, filed in the period), to
    a tenth of a day: counted per tenth in the database, so that no ticket is read one by one."""
    # (2.0 days may come back as 1.9999999: a millionth more keeps it in its tenth.)
    if session.get_bind().dialect.name == "postgresql":
        days = func.extract("epoch", Ticket.updated_at - Ticket.created_at) / 86400
        tenth = cast(func.floor(days * 10 + 0.000001), Integer)
    else:  # SQLite: CAST cuts toward zero, a floor for the positive times here (floor() may be missing)
        days = func.julianday(Ticket.updated_at) - func.julianday(Ticket.created_at)
        tenth = cast(days * 10 + 0.000001, Integer)
    rows = session.execute(
        select(Ticket.department, tenth, func.count())
        .where(*in_period, Ticket.status == "resolved")
        .group_by(Ticket.department, tenth)
        .order_by(Ticket.department, tenth)
    ).all()
    histograms: dict[str, list[tuple[int, int]]] = {}
    for name, bucket, count in rows:
        histograms.setdefault(str(name), []).append((int(bucket or 0), int(count)))
    medians = {}
    for name, histogram in histograms.items():
        half, seen = sum(c for _, c in histogram) / 2, 0
        for bucket, count in histogram:
            seen += count
            if seen >= half:
                medians[name] = round(bucket / 10, 1)
                break
    return medians


def _handoffs(session: Session, since: dt.datetime, until: dt.datetime) -> dict[str, int]:
    """Chats handed to people in the period, and how many of them for a crisis."""
    total, crises = session.execute(
        select(func.count(), func.sum(case((Handoff.reason.like("crisis:%"), 1), else_=0))).where(
            Handoff.created_at >= since, Handoff.created_at < until
        )
    ).one()
    return {"handoffs": int(total or 0), "crises": int(crises or 0)}
