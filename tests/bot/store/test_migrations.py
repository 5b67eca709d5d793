"""The migrations make the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from bot.store.db import get_engine
from bot.store.models import Base


def test_the_migrated_database_matches_the_models(database_url: str) -> None:
    with get_engine(database_url).connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": False})
        differences = compare_metadata(context, Base.metadata)
    # Rasa's own tables (events) live in the same database and are not ours to describe; nor is SQLite's
    # full-text index of the posts (posts_fts and its own tables: migration 0011).
    ours = [
        d
        for d in differences
        if not (d[0] == "remove_table" and (d[1].name == "events" or d[1].name.startswith("posts_fts")))
    ]
    assert ours == []
