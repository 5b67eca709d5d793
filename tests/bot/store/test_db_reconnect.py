"""A database that is briefly away (a PostgreSQL restart) costs a wait, not the citizen's message."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from bot.store import db as db_module
from bot.store.db import Database, StoreUnavailable


def test_a_transaction_is_tried_again_while_the_server_is_away(
    sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(db_module, "RECONNECT", (0.01, 0.01, 0.01))
    tries: list[int] = []

    def work(session: Session) -> str:
        tries.append(1)
        if len(tries) < 3:
            raise OperationalError("SELECT 1", {}, Exception("the database system is starting up"))
        return "stored"

    assert asyncio.run(Database(sessions).run(work)) == "stored" and len(tries) == 3


@pytest.mark.parametrize(
    ("error", "tries_expected"),
    [(OperationalError("x", {}, Exception("gone")), 4), (IntegrityError("x", {}, Exception("duplicate")), 1)],
)
def test_a_server_that_stays_away_or_a_real_error_ends_in_store_unavailable(
    sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch, error: Any, tries_expected: int
) -> None:
    monkeypatch.setattr(db_module, "RECONNECT", (0.01, 0.01, 0.01))
    tries: list[int] = []

    def work(session: Session) -> None:
        tries.append(1)
        raise error

    with pytest.raises(StoreUnavailable):
        asyncio.run(Database(sessions).run(work))
    assert len(tries) == tries_expected  # an integrity error is not the server's absence: no second try
