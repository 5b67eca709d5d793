"""Shared fixtures: a migrated database, on SQLite and on the PostgreSQL server of 127.0.0.1."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from bot.store.db import get_engine, session_factory
from bot.store.migrate import upgrade

# No usage reports from test runs (these machines have no internet; Rasa would retry and wait).
os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")

POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL") or "postgresql://postgres@127.0.0.1:5432/test"
# The Redis server of 127.0.0.1, its database 15 (emptied before each test that uses it).
REDIS_URL = os.environ.get("TEST_REDIS_URL") or "redis://127.0.0.1:6379/15"


def _fresh(url: str) -> None:
    """Drop what an earlier run left and migrate from nothing."""
    with get_engine(url).begin() as connection:
        # Every table, whichever migration (or Rasa's tracker store) made it.
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    upgrade(url)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database migrated to head: an SQLite file, or the test database on PostgreSQL."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'test.db'}"
        upgrade(url)
    else:
        url = POSTGRES_URL
        _fresh(url)
    yield url


@pytest.fixture
def sessions(database_url: str) -> sessionmaker[Session]:
    """A session factory on the migrated database."""
    return session_factory(database_url)


@pytest.fixture
def redis_url() -> str:
    """The test Redis database, emptied."""
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    client.flushdb()
    client.close()
    return REDIS_URL
