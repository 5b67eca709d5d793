"""The tracker store: what Rasa's SQLTrackerStore keeps and returns, from memory when the database agrees."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import pytest
from rasa.core.tracker_store import FailSafeTrackerStore, SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    EntitiesAdded,
    Event,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from bot.rasa_server import tracker_store as tracker_store_module
from bot.rasa_server.tracker_store import CachedSQLTrackerStore
from bot.store.db import get_engine

DOMAIN = Domain.from_yaml(
    """
version: "3.1"
intents: [complaint, greet]
entities: [location]
slots:
  complaint_location:
    type: text
    mappings: [{type: custom}]
  complaint_contact_phone:
    type: text
    mappings: [{type: custom}]
  complaint_photo:
    type: text
    mappings: [{type: custom}]
"""
)


@pytest.fixture
def stores(database_url: str) -> Iterator[tuple[CachedSQLTrackerStore, SQLTrackerStore]]:
    """This project's store and Rasa's own on one database."""
    rasas = SQLTrackerStore(domain=DOMAIN, host=database_url)
    ours = CachedSQLTrackerStore(domain=DOMAIN, host=database_url)
    yield ours, rasas
    rasas.engine.dispose()


def run(coroutine: Any) -> Any:
    return asyncio.run(coroutine)


def said(text_: str, location: str | None = None) -> list[Event]:
    """A citizen's message and the bot's answer, with a slot the form would set."""
    parse = {"intent": {"name": "complaint", "confidence": 0.9}, "entities": [], "text": text_}
    events: list[Event] = [UserUttered(text_, parse["intent"], [], parse), ActionExecuted("utter_ok")]
    if location:
        events.append(SlotSet("complaint_location", location))
    return [*events, ActionExecuted("action_listen")]


def rows(database_url: str, sender: str) -> list[tuple[Any, ...]]:
    """The events table's rows of SENDER, every column but the id."""
    with get_engine(database_url).connect() as connection:
        return list(connection.execute(
            text("SELECT type_name, timestamp, intent_name, action_name, data FROM events "
                 "WHERE sender_id = :s ORDER BY id"), {"s": sender},
        ))  # fmt: skip


def converse(store: Any, sender: str, *turns: list[Event]) -> DialogueStateTracker:
    """Each turn as Rasa's processor does it: get the tracker, add the events, save it."""
    tracker = None
    for events in turns:
        tracker = run(store.get_or_create_tracker(sender))
        tracker.update_with_events(events, DOMAIN)
        run(store.save(tracker))
    assert tracker is not None
    return tracker


def dicts(tracker: DialogueStateTracker | None) -> list[dict[str, Any]]:
    assert tracker is not None
    return [event.as_dict() for event in tracker.events]


def test_it_stores_and_returns_what_rasas_store_does(
    stores: tuple[CachedSQLTrackerStore, SQLTrackerStore], database_url: str
) -> None:
    ours, rasas = stores
    turns = [said("가로등이 꺼졌어요"), said("쌍용동 사거리예요", "쌍용동 사거리"), said("네")]
    converse(ours, "ours", *turns)
    converse(rasas, "rasas", *turns)

    # The same rows, column by column (timestamps aside, which differ by when each ran).
    def columns(sender: str) -> list[tuple[Any, ...]]:
        return [(t, i, a) for t, _, i, a, _ in rows(database_url, sender)]

    assert columns("ours") == columns("rasas")
    assert "ours" in ours._sessions  # the last turns went through memory
    assert len(rows(database_url, "ours")) == 1 + 3 + 4 + 3  # action_listen, then each turn's events once
    # What comes back, from memory and from the database, is what Rasa's store reads.
    assert dicts(run(ours.retrieve("ours"))) == dicts(run(rasas.retrieve("ours")))
    assert run(ours.retrieve("ours")).get_slot("complaint_location") == "쌍용동 사거리"
    fresh = CachedSQLTrackerStore(domain=DOMAIN, host=database_url)  # after a restart: nothing in memory
    assert dicts(run(fresh.retrieve("ours"))) == dicts(run(rasas.retrieve("ours")))


def test_personal_data_is_stored_masked_and_the_forms_phone_sealed(
    stores: tuple[CachedSQLTrackerStore, SQLTrackerStore], database_url: str
) -> None:
    ours, _ = stores
    secret = "010-2345-6789 주민 900101-1234567 카드 1234-5678-9012-3456 hong@example.com"
    phone = [SlotSet("complaint_contact_phone", "010-2345-6789"), ActionExecuted("action_listen")]
    converse(ours, "pii", said(secret, "불당동 사거리"), phone)
    stored = " ".join(
        json.dumps(json.loads(row[-1]), ensure_ascii=False) for row in rows(database_url, "pii")
    )
    for clear in ("2345-6789", "900101", "1234567", "5678-9012", "hong@example.com"):
        assert clear not in stored
    assert "불당동 사거리" in stored  # what is no personal data stays as it was
    # The form still has the number, from memory and from the database after a restart.
    assert run(ours.retrieve("pii")).get_slot("complaint_contact_phone") == "010-2345-6789"
    fresh = CachedSQLTrackerStore(domain=DOMAIN, host=database_url)
    tracker = run(fresh.retrieve("pii"))
    assert tracker.get_slot("complaint_contact_phone") == "010-2345-6789"
    assert "***-****-****" in tracker.latest_message.text
    # A tracker it did not hand out is saved the same way.
    other = DialogueStateTracker.from_events("pii-2", [*said(secret), *phone], DOMAIN.slots)
    run(fresh.save(other))
    assert "2345-6789" not in " ".join(str(row) for row in rows(database_url, "pii-2"))


@pytest.mark.parametrize(
    "ref",
    [
        "https://talk.kakaocdn.net/dna/abc/img.jpg?credential=xyz&expires=1796533903",
        # A web upload whose random name holds a long run of digits (a ticket lost its photo to the stars).
        "upload:c808b82a45e1/17a69189fb4a1234567890123f71743d.jpg",
        "telegram:AgACAgIAAxkBAAIBZ2d0123456789012345AAQ",
    ],
)
def test_a_photo_reference_in_a_slot_is_kept_whole(
    stores: tuple[CachedSQLTrackerStore, SQLTrackerStore], database_url: str, ref: str
) -> None:
    """Its digits (an id, an expiry time) looked like an account number and were starred out."""
    ours, _ = stores
    converse(ours, "photo", [SlotSet("complaint_photo", ref), ActionExecuted("action_listen")])
    fresh = CachedSQLTrackerStore(domain=DOMAIN, host=database_url)
    assert run(fresh.retrieve("photo")).get_slot("complaint_photo") == ref


def test_a_kept_session_is_read_again_when_another_server_wrote_to_the_conversation(
    stores: tuple[CachedSQLTrackerStore, SQLTrackerStore],
) -> None:
    ours, rasas = stores
    converse(ours, "citizen", said("안녕하세요"), said("가로등이 꺼졌어요"))
    assert "citizen" in ours._sessions
    converse(rasas, "citizen", said("쌍용동이에요", "쌍용동"))  # another Rasa server answered

    tracker = run(ours.retrieve("citizen"))
    assert tracker.get_slot("complaint_location") == "쌍용동"
    tracker.update_with_events(said("네"), DOMAIN)
    run(ours.save(tracker))
    assert dicts(run(rasas.retrieve("citizen"))) == dicts(tracker)


def test_only_the_latest_session_comes_back(stores: tuple[CachedSQLTrackerStore, SQLTrackerStore]) -> None:
    ours, rasas = stores
    converse(ours, "citizen", said("가로등이 꺼졌어요", "불당동"))
    tracker = run(ours.retrieve("citizen"))
    tracker.update_with_events(
        [ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen")], DOMAIN
    )
    run(ours.save(tracker))

    again = run(ours.retrieve("citizen"))
    assert dicts(again) == dicts(run(rasas.retrieve("citizen")))
    assert [e.as_dict()["event"] for e in again.events] == ["session_started", "action"]
    assert again.get_slot("complaint_location") is None


def test_a_returned_tracker_shares_nothing_with_memory(stores: tuple[CachedSQLTrackerStore, Any]) -> None:
    ours, _ = stores
    place = {"entity": "location", "value": "쌍용동"}
    converse(ours, "citizen", said("쌍용동 가로등이요"), [EntitiesAdded([place])])

    # Replaying EntitiesAdded adds the entity to the message's list; a shared list would grow each time.
    first = run(ours.retrieve("citizen")).latest_message.entities
    second = run(ours.retrieve("citizen")).latest_message.entities
    assert first == second == [place]


def test_a_tracker_it_did_not_hand_out_is_saved_as_rasa_does(
    stores: tuple[CachedSQLTrackerStore, SQLTrackerStore], database_url: str
) -> None:
    ours, rasas = stores
    converse(ours, "citizen", said("가로등이 꺼졌어요"), said("쌍용동이에요"))
    stale = run(ours.retrieve("citizen"))
    current = run(ours.retrieve("citizen"))
    current.update_with_events(said("네"), DOMAIN)
    run(ours.save(current))
    stale.update_with_events(said("아니요"), DOMAIN)
    run(ours.save(stale))  # Rasa's way: what the database lacks by count, nothing twice

    assert len(rows(database_url, "citizen")) == 1 + 3 * 3
    assert dicts(run(ours.retrieve("citizen"))) == dicts(run(rasas.retrieve("citizen")))


def test_it_keeps_at_most_cache_size_conversations(database_url: str) -> None:
    ours = CachedSQLTrackerStore(domain=DOMAIN, host=database_url, cache_size=2)
    for sender in ("a", "b", "c"):
        converse(ours, sender, said("안녕하세요"), said("가로등이요"))
    assert list(ours._sessions) == ["b", "c"]
    assert [e.as_dict()["event"] for e in run(ours.retrieve("a")).events][-1] == "action"
    assert list(ours._sessions) == ["c", "a"]


def test_a_form_in_progress_survives_the_database_going_away_for_a_moment_or_longer(
    stores: tuple[CachedSQLTrackerStore, SQLTrackerStore], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found by make bench-faults: Rasa's FailSafeTrackerStore turns a failed read into "no conversation",
    and a citizen in the middle of a form got the main menu while PostgreSQL restarted."""
    ours, _ = stores
    failsafe = FailSafeTrackerStore(ours)
    converse(failsafe, "mid-form", said("가로등 신고요", location="쌍용동 주공2단지"))
    monkeypatch.setattr(tracker_store_module, "RECONNECT", (0.01, 0.01))
    real_scope, failures = ours.session_scope, {"left": 2}

    def flaky_scope() -> Any:
        if failures["left"] > 0:
            failures["left"] -= 1
            raise OperationalError("SELECT", {}, Exception("the database system is shutting down"))
        return real_scope()

    monkeypatch.setattr(ours, "session_scope", flaky_scope)
    # Away for a moment: read again and answered from the database.
    assert run(failsafe.retrieve("mid-form")).get_slot("complaint_location") == "쌍용동 주공2단지"
    # Away for longer than the tries: the conversation as this server last knew it, not a new one.
    failures["left"] = 10
    assert run(failsafe.retrieve("mid-form")).get_slot("complaint_location") == "쌍용동 주공2단지"
    # A conversation this server never kept is not made up.
    failures["left"] = 10
    assert run(failsafe.retrieve("someone-else")) is None


def test_the_whole_conversation_is_read_as_rasas_http_api_asks(
    stores: tuple[CachedSQLTrackerStore, SQLTrackerStore],
) -> None:
    """Found by the console's browser test: a method of this store named like one of Rasa's broke the
    whole-conversation read the console's "챗봇 이해" comes from (GET /conversations/{id}/tracker)."""
    ours, _ = stores
    converse(ours, "whole", said("가로등 신고요"), said("쌍용동이요"))
    full = run(ours.retrieve_full_tracker("whole"))
    assert [e.text for e in full.events if isinstance(e, UserUttered)] == ["가로등 신고요", "쌍용동이요"]
