"""Console agents from the command line.

Usage:
    python -m bot.agents add NAME [--role agent|staff|supervisor|admin] [--department 건설도로과]
                                  [--password-stdin]
    python -m bot.agents list
    python -m bot.agents disable NAME
"""

from __future__ import annotations

import argparse
import getpass
import sys

from sqlalchemy.exc import SQLAlchemyError

from bot.profile import load_profile
from bot.settings import load_settings
from bot.store.agents import ROLES, AgentError, add_agent, disable_agent, list_agents
from bot.store.db import session_factory

__all__ = ["main"]


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    parser = argparse.ArgumentParser(prog="python -m bot.agents", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    add = sub.add_parser("add", help="create an agent who can log in to /agent")
    add.add_argument("name")
    add.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    add.add_argument(
        "--role", choices=ROLES, default="agent",
        help="agent (default) opens personal data of the chat they hold only; staff work one department's "
        "tickets; supervisor, admin: personal data of any chat, every ticket",
    )  # fmt: skip
    add.add_argument(
        "--department", help="staff: their department, by its key or name in the city profile (건설도로과)"
    )
    sub.add_parser("list", help="every agent, and whether they can log in")
    disable = sub.add_parser("disable", help="stop an agent from logging in, and log them out")
    disable.add_argument("name")
    args = parser.parse_args(argv)
    sessions = session_factory(load_settings().database_url)
    try:
        if args.command == "add":
            if args.password_stdin:
                password = sys.stdin.readline().rstrip("\n")
            else:
                password = getpass.getpass("password: ")
                if getpass.getpass("again: ") != password:
                    print("error: the passwords differ", file=sys.stderr)
                    return 1
            department = None
            if args.department:
                departments = load_profile(load_settings().city_profile).departments
                found = departments.get(args.department) or next(
                    (d for d in departments.values() if d.name == args.department), None
                )
                if found is None:
                    names = ", ".join(d.name for d in departments.values())
                    print(
                        f"error: no department {args.department!r} in the city profile ({names})",
                        file=sys.stderr,
                    )
                    return 2
                department = found.name
            with sessions.begin() as session:
                add_agent(session, args.name, password, args.role, department)
            print(f"{args.role} {args.name} added; they log in at /agent")
        elif args.command == "list":
            with sessions() as session:
                for name, active, role in list_agents(session):
                    print(f"{name}\t{role}\t{'active' if active else 'disabled'}")
        else:
            with sessions.begin() as session:
                if not disable_agent(session, args.name):
                    print(f"error: no agent {args.name}", file=sys.stderr)
                    return 1
            print(f"agent {args.name} disabled")
    except AgentError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except SQLAlchemyError as exc:
        print(f"error: the database is unreachable ({exc.__class__.__name__})", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
