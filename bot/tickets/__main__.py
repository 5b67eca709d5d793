"""Staff command line for tickets: show, list and move them through their timeline.

Usage:
    python -m bot.tickets show 2026-000123 [--json]
    python -m bot.tickets list [--status received] [--limit 50] [--json]
    python -m bot.tickets update 2026-000123 --status in_progress --note "현장 확인 중이에요" [--by NAME]
    python -m bot.tickets purge-contacts [--days 365]     (daily, e.g. from cron)
    python -m bot.tickets report --by district,category [--since 2026-11-01] [--until 2026-11-30] [--json]
    python -m bot.tickets demo --count 100000 [--days 180]   |   demo --delete

`report` counts tickets per value of the dimensions (district, category, department, status, channel): how
many, how many open, how many open past their deadline; days are the city's. `demo` files made-up tickets on
a channel of their own (bot/tickets/demo.py), for a demonstration or a benchmark; `demo --delete` drops them.
`update` puts the news in the citizen's outbox: the gateway's sweep pushes it (web chat, Telegram), or it
goes with their next message (Kakao). Exit status: 0 done, 1 no such ticket or no database, 2 bad arguments.
"""

from __future__ import annotations

import argparse
import datetime as dt
import getpass
import json
import sys

from sqlalchemy.exc import SQLAlchemyError

from bot.profile import load_profile
from bot.settings import load_settings
from bot.store.db import session_factory
from bot.store.models import STATUSES
from bot.store.tickets import (
    CONTACT_RETENTION,
    REPORT_DIMENSIONS,
    TicketNotFound,
    TicketView,
    add_demo_tickets,
    delete_demo_tickets,
    find_ticket,
    list_tickets,
    purge_contacts,
    ticket_report,
    update_status,
)
from bot.tickets.demo import demo_rows
from bot.tickets.notify import tell_moved

__all__ = ["main"]


def _print(tickets: list[TicketView], as_json: bool) -> None:
    if as_json:
        print(json.dumps([t.as_json() for t in tickets], ensure_ascii=False, indent=2))
        return
    for t in tickets:
        print(f"{t.number}  {t.status:<11}  {t.category:<16}  {t.department}  {t.created_at:%Y-%m-%d %H:%M}")
        for e in t.events:
            print(f"    {e.at:%Y-%m-%d %H:%M}  {e.status:<11}  {e.actor}: {e.note}")


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    parser = argparse.ArgumentParser(prog="python -m bot.tickets", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    show = sub.add_parser("show", help="one ticket with its timeline")
    show.add_argument("number")
    show.add_argument("--json", action="store_true")
    lst = sub.add_parser("list", help="tickets, newest first")
    lst.add_argument("--status", choices=STATUSES)
    lst.add_argument("--limit", type=int, default=50)
    lst.add_argument("--json", action="store_true")
    update = sub.add_parser("update", help="move a ticket to another status")
    update.add_argument("number")
    update.add_argument("--status", choices=STATUSES, required=True)
    update.add_argument("--note", required=True, help="what the citizen reads in the timeline")
    update.add_argument("--by", default=None, help="who made the change (default: your login name)")
    purge = sub.add_parser("purge-contacts", help="forget phone numbers of tickets closed long ago")
    purge.add_argument("--days", type=int, default=CONTACT_RETENTION.days)
    report = sub.add_parser("report", help="count tickets by district, category, department, status, channel")
    report.add_argument("--by", default="district,category", help="comma-separated dimensions")
    report.add_argument("--since", type=dt.date.fromisoformat, help="filed on or after this day (YYYY-MM-DD)")
    report.add_argument("--until", type=dt.date.fromisoformat, help="filed on or before this day")
    report.add_argument("--json", action="store_true")
    demo = sub.add_parser("demo", help="file made-up tickets (or --delete them)")
    demo.add_argument("--count", type=int, default=1000)
    demo.add_argument("--days", type=int, default=180, help="spread over this many days back")
    demo.add_argument("--delete", action="store_true")
    args = parser.parse_args(argv)

    settings = load_settings()
    sessions = session_factory(settings.database_url)
    try:
        if args.command == "show":
            with sessions() as session:
                ticket = find_ticket(session, number=args.number)
            if ticket is None:
                print(f"error: no ticket {args.number}", file=sys.stderr)
                return 1
            if args.json:
                print(json.dumps(ticket.as_json(), ensure_ascii=False, indent=2))
            else:
                _print([ticket], as_json=False)
        elif args.command == "list":
            with sessions() as session:
                _print(list_tickets(session, status=args.status, limit=args.limit), args.json)
        elif args.command == "report":
            profile = load_profile(settings.city_profile)
            by = tuple(b.strip() for b in args.by.split(",") if b.strip())
            if not by or any(b not in REPORT_DIMENSIONS for b in by):
                print(f"error: --by takes some of {', '.join(REPORT_DIMENSIONS)}", file=sys.stderr)
                return 2
            since, until = (
                None if day is None else dt.datetime.combine(day, dt.time(), tzinfo=profile.timezone)
                for day in (args.since, args.until and args.until + dt.timedelta(days=1))
            )
            with sessions() as session:
                rows = ticket_report(session, by, since=since, until=until)
            if args.json:
                print(json.dumps(rows, ensure_ascii=False, indent=2))
            else:
                for row in rows:
                    names = "  ".join(str(row[b] or "-") for b in by)
                    print(f"{names}  {row['tickets']}건 (처리 중 {row['open']}, 기한 지남 {row['overdue']})")
        elif args.command == "demo":
            with sessions.begin() as session:
                if args.delete:
                    print(f"deleted {delete_demo_tickets(session)} demo tickets")
                else:
                    profile = load_profile(settings.city_profile)
                    added = sum(
                        add_demo_tickets(session, demo_rows(profile, min(5000, args.count - start),
                                                            days=args.days, seed=start))
                        for start in range(0, args.count, 5000)
                    )  # fmt: skip
                    print(f"filed {added} demo tickets (channel 'demo'; remove them with demo --delete)")
        elif args.command == "purge-contacts":
            with sessions.begin() as session:
                count = purge_contacts(session, older_than=dt.timedelta(days=args.days))
            print(f"forgot {count} phone numbers of tickets closed more than {args.days} days ago")
        else:
            actor = f"staff:{args.by or getpass.getuser()}"
            with sessions.begin() as session:
                ticket = update_status(
                    session, number=args.number, status=args.status, note=args.note, actor=actor
                )
                tell_moved(session, ticket, load_profile(settings.city_profile))
            print(f"{ticket.number} is now {ticket.status}")
    except TicketNotFound:
        print(f"error: no ticket {args.number}", file=sys.stderr)
        return 1
    except SQLAlchemyError as exc:
        print(f"error: the database is unreachable ({exc.__class__.__name__})", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
