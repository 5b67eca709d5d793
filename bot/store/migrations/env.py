"""Alembic environment: migrates DATABASE_URL (or the URL that bot.store.migrate passes in)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from bot.settings import load_settings
from bot.store.models import Base

config = context.config
url = config.get_main_option("sqlalchemy.url") or load_settings().database_url


def run_migrations_offline() -> None:
    """Emit SQL to stdout (alembic upgrade --sql)."""
    context.configure(url=url, target_metadata=Base.metadata, literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Migrate over a connection."""
    engine = create_engine(url, future=True)
    with engine.connect() as connection:
        # render_as_batch: SQLite alters tables by copying them.
        context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
