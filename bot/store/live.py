"""소통라이브 in the database: sessions, questions, 공감 votes, who asked to be told, and the ranking.

Questions alike (bot.tickets.duplicates.similarity on their words) share a group: its first question's id.
A group is ranked by its supporters: the citizens who asked one of its open questions or agreed with one
(each counted once, however many of its questions they asked or agreed with), so that votes are not split
between two wordings of one question. Hidden and withdrawn questions count for nothing and are shown to
nobody but staff. The group's answer is kept on its first question.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.alike import similarity
from bot.privacy import sign
from bot.store.models import LiveFollower, LiveQuestion, LiveSession, LiveVote, aware, utcnow

__all__ = [
    "GROUP_THRESHOLD", "Closed", "LiveSessionView", "QuestionView", "add_question", "add_session", "answer",
    "answers_due", "follow", "follows", "forget_citizens", "group_of", "hide", "mark_answer_sent",
    "open_questions_for", "questions_of", "ranking", "regroup", "remind_due", "get_session", "sessions",
    "vote", "withdraw",
]  # fmt: skip

BROADCAST = dt.timedelta(minutes=90)  # answers go out once the broadcast is over (the profile may say longer)
GROUP_THRESHOLD = 0.35  # two questions this alike (or more) are one question asked twice
TITLE_LIMIT, URL_LIMIT, ANSWER_LIMIT, REASON_LIMIT = 200, 1000, 2000, 200


class Closed(Exception):
    """The session takes no questions or votes now (not yet open, or closed)."""


@dataclass(frozen=True)
class LiveSessionView:
    """A session: its title, when it takes questions, when and where it airs."""

    id: int
    title: str
    opens_at: dt.datetime
    closes_at: dt.datetime
    airs_at: dt.datetime
    stream_url: str

    def taking(self, now: dt.datetime) -> bool:
        """Whether the session takes questions and 공감 at NOW."""
        return self.opens_at <= now < self.closes_at

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id, "title": self.title, "opens_at": self.opens_at.isoformat(),
            "closes_at": self.closes_at.isoformat(), "airs_at": self.airs_at.isoformat(),
            "stream_url": self.stream_url,
        }  # fmt: skip


@dataclass(frozen=True)
class QuestionView:
    """A question as the citizen who asked it, a citizen agreeing, or staff see it (never who asked)."""

    id: int
    session_id: int
    text: str
    district: str | None
    topic: str
    group: int
    status: str
    votes: int = 0
    hidden_reason: str | None = None


def _session(row: LiveSession) -> LiveSessionView:
    return LiveSessionView(
        row.id, row.title, aware(row.opens_at), aware(row.closes_at), aware(row.airs_at), row.stream_url
    )


def _question(row: LiveQuestion, votes: int = 0) -> QuestionView:
    return QuestionView(
        row.id, row.session_id, row.text, row.district, row.topic, row.group_id or row.id, row.status, votes,
        row.hidden_reason,
    )  # fmt: skip


def add_session(
    session: Session, *, title: str, opens_at: dt.datetime, closes_at: dt.datetime, airs_at: dt.datetime,
    stream_url: str, by: str,
) -> int:  # fmt: skip
    """Store a session; ValueError, saying what is wrong, if it is not one. Return its id."""
    title = title.strip()
    if not 0 < len(title) <= TITLE_LIMIT:
        raise ValueError(f"a title is 1 to {TITLE_LIMIT} characters")
    if any(t.tzinfo is None for t in (opens_at, closes_at, airs_at)):
        raise ValueError("times need their time zone")
    if not opens_at < closes_at <= airs_at:
        raise ValueError("questions open before they close, and close before (or when) it airs")
    if not stream_url.startswith("https://") or len(stream_url) > URL_LIMIT:
        raise ValueError(f"the stream's address is an https:// address of at most {URL_LIMIT} characters")
    utc = dt.timezone.utc  # stored in UTC: SQLite keeps no zone, and aware() reads a bare time as UTC
    row = LiveSession(
        title=title, opens_at=opens_at.astimezone(utc), closes_at=closes_at.astimezone(utc),
        airs_at=airs_at.astimezone(utc), stream_url=stream_url, created_by=by,
    )  # fmt: skip
    session.add(row)
    session.flush()
    return int(row.id)


def sessions(session: Session, *, limit: int = 20) -> list[LiveSessionView]:
    """Return the sessions, the one that airs last first."""
    rows = session.scalars(select(LiveSession).order_by(LiveSession.airs_at.desc()).limit(limit))
    return [_session(r) for r in rows]


def get_session(session: Session, session_id: int) -> LiveSessionView | None:
    """Return the session SESSION_ID, or None."""
    row = session.get(LiveSession, session_id)
    return None if row is None else _session(row)


def _taking(session: Session, session_id: int, now: dt.datetime) -> LiveSession:
    row = session.get(LiveSession, session_id)
    if row is None or not aware(row.opens_at) <= now < aware(row.closes_at):
        raise Closed(session_id)
    return row


def add_question(
    session: Session, *, session_id: int, channel: str, sender: str, text: str, district: str | None,
    topic: str, most: int, now: dt.datetime | None = None,
) -> tuple[QuestionView, bool] | None:  # fmt: skip
    """Store a citizen's question (TEXT already masked and cut) in an open session and join it to the
    group of the open question most like it; return it and whether it joined another's group, or None if
    the citizen has MOST open questions there already. Closed if the session takes none now."""
    _taking(session, session_id, now or utcnow())
    held = session.scalar(
        select(func.count(LiveQuestion.id)).where(
            LiveQuestion.session_id == session_id, LiveQuestion.channel == channel,
            LiveQuestion.sender == sender, LiveQuestion.status.in_(("open", "hidden")),
        )
    )  # fmt: skip
    if (held or 0) >= most:
        return None
    # Alike only within one topic ("천안역 주변 주차 문제" and "천안역 주변 노숙인 문제" share most words),
    # the 읍·면·동 both name left out of the comparison.
    others = session.scalars(
        select(LiveQuestion).where(
            LiveQuestion.session_id == session_id, LiveQuestion.status == "open", LiveQuestion.topic == topic
        )
    )
    best, score = None, 0.0
    for other in others:
        alike = similarity(text, None, other.text, None, district if district == other.district else None)
        if alike > score:
            best, score = other, alike
    group = (best.group_id or best.id) if best is not None and score >= GROUP_THRESHOLD else None
    row = LiveQuestion(
        session_id=session_id, channel=channel, sender=sender, text=text, district=district, topic=topic,
        group_id=group, status="open",
    )  # fmt: skip
    session.add(row)
    session.flush()
    return _question(row), group is not None


def _votes(session: Session, ids: list[int]) -> dict[int, int]:
    if not ids:
        return {}
    rows = session.execute(
        select(LiveVote.question_id, func.count()).where(LiveVote.question_id.in_(ids))
        .group_by(LiveVote.question_id)
    )  # fmt: skip
    return {int(q): int(n) for q, n in rows}


def questions_of(session: Session, *, session_id: int, channel: str, sender: str) -> list[QuestionView]:
    """Return the citizen's open questions in the session, with their votes."""
    rows = list(
        session.scalars(
            select(LiveQuestion).where(
                LiveQuestion.session_id == session_id, LiveQuestion.channel == channel,
                LiveQuestion.sender == sender, LiveQuestion.status == "open",
            ).order_by(LiveQuestion.id)
        )
    )  # fmt: skip
    votes = _votes(session, [r.id for r in rows])
    return [_question(r, votes.get(r.id, 0)) for r in rows]


def withdraw(session: Session, *, question_id: int, channel: str, sender: str) -> bool:
    """Withdraw the citizen's own open question; return whether it was theirs and open. A group whose
    first question goes keeps its id (its other questions stay grouped)."""
    done = session.execute(
        update(LiveQuestion)
        .where(
            LiveQuestion.id == question_id, LiveQuestion.channel == channel, LiveQuestion.sender == sender,
            LiveQuestion.status == "open",
        )
        .values(status="withdrawn")
    )  # fmt: skip
    return bool(done.rowcount)


def open_questions_for(
    session: Session, *, session_id: int, channel: str, sender: str, limit: int = 5
) -> list[QuestionView]:
    """Return up to LIMIT groups' questions for the citizen to agree with: not their own, not agreed with
    yet, those of the topics and 읍·면·동 of their own questions first, then the most supported."""
    mine = questions_of(session, session_id=session_id, channel=channel, sender=sender)
    topics, districts = {q.topic for q in mine}, {q.district for q in mine if q.district}
    own_groups = {q.group for q in mine}
    agreed = set(
        session.scalars(
            select(func.coalesce(LiveQuestion.group_id, LiveQuestion.id))
            .join(LiveVote, LiveVote.question_id == LiveQuestion.id)
            .where(
                LiveQuestion.session_id == session_id, LiveVote.channel == channel, LiveVote.sender == sender
            )
        )
    )
    shown = []
    for group in ranking(session, session_id=session_id):
        if group["group"] in own_groups or group["group"] in agreed:
            continue
        first = group["questions"][0]
        near = first["topic"] in topics or (first["district"] in districts if first["district"] else False)
        shown.append((not near, -group["supporters"], group))
    shown.sort(key=lambda item: (item[0], item[1]))
    return [
        QuestionView(
            g["questions"][0]["id"], session_id, g["questions"][0]["text"], g["questions"][0]["district"],
            g["questions"][0]["topic"], g["group"], "open", g["supporters"],
        )
        for _, _, g in shown[:limit]
    ]  # fmt: skip


def vote(
    session: Session, *, question_id: int, channel: str, sender: str, now: dt.datetime | None = None
) -> tuple[bool, int] | None:
    """Agree with an open question of an open session (not one's own); return whether the vote is new and
    the group's supporters, or None if there is no such question to agree with. Closed if the session takes
    no votes now."""
    row = session.get(LiveQuestion, question_id)
    if row is None or row.status != "open" or (row.channel, row.sender) == (channel, sender):
        return None
    _taking(session, row.session_id, now or utcnow())
    found = session.scalar(
        select(LiveVote.id).where(
            LiveVote.question_id == question_id, LiveVote.channel == channel, LiveVote.sender == sender
        )
    )
    if found is None and not _added(
        session, LiveVote(question_id=question_id, channel=channel, sender=sender)
    ):
        found = -1  # the same press twice at once: the other one counted
    group = row.group_id or row.id
    supporters = next(
        (g["supporters"] for g in ranking(session, session_id=row.session_id) if g["group"] == group), 0
    )
    return found is None, supporters


def follow(session: Session, *, session_id: int, channel: str, sender: str) -> bool:
    """Record the citizen's consent to the session's reminder and answers; return whether it is new."""
    found = session.scalar(
        select(LiveFollower.id).where(
            LiveFollower.session_id == session_id, LiveFollower.channel == channel,
            LiveFollower.sender == sender,
        )
    )  # fmt: skip
    return found is None and _added(
        session, LiveFollower(session_id=session_id, channel=channel, sender=sender)
    )


def _added(session: Session, row: LiveVote | LiveFollower) -> bool:
    """Insert ROW in a savepoint; return False if its unique key is taken (a press twice at once)."""
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        return False
    return True


def follows(session: Session, *, session_id: int, channel: str, sender: str) -> bool:
    """Return whether the citizen consented to the session's reminder and answers."""
    return (
        session.scalar(
            select(LiveFollower.id).where(
                LiveFollower.session_id == session_id,
                LiveFollower.channel == channel,
                LiveFollower.sender == sender,
            )
        )  # fmt: skip
        is not None
    )


def ranking(session: Session, *, session_id: int, hidden: bool = False) -> list[dict[str, Any]]:
    """Return the session's groups, the most supported first: {group, supporters, votes, topic, district,
    answer, answer_url, questions: [{id, text, topic, district, votes, status, hidden_reason}]} (the first
    question is the group's). HIDDEN: also the hidden and withdrawn questions (staff), counted for nothing.
    Never who asked or agreed."""
    rows = list(
        session.scalars(
            select(LiveQuestion).where(LiveQuestion.session_id == session_id).order_by(LiveQuestion.id)
        )
    )
    votes = _votes(session, [r.id for r in rows])
    voters: dict[int, set[tuple[str, str]]] = {}
    for question_id, channel, sender in session.execute(
        select(LiveVote.question_id, LiveVote.channel, LiveVote.sender)
        .join(LiveQuestion, LiveQuestion.id == LiveVote.question_id)
        .where(LiveQuestion.session_id == session_id)
    ):
        voters.setdefault(int(question_id), set()).add((channel, sender))
    groups: dict[int, dict[str, Any]] = {}
    for row in rows:
        if row.status == "hidden" and not hidden:
            continue
        key = row.group_id or row.id
        group = groups.setdefault(
            key, {"group": key, "supporters": 0, "votes": 0, "people": set(), "questions": []}
        )
        if row.status == "open" or hidden:
            group["questions"].append({
                "id": row.id, "text": row.text, "topic": row.topic, "district": row.district,
                "votes": votes.get(row.id, 0), "status": row.status, "hidden_reason": row.hidden_reason,
                "created_at": aware(row.created_at).isoformat(),
            })  # fmt: skip
        # Agreement stays with the group when the question agreed with is withdrawn (not when hidden).
        if row.status != "hidden":
            group["people"] |= voters.get(row.id, set())
            group["votes"] += votes.get(row.id, 0)
        if row.status == "open":
            group["people"].add((row.channel, row.sender))
    firsts = {r.id: r for r in rows}
    ranked = []
    for key, group in groups.items():
        people = group.pop("people")
        group["supporters"] = len(people)
        open_ones = [q for q in group["questions"] if q["status"] == "open"]
        if not open_ones and not (hidden and group["questions"]):
            continue
        lead = (open_ones or group["questions"])[0]
        first = firsts.get(key)
        group.update(
            topic=lead["topic"], district=lead["district"],
            answer=first.answer if first is not None else None,
            answer_url=first.answer_url if first is not None else None,
        )  # fmt: skip
        group["questions"].sort(key=lambda q: (q["status"] != "open", q["id"]))
        ranked.append(group)
    ranked.sort(key=lambda g: (-g["supporters"], -g["votes"], g["group"]))
    return ranked


def group_of(session: Session, question_id: int) -> LiveQuestion | None:
    """Return the first question of QUESTION_ID's group (where its answer is kept), or None."""
    row = session.get(LiveQuestion, question_id)
    if row is None:
        return None
    return session.get(LiveQuestion, row.group_id) if row.group_id else row


def hide(session: Session, *, question_id: int, reason: str, by: str, show: bool = False) -> bool:
    """Hide a question (abusive, or holding personal data) with a REASON; SHOW: show it again. Return
    whether there was such a question to change."""
    row = session.get(LiveQuestion, question_id)
    if row is None or row.status == "withdrawn":
        return False
    reason = reason.strip()[:REASON_LIMIT]
    if not show and not reason:
        raise ValueError("say why the question is hidden")
    row.status, row.hidden_reason, row.moderated_by = ("open", None, by) if show else ("hidden", reason, by)
    session.flush()
    return True


def regroup(session: Session, *, question_id: int, into: int | None) -> bool:
    """Move a question into INTO's group (None: a group of its own); return whether both are questions of
    one session."""
    row = session.get(LiveQuestion, question_id)
    if row is None:
        return False
    if into is None:
        row.group_id = None
        session.flush()
        return True
    target = session.get(LiveQuestion, into)
    if target is None or target.session_id != row.session_id or target.id == row.id:
        return False
    row.group_id = target.group_id or target.id
    session.flush()
    return True


def answer(session: Session, *, question_id: int, text: str, url: str | None, by: str) -> bool:
    """Record the answer of QUESTION_ID's group (a text, and a link into the recording); it is sent to
    those who asked or agreed and consented, once the session has aired. Return whether there was such a
    question. ValueError if the answer is not one."""
    text = text.strip()
    if not 0 < len(text) <= ANSWER_LIMIT:
        raise ValueError(f"an answer is 1 to {ANSWER_LIMIT} characters")
    if url and (not url.startswith("https://") or len(url) > URL_LIMIT):
        raise ValueError(f"the answer's link is an https:// address of at most {URL_LIMIT} characters")
    first = group_of(session, question_id)
    if first is None:
        return False
    first.answer, first.answer_url, first.answered_by, first.answered_at = text, url or None, by, utcnow()
    first.answer_sent_at = None  # a corrected answer is sent again
    session.flush()
    return True


def _group_people(session: Session, group: int) -> tuple[str | None, set[tuple[str, str]]]:
    """Return the group's first open question (what its answer quotes) and those who asked one of its open
    questions or agreed with one that is not hidden (a withdrawn question's agreement stays)."""
    rows = list(
        session.scalars(
            select(LiveQuestion)
            .where(
                (LiveQuestion.id == group) | (LiveQuestion.group_id == group), LiveQuestion.status != "hidden"
            )
            .order_by(LiveQuestion.id)
        )
    )
    asked = [r for r in rows if r.status == "open"]
    agreed = select(LiveVote.channel, LiveVote.sender).where(LiveVote.question_id.in_([r.id for r in rows]))
    people = {(r.channel, r.sender) for r in asked} | set(session.execute(agreed))
    return (asked[0].text if asked else None), {(str(c), str(s)) for c, s in people}


def answers_due(
    session: Session, *, after: dt.timedelta = BROADCAST, now: dt.datetime | None = None
) -> list[dict[str, Any]]:
    """Return the answers to send now (their broadcast is over: AFTER its start; not sent since recorded),
    each with its group's first open question, the answer, its link and the consenting citizens who asked
    or agreed: [{group, session_id, title, question, answer, answer_url, recipients: [(channel, sender)]}].
    A group with no open question left (all withdrawn or hidden) is sent nothing."""
    moment = (now or utcnow()) - after
    rows = session.execute(
        select(LiveQuestion, LiveSession)
        .join(LiveSession, LiveSession.id == LiveQuestion.session_id)
        .where(
            LiveQuestion.answer.is_not(None), LiveQuestion.answer_sent_at.is_(None),
            LiveSession.airs_at <= moment,
        )
        .order_by(LiveQuestion.id)
    ).all()  # fmt: skip
    due = []
    for question, live in rows:
        followers = set(
            session.execute(
                select(LiveFollower.channel, LiveFollower.sender).where(LiveFollower.session_id == live.id)
            )
        )
        quoted, people = _group_people(session, question.id)
        if quoted is None:
            continue
        due.append({
            "group": question.id, "session_id": live.id, "title": live.title, "question": quoted,
            "answer": question.answer, "answer_url": question.answer_url,
            "recipients": sorted(p for p in people if p in {(str(c), str(s)) for c, s in followers}),
        })  # fmt: skip
    return due


def mark_answer_sent(session: Session, *, group: int) -> bool:
    """Claim GROUP's answer for sending (once, whichever gateway asks first); return whether this caller
    has it."""
    done = session.execute(
        update(LiveQuestion)
        .where(
            LiveQuestion.id == group, LiveQuestion.answer_sent_at.is_(None), LiveQuestion.answer.is_not(None)
        )
        .values(answer_sent_at=utcnow())
    )
    return bool(done.rowcount)


def remind_due(
    session: Session, *, before: dt.timedelta, now: dt.datetime | None = None
) -> list[tuple[LiveSessionView, list[tuple[str, str]]]]:
    """Claim the reminders due now (sessions airing within BEFORE, not reminded yet) and return each
    session with its followers; a claimed reminder is not claimed again."""
    moment = now or utcnow()
    due = list(
        session.scalars(
            select(LiveSession).where(
                LiveSession.reminded_at.is_(None), LiveSession.airs_at > moment,
                LiveSession.airs_at <= moment + before,
            )
        )
    )  # fmt: skip
    claimed = []
    for row in due:
        done = session.execute(
            update(LiveSession)
            .where(LiveSession.id == row.id, LiveSession.reminded_at.is_(None))
            .values(reminded_at=moment)
        )
        if not done.rowcount:
            continue
        people = session.execute(
            select(LiveFollower.channel, LiveFollower.sender).where(LiveFollower.session_id == row.id)
            .order_by(LiveFollower.id)
        )  # fmt: skip
        claimed.append((_session(row), [(str(c), str(s)) for c, s in people]))
    return claimed


def forget_citizens(session: Session, *, before: dt.datetime) -> int:
    """Of the sessions that aired before BEFORE (the retention rule), keep the questions, their support and
    answers (the public page) but not who asked or agreed: their conversation ids become short hashes that
    reach nobody, and the consents go. Return how many rows changed."""
    aired = select(LiveSession.id).where(LiveSession.airs_at < before)
    gone = delete(LiveFollower).where(LiveFollower.session_id.in_(aired))
    changed = session.execute(gone.execution_options(synchronize_session=False)).rowcount or 0
    questions = select(LiveQuestion.id).where(LiveQuestion.session_id.in_(aired))
    rows: list[LiveQuestion | LiveVote] = [
        *session.scalars(select(LiveQuestion).where(LiveQuestion.session_id.in_(aired))),
        *session.scalars(select(LiveVote).where(LiveVote.question_id.in_(questions))),
    ]
    for row in rows:
        if not row.sender.startswith("#"):
            # Keyed: an unkeyed hash of a Telegram user's number would be found by trying them all.
            row.sender = "#" + sign(f"live:{row.channel}:{row.sender}")[:20]
            changed += 1
    session.flush()
    return int(changed)
