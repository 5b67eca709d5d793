"""Bring a database's schema up to date with Alembic.

Usage:
    python -m bot.store.migrate [--url URL]       (default: DATABASE_URL; make migrate)
    python -m bot.store.migrate revision -m "…"   (autogenerate a new migration)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from alembic import command
from alembic.config import Config

from bot.settings import load_settings

__all__ = ["alembic_config", "upgrade"]

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(url: str) -> Config:
    """Return an Alembic config for URL, without an alembic.ini."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))  # ConfigParser interpolation
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Migrate the database at URL to REVISION."""
    command.upgrade(alembic_config(url), revision)


def main(argv: list[str] | None = None) -> int:
    """Run the command line."""
    parser = argparse.ArgumentParser(prog="python -m bot.store.migrate", description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="database URL (default: DATABASE_URL or the SQLite file)")
    sub = parser.add_subparsers(dest="command")
    revision = sub.add_parser("revision", help="autogenerate a migration from bot/store/models.py")
    revision.add_argument("-m", "--message", required=True)
    args = parser.parse_args(argv)
    url = args.url or load_settings().database_url
    if args.command == "revision":
        command.revision(alembic_config(url), message=args.message, autogenerate=True)
    else:
        upgrade(url)
    return 0


if __name__ == "__main__":
    sys.exit(main())
