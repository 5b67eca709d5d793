"""Engines and sessions for DATABASE_URL (an SQLite file by default, PostgreSQL in production)."""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import InterfaceError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import QueuePool

__all__ = ["Database", "StoreUnavailable", "get_engine", "session_factory"]

logger = logging.getLogger(__name__)
T = TypeVar("T")
D = TypeVar("D")


class StoreUnavailable(Exception):
    """The database did not answer or refused a transaction."""


@functools.cache
def get_engine(url: str) -> Engine:
    """Return the process's engine for URL, created on first use."""
    if url.startswith("sqlite"):
        # Pooled connections (SQLAlchemy 1.4 opens and closes one per transaction on a file: that cost
        # 0.5 ms per transaction, and closing the last connection checkpoints the WAL file).
        engine = create_engine(
            url, future=True, poolclass=QueuePool, pool_size=5, max_overflow=10,
            connect_args={"check_same_thread": False, "timeout": 30},
        )  # fmt: skip

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            # Foreign keys are off in SQLite unless asked for; WAL lets readers and a writer overlap, and
            # with WAL, synchronous=NORMAL syncs at checkpoints instead of at every commit (the database
            # stays consistent; a power cut may lose the last moments). PostgreSQL is for production.
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        return engine
    return create_engine(url, future=True, pool_pre_ping=True, pool_size=5, max_overflow=10)


def session_factory(url: str) -> sessionmaker[Session]:
    """Return a session factory bound to URL's engine (use `with factory.begin() as session:`)."""
    return sessionmaker(get_engine(url), future=True, expire_on_commit=False)


# Pauses (seconds) before trying a transaction again when the server cannot be reached: a restart of
# PostgreSQL takes a few seconds, and the citizen's message should be stored, not refused.
RECONNECT = (0.2, 0.5, 1.0, 2.0, 3.0)


class Database:
    """Transactions run in a thread, so that no database work blocks the event loop."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    async def run(self, work: Callable[[Session], T]) -> T:
        """Run WORK in one transaction; return its result or raise StoreUnavailable."""

        def transaction() -> T:
            with self.sessions.begin() as session:
                return work(session)

        for pause in (*RECONNECT, None):
            try:
                return await asyncio.to_thread(transaction)
            except (OperationalError, InterfaceError) as exc:
                # The server went away (a restart, a failover) or is not back yet: try again shortly.
                if pause is None:
                    logger.error("a database transaction failed: %s", type(exc).__name__)
                    raise StoreUnavailable(type(exc).__name__) from exc
                logger.warning("the database did not answer (%s); trying again", type(exc).__name__)
                await asyncio.sleep(pause)
            except SQLAlchemyError as exc:
                logger.error("a database transaction failed: %s", type(exc).__name__)
                raise StoreUnavailable(type(exc).__name__) from exc
        raise AssertionError("unreachable")

    async def run_or(self, work: Callable[[Session], T], default: D) -> T | D:
        """Run WORK like run; return DEFAULT if the database failed (an outage never reaches a citizen)."""
        try:
            return await self.run(work)
        except StoreUnavailable:
            return default

    async def ping(self) -> bool:
        """Return whether the database answers."""
        return await self.run_or(lambda s: s.execute(text("SELECT 1")) is not None, False)
