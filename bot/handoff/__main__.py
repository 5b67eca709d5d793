"""The handoff queue from the command line, for operators and scripts.

Usage:
    python -m bot.handoff list [--json] [--closed N]
"""

from __future__ import annotations

import argparse
import json
import sys

from sqlalchemy.exc import SQLAlchemyError

from bot.settings import load_settings
from bot.store.db import session_factory
from bot.store.handoffs import listing

__all__ = ["main"]


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    parser = argparse.ArgumentParser(prog="python -m bot.handoff", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    lst = sub.add_parser("list", help="open chats, urgent first, then the longest waiting")
    lst.add_argument("--json", action="store_true", help="one JSON array")
    lst.add_argument("--closed", type=int, default=0, help="also the N most recently closed")
    args = parser.parse_args(argv)
    try:
        with session_factory(load_settings().database_url)() as session:
            handoffs = listing(session, closed=args.closed)
    except SQLAlchemyError as exc:
        print(f"error: the database is unreachable ({exc.__class__.__name__})", file=sys.stderr)
        return 1
    fields = ("id", "channel", "sender", "status", "priority", "reason", "waiting_seconds")
    rows = [{k: h.as_json()[k] for k in (*fields, "agent", "created_at")} for h in handoffs]
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
    else:
        for row in rows:
            print("\t".join(str(row[k]) for k in fields))
    return 0


if __name__ == "__main__":
    sys.exit(main())
