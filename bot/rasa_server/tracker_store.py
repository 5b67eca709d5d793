"""Rasa's SQL tracker store, with the conversations this Rasa server is handling kept in memory.

Rasa's SQLTrackerStore reads a conversation's whole session on every message and recounts the stored events
before saving, a large share of Rasa's CPU. This one keeps recent sessions as the database holds them and
writes through; a kept session is used only while the database's last event id for the conversation is its
own (else another Rasa server wrote, and the database is read as Rasa does). It uses the project's pooled
engine (bot.store.db), where Rasa's opens an SQLite connection per query and syncs the disk at every commit.

Personal data does not reach the events table in clear: what citizens and the bot said, and slot values,
are stored masked (bot/privacy.py), and the phone number of a form in progress sealed, opened again when
the conversation is read (the form files it with the ticket).
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import json
import logging
import weakref
from collections import OrderedDict
from typing import Any

from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import SessionStarted
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY
from sqlalchemy import func, insert, select
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from bot.photos import is_photo_ref
from bot.privacy import is_sealed, mask_personal_data, seal, unseal
from bot.store.db import RECONNECT, get_engine

logger = logging.getLogger(__name__)

__all__ = ["CachedSQLTrackerStore"]


@dataclasses.dataclass(frozen=True)
class _Event:
    """A row of the events table, as SQLTrackerStore.save fills it (data is parsed anew for each tracker)."""

    type_name: str
    timestamp: float | None
    intent_name: str | None
    action_name: str | None
    data: str


@dataclasses.dataclass
class _Session:
    """A conversation's latest session as the database holds it, and the id of its last stored event."""

    events: list[_Event]
    last_id: int


class CachedSQLTrackerStore(SQLTrackerStore):
    """SQLTrackerStore that keeps the latest session of recent conversations in memory (write-through)."""

    def __init__(
        self,
        domain: Domain | None = None,
        host: str | None = None,
        event_broker: EventBroker | None = None,
        cache_size: int = 2000,
        **kwargs: Any,
    ) -> None:
        """Connect as SQLTrackerStore does (HOST: a database URL); keep at most CACHE_SIZE conversations."""
        super().__init__(domain=domain, host=host, event_broker=event_broker, **kwargs)
        if host and host.startswith(("sqlite", "postgresql")):
            self.engine.dispose()  # type: ignore[has-type]
            self.engine = get_engine(host)
            self.sessionmaker = sessionmaker(bind=self.engine)
        self._cache_size = max(0, int(cache_size))
        self._sessions: OrderedDict[str, _Session] = OrderedDict()
        # The tracker last handed out per conversation, and how many of its events are stored.
        self._handed_out: dict[str, tuple[weakref.ref[DialogueStateTracker], int]] = {}

    async def retrieve(self, sender_id: str) -> DialogueStateTracker | None:
        """Return the tracker of the conversation's latest session: from memory if the database agrees.

        Found by make bench-faults: Rasa wraps a tracker store in its FailSafeTrackerStore, which answers
        "no such conversation" when reading fails; during a PostgreSQL restart a citizen in the middle of a
        complaint form got the main menu, and the form was asked again afterwards. So reading is tried
        again while the database is away (bot.store.db.RECONNECT), and if it stays away, the conversation
        kept in memory (this server's own, as the gateway sends a conversation to one server) is used.
        """
        for pause in (*RECONNECT, None):
            try:
                return self._latest(sender_id)
            except (OperationalError, InterfaceError):
                if pause is None:
                    kept = self._sessions.get(sender_id)
                    if kept is None:
                        raise
                    logger.warning("the database is away: a conversation goes on as this server last knew it")
                    return self._tracker(sender_id, kept.events)
                await asyncio.sleep(pause)
        return None  # not reached

    def _latest(self, sender_id: str) -> DialogueStateTracker | None:
        kept = self._sessions.get(sender_id)
        if kept is not None and self._unchanged(sender_id, kept):
            self._sessions.move_to_end(sender_id)
            tracker = self._tracker(sender_id, kept.events)
        else:
            self._sessions.pop(sender_id, None)
            tracker = self._read(sender_id)
        if tracker is not None and sender_id in self._sessions:
            self._handed_out[sender_id] = (weakref.ref(tracker), len(tracker.events))
        return tracker

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Store the turn; while the database is away (a restart), try again shortly (bot.store.db.RECONNECT).

        A turn the citizen was answered for and that was not kept would be asked again at the next message.
        A failed try leaves nothing kept in memory, so the next one stores what the database lacks.
        """
        for pause in (*RECONNECT, None):
            try:
                await self._save(tracker)
                return
            except (OperationalError, InterfaceError):
                if pause is None:
                    raise
                await asyncio.sleep(pause)

    async def _save(self, tracker: DialogueStateTracker) -> None:
        """Store the events added to the tracker since it was handed out (else as SQLTrackerStore does)."""
        sender_id = tracker.sender_id
        handed = self._handed_out.pop(sender_id, None)
        kept = self._sessions.pop(sender_id, None)
        await self.stream_events(tracker)
        if kept is None or handed is None or not _same(handed[0], tracker):
            # As SQLTrackerStore.save: what the database lacks; the next retrieve reads the database.
            with self.session_scope() as session:
                self._insert(
                    session,
                    sender_id,
                    [_stored(e.as_dict()) for e in self._additional_events(session, tracker)],
                )
                session.commit()
            return
        new = [_stored(event.as_dict()) for event in itertools.islice(tracker.events, handed[1], None)]
        last_id = kept.last_id
        if new:
            with self.session_scope() as session:
                self._insert(session, sender_id, new)
                last_id = self._last_id(session, sender_id)
                session.commit()
        self._keep(sender_id, _latest_session(kept.events + new), last_id)
        self._handed_out[sender_id] = (weakref.ref(tracker), len(tracker.events))

    def _insert(self, session: Session, sender_id: str, events: list[_Event]) -> None:
        if events:
            rows = [{"sender_id": sender_id, **dataclasses.asdict(e)} for e in events]
            session.execute(insert(self.SQLEvent.__table__), rows)

    def _unchanged(self, sender_id: str, kept: _Session) -> bool:
        """Return whether the database holds no event of the conversation that KEPT lacks."""
        with self.session_scope() as session:
            return self._last_id(session, sender_id) == kept.last_id

    def _read(self, sender_id: str) -> DialogueStateTracker | None:
        """Read the latest session from the database, as SQLTrackerStore.retrieve does, and keep it."""
        with self.session_scope() as session:
            rows = self._event_query(session, sender_id, fetch_events_from_all_sessions=False).all()
            events = [
                _Event(row.type_name, row.timestamp, row.intent_name, row.action_name, row.data)
                for row in rows
            ]
            last_id = rows[-1].id if rows else 0
        if not events or not self.domain:
            return None
        self._keep(sender_id, events, last_id)
        return self._tracker(sender_id, events)

    def _tracker(self, sender_id: str, events: list[_Event]) -> DialogueStateTracker:
        return DialogueStateTracker.from_dict(
            sender_id, [_opened(json.loads(event.data)) for event in events], self.domain.slots
        )

    def _last_id(self, session: Session, sender_id: str) -> int:
        """Return the id of the conversation's last stored event (0 if none)."""
        events = self.SQLEvent.__table__
        return int(session.execute(
            select(func.max(events.c.id)).where(events.c.sender_id == sender_id)
        ).scalar() or 0)  # fmt: skip

    def _keep(self, sender_id: str, events: list[_Event], last_id: int) -> None:
        if self._cache_size == 0:
            return
        self._sessions[sender_id] = _Session(events, last_id)
        self._sessions.move_to_end(sender_id)
        while len(self._sessions) > self._cache_size:
            forgotten, _ = self._sessions.popitem(last=False)
            self._handed_out.pop(forgotten, None)


def _same(ref: weakref.ref[DialogueStateTracker], tracker: DialogueStateTracker) -> bool:
    return ref() is tracker


# Slots whose value a later turn needs in clear: sealed, not masked.
SEALED_SLOTS = frozenset({"complaint_contact_phone"})


def _private(data: dict[str, Any]) -> dict[str, Any]:
    """Return an event's data (as_dict) with personal data masked, or sealed where it is still needed."""
    kind = data.get("event")
    if kind == "slot":
        value = data.get("value")
        if data.get("name") in SEALED_SLOTS and isinstance(value, str):
            return {**data, "value": seal(value)}
        return {**data, "value": _masked(value)}
    if kind not in ("user", "bot"):
        return data
    data = {**data, "text": _masked(data.get("text"))}
    if isinstance(data.get("parse_data"), dict):
        parse = data["parse_data"]
        entities = [
            {**e, "value": _masked(e.get("value"))} if isinstance(e, dict) else e
            for e in parse.get("entities") or []
        ]
        data["parse_data"] = {**parse, "text": _masked(parse.get("text")), "entities": entities}
    return data


def _masked(value: Any) -> Any:
    if isinstance(value, str):
        return value if is_photo_ref(value) else mask_personal_data(value)[0]
    if isinstance(value, list):
        return [_masked(v) for v in value]
    return value


def _opened(data: dict[str, Any]) -> dict[str, Any]:
    """Return an event's data as stored, with a sealed slot value opened (None if the key changed)."""
    if data.get("event") == "slot" and is_sealed(data.get("value")):
        return {**data, "value": unseal(data["value"])}
    return data


def _stored(data: dict[str, Any]) -> _Event:
    """The row SQLTrackerStore.save writes for an event (as_dict), personal data masked or sealed."""
    data = _private(data)
    intent = ((data.get("parse_data") or {}).get("intent") or {}).get(INTENT_NAME_KEY)
    return _Event(str(data.get("event")), data.get("timestamp"), intent, data.get("name"), json.dumps(data))


def _latest_session(events: list[_Event]) -> list[_Event]:
    """Return the events that SQLTrackerStore's query returns: those from the latest session start on."""
    starts = [
        e.timestamp for e in events if e.type_name == SessionStarted.type_name and e.timestamp is not None
    ]
    if not starts:
        return events
    start = max(starts)
    return [e for e in events if e.timestamp is not None and e.timestamp >= start]
