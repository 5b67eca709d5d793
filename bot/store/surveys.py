"""Satisfaction surveys: planned when a ticket is resolved or a chat closed, asked once, answered once."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.store.models import Agent, Survey, utcnow

__all__ = [
    "SurveyView",
    "answer_survey",
    "comment_survey",
    "due_surveys",
    "mark_asked",
    "plan_survey",
    "scores",
]

ASK_WITHIN = dt.timedelta(days=3)  # a survey not asked by then is dropped (the service is no longer fresh)
ASK_AFTER = dt.timedelta(minutes=30)  # not on the heels of the news or the chat's goodbye
COMMENT_LIMIT = 500


@dataclass(frozen=True)
class SurveyView:
    """A survey to ask: whom, and about what."""

    id: int
    kind: str
    ref: str
    channel: str
    sender: str


def plan_survey(
    session: Session, *, kind: str, ref: str, channel: str, sender: str, department: str | None = None,
    agent_id: int | None = None,
) -> bool:  # fmt: skip
    """Plan asking CHANNEL's SENDER about ticket or chat REF, unless it was planned before; return whether
    it is new (a ticket resolved again is not asked about twice)."""
    if channel in ("rest", "demo"):
        return False  # no messenger to ask in
    exists = session.scalar(select(Survey.id).where(Survey.kind == kind, Survey.ref == ref))
    if exists is not None:
        return False
    session.add(
        Survey(kind=kind, ref=ref, channel=channel, sender=sender, department=department, agent_id=agent_id,
               created_at=utcnow())
    )  # fmt: skip
    session.flush()
    return True


def due_surveys(session: Session, *, now: dt.datetime | None = None, limit: int = 200) -> list[SurveyView]:
    """Return the surveys planned from ASK_WITHIN to ASK_AFTER before NOW and not asked yet, oldest first."""
    now = now or utcnow()
    rows = session.scalars(
        select(Survey)
        .where(Survey.asked_at.is_(None), Survey.created_at >= now - ASK_WITHIN)
        .where(Survey.created_at <= now - ASK_AFTER)
        .order_by(Survey.id)
        .limit(limit)
    )
    return [SurveyView(s.id, s.kind, s.ref, s.channel, s.sender) for s in rows]


def mark_asked(session: Session, survey_id: int) -> None:
    """Record that the survey's question was sent."""
    survey = session.get(Survey, survey_id)
    if survey is not None:
        survey.asked_at = utcnow()


def answer_survey(session: Session, *, survey_id: int, channel: str, sender: str, score: int) -> bool:
    """Keep SCORE (1-5) for the survey asked of CHANNEL's SENDER, once; return whether it was kept."""
    survey = session.get(Survey, survey_id)
    if survey is None or (survey.channel, survey.sender) != (channel, sender) or survey.score is not None:
        return False
    if survey.asked_at is None or not 1 <= score <= 5:
        return False
    survey.score, survey.answered_at = score, utcnow()
    return True


def comment_survey(session: Session, *, survey_id: int, channel: str, sender: str, comment: str) -> bool:
    """Keep the citizen's comment (masked by the caller, cut at COMMENT_LIMIT) on their answered survey."""
    survey = session.get(Survey, survey_id)
    if survey is None or (survey.channel, survey.sender) != (channel, sender) or survey.score is None:
        return False
    survey.comment = comment[:COMMENT_LIMIT]
    return True


def scores(
    session: Session, *, since: dt.datetime, until: dt.datetime, department: str | None = None
) -> dict[str, list[dict[str, object]]]:
    """Return the mean score and the number of answers per department (tickets) and per agent (chats)."""
    answered = [Survey.score.is_not(None), Survey.answered_at >= since, Survey.answered_at < until]
    if department:
        answered.append(Survey.department == department)
    mean, count = func.avg(Survey.score), func.count()
    by_department = session.execute(
        select(Survey.department, mean, count)
        .where(*answered, Survey.kind == "ticket")
        .group_by(Survey.department)
    ).all()
    by_agent = session.execute(
        select(Agent.name, mean, count).join(Agent, Agent.id == Survey.agent_id)
        .where(*answered, Survey.kind == "handoff").group_by(Agent.name)
    ).all()  # fmt: skip
    return {
        "by_department": [
            {"department": d, "mean": round(float(m), 2), "answers": int(n)} for d, m, n in by_department
        ],
        "by_agent": [{"agent": a, "mean": round(float(m), 2), "answers": int(n)} for a, m, n in by_agent],
    }
