"""The model history (table model_history): which model served when, with its data size and scores."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.store.models import ModelVersion, utcnow

__all__ = ["SERVING_ACTIONS", "history", "record", "serving_chain"]

# Rows that put a model in service; a rollback returns to the one before.
SERVING_ACTIONS = ("baseline", "promoted", "rollback")


def record(
    session: Session, *, action: str, model_file: str, note: str = "", **scores: float | int | bool | None
) -> ModelVersion:
    """Add one step to the history; return it."""
    row = ModelVersion(action=action, model_file=model_file, note=note, created_at=utcnow(), **scores)
    session.add(row)
    session.flush()
    session.expunge(row)
    return row


def history(session: Session, *, limit: int = 20) -> list[ModelVersion]:
    """Return the last LIMIT steps, newest first."""
    rows = list(session.scalars(select(ModelVersion).order_by(ModelVersion.id.desc()).limit(limit)))
    session.expunge_all()
    return rows


def serving_chain(session: Session) -> list[ModelVersion]:
    """Return the models that served, one after the other, as rollbacks leave them: the last one serves now.

    A promotion (or the first model) goes on top; a rollback takes the top off and serves the one below.
    """
    chain: list[ModelVersion] = []
    for row in session.scalars(
        select(ModelVersion).where(ModelVersion.action.in_(SERVING_ACTIONS)).order_by(ModelVersion.id)
    ):
        if row.action == "rollback":
            chain = chain[:-1]
        else:
            chain.append(row)
    session.expunge_all()
    return chain
