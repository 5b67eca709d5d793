"""Label repository: what agents said a citizen's message meant, imported labels and decisions."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from bot.privacy import mask_personal_data
from bot.store.models import CrisisLabel, ImportedLabel, Label, Message, utcnow

__all__ = [
    "add_crisis_label", "add_imported", "add_label", "agent_labels", "crisis_labels", "imported_labels",
    "labels_of", "unlabelled_messages",
]  # fmt: skip


def add_label(session: Session, *, message_id: int, intent: str, category: str | None, agent_id: int) -> bool:
    """Record an agent's label of the citizen's message MESSAGE_ID; False if there is no such message."""
    message = session.get(Message, message_id)
    if message is None or message.direction != "in":
        return False
    session.add(
        Label(message_id=message_id, intent=intent, category=category, agent_id=agent_id, created_at=utcnow())
    )
    return True


def labels_of(session: Session, *, message_ids: list[int]) -> dict[int, dict[str, str | None]]:
    """Return the latest label of each of MESSAGE_IDS that has one, as {intent, category}."""
    return {
        label.message_id: {"intent": label.intent, "category": label.category}
        for label in session.scalars(
            select(Label).where(Label.message_id.in_(message_ids)).order_by(Label.id)
        )
    }


def agent_labels(session: Session) -> list[tuple[Label, Message]]:
    """Return each agent's latest label of each message, with the message, oldest label first."""
    latest: dict[tuple[int, int], tuple[Label, Message]] = {}
    rows = session.execute(
        select(Label, Message).join(Message, Label.message_id == Message.id).order_by(Label.id)
    )
    for label, message in rows:
        latest[(label.message_id, label.agent_id)] = (label, message)
    return list(latest.values())


def add_imported(
    session: Session, *, rows: list[tuple[str, str, str | None]], source: str, decision: bool
) -> None:
    """Store labelled texts ROWS (text, intent, category) from SOURCE; a DECISION wins over other labels."""
    now = utcnow()
    for text, intent, category in rows:
        session.add(
            ImportedLabel(
                text=text, intent=intent, category=category, source=source, decision=decision, created_at=now
            )
        )


def imported_labels(session: Session) -> list[ImportedLabel]:
    """Return the imported labels and decisions, oldest first."""
    return list(session.scalars(select(ImportedLabel).order_by(ImportedLabel.id)))


def unlabelled_messages(session: Session, *, since: dt.datetime, until: dt.datetime) -> list[Message]:
    """Return the citizens' messages between SINCE and UNTIL that no one labelled, oldest first."""
    return list(
        session.scalars(
            select(Message)
            .where(Message.direction == "in", Message.created_at >= since, Message.created_at <= until)
            .where(~exists().where(Label.message_id == Message.id))
            .order_by(Message.id)
        )
    )


def add_crisis_label(
    session: Session, *, handoff_id: int, channel: str, sender: str, since: dt.datetime, kind: str,
    crisis: bool, agent_id: int,
) -> str | None:  # fmt: skip
    """Record an agent's judgement of the alarm that opened HANDOFF_ID; return the (masked) text, or None.

    The message that raised it is the citizen's last one up to SINCE (the handoff's opening).
    """
    message = session.scalars(
        select(Message)
        .where(Message.channel == channel, Message.sender == sender, Message.direction == "in")
        .where(Message.created_at <= since)
        .order_by(Message.id.desc())
        .limit(1)
    ).first()
    if message is None or not message.text.strip():
        return None
    text, _ = mask_personal_data(message.text)
    session.add(
        CrisisLabel(
            handoff_id=handoff_id, text=text, kind=kind, crisis=crisis, agent_id=agent_id, created_at=utcnow()
        )
    )
    return text


def crisis_labels(session: Session) -> list[CrisisLabel]:
    """Return the agents' judgements of crisis alarms, oldest first."""
    rows = list(session.scalars(select(CrisisLabel).order_by(CrisisLabel.id)))
    session.expunge_all()
    return rows
