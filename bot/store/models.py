"""The tables of the project's schema, as SQLAlchemy models.

Alembic creates them (bot/store/migrations).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeMeta, registry, relationship

from bot.privacy import unseal

__all__ = [
    "AccessLog", "Agent", "AgentSession", "Base", "CrisisLabel", "HANDOFF_STATUSES", "Handoff",
    "ImportedLabel", "Label",
    "Message", "ModelVersion", "OPEN_HANDOFF",
    "Broadcast", "BroadcastDelivery", "CardSet", "OutboxItem", "Post", "Subscription",
    "STATUSES", "Survey", "Ticket", "TicketEvent", "aware", "utcnow",
]  # fmt: skip

_registry = registry()


class Base(metaclass=DeclarativeMeta):
    """Declarative base (the SQLAlchemy 1.4 form that type checkers understand)."""

    __abstract__ = True
    registry = _registry
    metadata = _registry.metadata
    __init__ = _registry.constructor


# A ticket's life: received -> assigned -> in_progress -> resolved, or rejected at any point.
STATUSES = ("received", "assigned", "in_progress", "resolved", "rejected")
_STATUS_CHECK = "status IN ('received', 'assigned', 'in_progress', 'resolved', 'rejected')"


def utcnow() -> dt.datetime:
    """Return the current time, timezone-aware, in UTC."""
    return dt.datetime.now(dt.timezone.utc)


def aware(moment: dt.datetime) -> dt.datetime:
    """Return MOMENT, stored in UTC, timezone-aware (SQLite gives it back naive)."""
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.timezone.utc)


class Ticket(Base):
    """A complaint filed by a citizen; its public number is derived from id and year (2026-000123)."""

    __tablename__ = "tickets"
    __table_args__ = (
        CheckConstraint(_STATUS_CHECK, name="ck_tickets_status"),
        Index("ix_tickets_district_category", "district", "category"),
    )

    id = Column(Integer, primary_key=True, autoincrement=True)
    category = Column(String(32), nullable=False)
    department = Column(String(100), nullable=False, index=True)
    district = Column(String(50))  # 읍·면·동
    location_text = Column(Text)
    latitude = Column(Float)
    longitude = Column(Float)
    description = Column(Text, nullable=False)
    photo_url = Column(Text)
    contact_phone = Column(String(32))  # only with consent (contact_consent_at set)
    contact_consent_at = Column(DateTime(timezone=True))
    channel = Column(String(16), nullable=False)
    sender = Column(String(128), nullable=False, index=True)
    status = Column(String(16), nullable=False, default="received", index=True)
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow, index=True)
    updated_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    # The day processing should be done by (working days from the profile's deadline for the category).
    due_at = Column(DateTime(timezone=True))
    # A second report of the same problem, merged into the first: it follows the first one's steps.
    merged_into = Column(Integer, ForeignKey("tickets.id", name="fk_tickets_merged_into"), index=True)

    events = relationship("TicketEvent", order_by="TicketEvent.id", back_populates="ticket")
    merged_into_ticket = relationship("Ticket", remote_side=[id], lazy="joined", join_depth=1)


class TicketEvent(Base):
    """One step of a ticket's timeline: a status it entered, with a note for the citizen."""

    __tablename__ = "ticket_events"
    __table_args__ = (CheckConstraint(_STATUS_CHECK, name="ck_ticket_events_status"),)

    id = Column(Integer, primary_key=True, autoincrement=True)
    ticket_id = Column(Integer, ForeignKey("tickets.id", ondelete="CASCADE"), nullable=False, index=True)
    status = Column(String(16), nullable=False)
    # status: the ticket entered STATUS; reassign: it moved to another department (the note says which);
    # merge: it joined another ticket (the note says which) and follows its steps from then on.
    kind = Column(String(16), nullable=False, default="status", server_default="status")
    note = Column(Text, nullable=False, default="")
    actor = Column(String(64), nullable=False)
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)

    ticket = relationship("Ticket", back_populates="events")


class Message(Base):
    """One message of a conversation as the gateway saw it: the citizen's (in) or the bot's (out)."""

    __tablename__ = "messages"
    __table_args__ = (CheckConstraint("direction IN ('in', 'out')", name="ck_messages_direction"),)

    id = Column(Integer, primary_key=True, autoincrement=True)
    channel = Column(String(16), nullable=False)
    sender = Column(String(128), nullable=False, index=True)
    direction = Column(String(3), nullable=False)
    # A citizen's text is kept with personal data masked (bot/privacy.py), the raw text sealed beside it
    # (only when masking changed it): to replay it to Rasa, or for an agent's logged "개인정보 보기".
    text = Column(Text, nullable=False, default="")
    sealed = Column(Text)
    # JSON: a pressed button's payload, a photo or a place (in); buttons and images (out).
    data = Column(Text, nullable=False, default="{}")
    # For a citizen's message: whether the bot answered it (False while Rasa was down).
    answered = Column(Boolean, nullable=False, default=False)
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow, index=True)

    @property
    def raw_text(self) -> str:
        """The text as the citizen wrote it (the masked text if the seal cannot be opened)."""
        return unseal(self.sealed) or self.text


class OutboxItem(Base):
    """Answers waiting for a channel that cannot push (Kakao): sent with the citizen's next message."""

    __tablename__ = "outbox"

    id = Column(Integer, primary_key=True, autoincrement=True)
    channel = Column(String(16), nullable=False)
    sender = Column(String(128), nullable=False, index=True)
    data = Column(Text, nullable=False)  # JSON list of channel-neutral messages
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow, index=True)
    delivered_at = Column(DateTime(timezone=True))


# A handoff's life: waiting -> assigned -> closed; waiting or assigned -> abandoned (the citizen left) or
# back to waiting (the agent left).
HANDOFF_STATUSES = ("waiting", "assigned", "closed", "abandoned")
OPEN_HANDOFF = ("waiting", "assigned")


class Agent(Base):
    """A person who takes handed-off chats in the console (python -m bot.agents add NAME)."""

    __tablename__ = "agents"

    id = Column(Integer, primary_key=True, autoincrement=True)
    name = Column(String(64), nullable=False, unique=True)
    password_hash = Column(String(255), nullable=False)
    active = Column(Boolean, nullable=False, default=True)
    # agent: takes chats, opens personal data only of the chat they hold; supervisor and admin: of any chat.
    role = Column(String(16), nullable=False, default="agent", server_default="agent")
    # staff: the department whose tickets they see and move (its name, as tickets keep it).
    department = Column(String(100))
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)


class AgentSession(Base):
    """A logged-in console: the cookie holds the token; only its hash is stored."""

    __tablename__ = "agent_sessions"

    id = Column(Integer, primary_key=True, autoincrement=True)
    token_hash = Column(String(64), nullable=False, unique=True)
    csrf = Column(String(64), nullable=False)
    agent_id = Column(Integer, ForeignKey("agents.id", ondelete="CASCADE"), nullable=False, index=True)
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    expires_at = Column(DateTime(timezone=True), nullable=False)


class Handoff(Base):
    """A conversation handed to people: the gateway routes its messages to the agent while it is open."""

    __tablename__ = "handoffs"
    __table_args__ = (
        CheckConstraint(
            "status IN ('waiting', 'assigned', 'closed', 'abandoned')", name="ck_handoffs_status"
        ),
        CheckConstraint("priority IN ('urgent', 'normal')", name="ck_handoffs_priority"),
    )

    id = Column(Integer, primary_key=True, autoincrement=True)
    channel = Column(String(16), nullable=False)
    sender = Column(String(128), nullable=False, index=True)
    status = Column(String(16), nullable=False, default="waiting", index=True)
    priority = Column(String(8), nullable=False, default="normal")
    # requested (the citizen asked), not_understood (twice), crisis, or callback (a request left).
    reason = Column(String(32), nullable=False)
    guesses = Column(Text, nullable=False, default="[]")  # JSON: the bot's last intent guesses
    agent_id = Column(Integer, ForeignKey("agents.id"), nullable=True)
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    claimed_at = Column(DateTime(timezone=True))
    closed_at = Column(DateTime(timezone=True))
    # A web chat's client address as a keyed hash (bot.privacy.sign): the open handoffs of one address
    # are capped (a script opening urgent chats from fresh ids would bury real crises). None elsewhere.
    origin = Column(String(32), index=True)
    callback_offered_at = Column(DateTime(timezone=True))
    # Whether Rasa has been told to resume (False while Rasa was down at closing: retried later).
    resumed = Column(Boolean, nullable=False, default=False)
    ticket_number = Column(String(16))  # a callback ticket filed instead of waiting

    agent = relationship("Agent")


class Label(Base):
    """An agent's reading of a citizen's message: the intent (and category) it should have been."""

    __tablename__ = "labels"

    id = Column(Integer, primary_key=True, autoincrement=True)
    message_id = Column(Integer, ForeignKey("messages.id", ondelete="CASCADE"), nullable=False, index=True)
    intent = Column(String(32), nullable=False)
    category = Column(String(32))
    agent_id = Column(Integer, ForeignKey("agents.id"), nullable=False)
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)


class CrisisLabel(Base):
    """An agent's judgement of a crisis alarm: the message that raised it was (not) a crisis.

    The text is kept masked (bot/privacy.py); python -m bot.retrain teaches the crisis detector with it.
    """

    __tablename__ = "crisis_labels"

    id = Column(Integer, primary_key=True, autoincrement=True)
    handoff_id = Column(Integer, ForeignKey("handoffs.id", ondelete="CASCADE"), nullable=False, index=True)
    text = Column(Text, nullable=False)
    kind = Column(String(16), nullable=False)  # what the detector said (bot/handoff/crisis.py KINDS)
    crisis = Column(Boolean, nullable=False)
    agent_id = Column(Integer, ForeignKey("agents.id"), nullable=False)
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)


class AccessLog(Base):
    """An agent opened a conversation's personal data deliberately."""

    __tablename__ = "access_log"

    id = Column(Integer, primary_key=True, autoincrement=True)
    agent_id = Column(Integer, ForeignKey("agents.id"), nullable=False)
    handoff_id = Column(Integer, ForeignKey("handoffs.id", ondelete="CASCADE"), nullable=False, index=True)
    reason = Column(Text, nullable=False)
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)


class ImportedLabel(Base):
    """A labelled example from outside the console (python -m bot.retrain import), or a decision.

    A decision (python -m bot.retrain decide) settles a text that was labelled two ways; it wins over every
    other label of that text. Texts are stored with personal data masked.
    """

    __tablename__ = "imported_labels"

    id = Column(Integer, primary_key=True, autoincrement=True)
    text = Column(Text, nullable=False)
    intent = Column(String(32), nullable=False)
    category = Column(String(32))
    source = Column(String(200), nullable=False)  # the imported file's name, or "decision"
    decision = Column(Boolean, nullable=False, default=False)
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)


class ModelVersion(Base):
    """One step of the model's history: a candidate promoted or refused, a rollback, the first model."""

    __tablename__ = "model_history"
    __table_args__ = (
        CheckConstraint(
            "action IN ('baseline', 'promoted', 'refused', 'rollback')", name="ck_model_history_action"
        ),
    )

    id = Column(Integer, primary_key=True, autoincrement=True)
    action = Column(String(16), nullable=False)
    model_file = Column(Text, nullable=False)  # the archive kept in models/history/
    examples = Column(Integer, nullable=False, default=0)  # NLU examples it was trained on
    feedback = Column(Integer, nullable=False, default=0)  # of which from labels (data/nlu/feedback.yml)
    intent_accuracy = Column(Float)
    category_accuracy = Column(Float)
    # The scores of the model that was serving when this one was judged, on the same held-out set.
    serving_intent_accuracy = Column(Float)
    serving_category_accuracy = Column(Float)
    loaded = Column(Boolean, nullable=False, default=False)  # Rasa took it live (PUT /model)
    note = Column(Text, nullable=False, default="")
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)


class Survey(Base):
    """A satisfaction question: one per resolved ticket (kind ticket, ref its number) or closed chat (kind
    handoff, ref its id), asked in the daytime, answered with a score of 1 to 5 and perhaps a comment."""

    __tablename__ = "surveys"
    __table_args__ = (
        CheckConstraint("kind IN ('ticket', 'handoff')", name="ck_surveys_kind"),
        CheckConstraint("score IS NULL OR score BETWEEN 1 AND 5", name="ck_surveys_score"),
        UniqueConstraint("kind", "ref", name="uq_surveys_kind_ref"),
    )

    id = Column(Integer, primary_key=True, autoincrement=True)
    kind = Column(String(8), nullable=False)
    ref = Column(String(32), nullable=False)
    channel = Column(String(16), nullable=False)
    sender = Column(String(128), nullable=False)
    department = Column(String(100))  # a ticket's department (the dashboard's per-department scores)
    agent_id = Column(Integer, ForeignKey("agents.id"))  # a chat's agent (per-agent scores)
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    asked_at = Column(DateTime(timezone=True), index=True)
    score = Column(Integer)
    comment = Column(Text)
    answered_at = Column(DateTime(timezone=True), index=True)


class Post(Base):
    """A post of one of the city's feeds (blog, YouTube, press releases): stored once per source and guid,
    updated when the feed edits it. TERMS is what search matches (bot/news/terms.py): SQLite's FTS5 table
    posts_fts and PostgreSQL's full-text index over it are made by migration 0011, not by this model."""

    __tablename__ = "posts"
    __table_args__ = (UniqueConstraint("source", "guid", name="uq_posts_source_guid"),)

    id = Column(Integer, primary_key=True, autoincrement=True)
    source = Column(String(32), nullable=False)
    guid = Column(String(500), nullable=False)
    title = Column(String(300), nullable=False)
    link = Column(String(1000), nullable=False)
    # The feed's date, or when the post was first seen if the feed gives none it can read.
    published_at = Column(DateTime(timezone=True), nullable=False, index=True)
    category = Column(String(50), index=True)
    tags = Column(Text, nullable=False, default="")  # one per line
    summary = Column(Text, nullable=False, default="")  # plain text
    image = Column(String(1000))
    terms = Column(Text, nullable=False, default="")
    fetched_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    updated_at = Column(DateTime(timezone=True))


class CardSet(Base):
    """Card news staff publish (python -m bot.news cards add): a title and 1 to 10 cards, each an image
    with a caption and perhaps a link (CARDS, JSON), for a subscription topic (the weekend guide)."""

    __tablename__ = "card_sets"

    id = Column(Integer, primary_key=True, autoincrement=True)
    topic = Column(String(32), nullable=False, index=True)
    title = Column(String(200), nullable=False)
    cards = Column(Text, nullable=False)
    created_by = Column(String(100), nullable=False, default="")
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)


class Subscription(Base):
    """A citizen's conversation that receives a topic (the weekend guide, city news) until it says stop."""

    __tablename__ = "subscriptions"
    __table_args__ = (UniqueConstraint("channel", "sender", "topic", name="uq_subscriptions_who_topic"),)

    id = Column(Integer, primary_key=True, autoincrement=True)
    channel = Column(String(16), nullable=False)
    sender = Column(String(128), nullable=False)
    topic = Column(String(32), nullable=False, index=True)
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)


class Broadcast(Base):
    """One sending of a card set to its topic's subscribers (never twice: one per card set), with its
    counts; its deliveries are the recipients as they were when it started."""

    __tablename__ = "broadcasts"

    id = Column(Integer, primary_key=True, autoincrement=True)
    topic = Column(String(32), nullable=False)
    card_set_id = Column(Integer, ForeignKey("card_sets.id"), nullable=False, unique=True)
    started_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    finished_at = Column(DateTime(timezone=True))


class BroadcastDelivery(Base):
    """A recipient of a broadcast: pending, then sent (pushed), queued (kept for their next message:
    Kakao, or a web chat that is closed), blocked (the messenger says they blocked the bot: unsubscribed)
    or failed."""

    __tablename__ = "broadcast_deliveries"
    __table_args__ = (
        UniqueConstraint("broadcast_id", "channel", "sender", name="uq_broadcast_deliveries_who"),
        Index("ix_broadcast_deliveries_status", "broadcast_id", "status"),
    )

    id = Column(Integer, primary_key=True, autoincrement=True)
    broadcast_id = Column(Integer, ForeignKey("broadcasts.id"), nullable=False)
    channel = Column(String(16), nullable=False)
    sender = Column(String(128), nullable=False)
    status = Column(String(8), nullable=False, default="pending")
    done_at = Column(DateTime(timezone=True))


class LiveSession(Base):
    """A 소통라이브: the mayor answers citizens' questions live. Questions are taken between OPENS_AT and
    CLOSES_AT; the broadcast airs at AIRS_AT at STREAM_URL; REMINDED_AT: when those who asked for it were
    reminded (once)."""

    __tablename__ = "live_sessions"

    id = Column(Integer, primary_key=True, autoincrement=True)
    title = Column(String(200), nullable=False)
    opens_at = Column(DateTime(timezone=True), nullable=False)
    closes_at = Column(DateTime(timezone=True), nullable=False)
    airs_at = Column(DateTime(timezone=True), nullable=False, index=True)
    stream_url = Column(String(1000), nullable=False)
    created_by = Column(String(100), nullable=False)
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    reminded_at = Column(DateTime(timezone=True))


class LiveQuestion(Base):
    """A citizen's question for a 소통라이브, stored masked. Questions alike share a group (GROUP_ID: the
    group's first question) so that agreement is not split; the group's answer is kept on that first one.
    STATUS: open, withdrawn (by the citizen) or hidden (by staff, with a reason)."""

    __tablename__ = "live_questions"
    __table_args__ = (
        CheckConstraint("status IN ('open', 'withdrawn', 'hidden')", name="ck_live_questions_status"),
    )

    id = Column(Integer, primary_key=True, autoincrement=True)
    session_id = Column(Integer, ForeignKey("live_sessions.id"), nullable=False, index=True)
    channel = Column(String(16), nullable=False)
    sender = Column(String(128), nullable=False)
    text = Column(Text, nullable=False)
    district = Column(String(32))
    topic = Column(String(32), nullable=False)
    group_id = Column(Integer, ForeignKey("live_questions.id"), index=True)
    status = Column(String(12), nullable=False, default="open")
    hidden_reason = Column(String(200))
    moderated_by = Column(String(100))
    answer = Column(Text)
    answer_url = Column(String(1000))
    answered_by = Column(String(100))
    answered_at = Column(DateTime(timezone=True))
    answer_sent_at = Column(DateTime(timezone=True))
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)


class LiveVote(Base):
    """A citizen's 공감 with a question: one per citizen and question."""

    __tablename__ = "live_votes"
    __table_args__ = (UniqueConstraint("question_id", "channel", "sender", name="uq_live_votes_who"),)

    id = Column(Integer, primary_key=True, autoincrement=True)
    question_id = Column(Integer, ForeignKey("live_questions.id"), nullable=False, index=True)
    channel = Column(String(16), nullable=False)
    sender = Column(String(128), nullable=False)
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)


class LiveFollower(Base):
    """A citizen who agreed, when asking or agreeing, to be sent the session's reminder and the answers to
    the questions they asked or agreed with (a one-off consent for that session)."""

    __tablename__ = "live_followers"
    __table_args__ = (UniqueConstraint("session_id", "channel", "sender", name="uq_live_followers_who"),)

    id = Column(Integer, primary_key=True, autoincrement=True)
    session_id = Column(Integer, ForeignKey("live_sessions.id"), nullable=False, index=True)
    channel = Column(String(16), nullable=False)
    sender = Column(String(128), nullable=False)
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
