"""What several actions share: the city profile, the database, the conversation's owner and domain phrases.

The gateway names each Rasa conversation "<channel>:<user id>" (web:…, kakao:…, telegram:…); a
conversation started some other way (rasa shell, a bare REST call) belongs to the channel "rest".
A message's metadata may carry what the channel sent besides text:
{"image_url": "https://…", "location": {"latitude": 36.8, "longitude": 127.1, "address": "…"}}.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from sqlalchemy.orm import Session, sessionmaker

from bot.profile import CityProfile, load_profile
from bot.settings import load_settings
from bot.store.db import session_factory

__all__ = ["conversation_of", "message_metadata", "phrase", "profile", "sessions"]

# Column sizes of tickets.channel and tickets.sender.
_CHANNEL_MAX, _SENDER_MAX = 16, 128


def profile() -> CityProfile:
    """Return the city profile that the settings name."""
    return load_profile(load_settings().city_profile)


def sessions() -> sessionmaker[Session]:
    """Return a session factory on the settings' database (the engine is made on first use)."""
    return session_factory(load_settings().database_url)


def conversation_of(tracker: Tracker) -> tuple[str, str]:
    """Return (channel, sender) of the conversation: who owns the tickets filed in it."""
    channel, _, sender = tracker.sender_id.partition(":")
    if not sender:
        channel, sender = "rest", tracker.sender_id
    return channel[:_CHANNEL_MAX], sender[:_SENDER_MAX]


def message_metadata(tracker: Tracker) -> dict[str, Any]:
    """Return the metadata the channel sent with the latest message (empty if none)."""
    metadata = tracker.latest_message.get("metadata")
    return metadata if isinstance(metadata, dict) else {}


def phrase(domain: dict[str, Any], response: str) -> str:
    """Return the text of RESPONSE in the domain: short words that go inside another response."""
    return str(domain["responses"][response][0]["text"])
