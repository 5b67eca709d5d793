"""The review queue: citizens' messages the bot was least sure about, for agents to label first."""

from __future__ import annotations

import datetime as dt
import json
import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy.orm import Session

from bot.messages import Inbound
from bot.nlu.taxonomy import FALLBACK_INTENT, best_category, interpret
from bot.privacy import mask_personal_data
from bot.store.conversations import rasa_user_events
from bot.store.handoffs import opened_since
from bot.store.labels import unlabelled_messages
from bot.store.models import Message, aware, utcnow

__all__ = ["Reason", "ReviewItem", "matched_events", "review_queue", "understanding"]

Reason = Literal["fallback", "low_confidence", "handoff"]

# A handoff this soon after a message says the bot failed on it.
HANDOFF_WITHIN = dt.timedelta(minutes=30)
# What the citizen asks for to reach a person: understood fine, even though a handoff follows.
REQUEST_HUMAN = "request_human"


@dataclass(frozen=True)
class ReviewItem:
    """A citizen's message worth labelling, with what the bot understood and why it is in the queue."""

    message_id: int
    channel: str
    at: dt.datetime
    text: str  # masked, car plates too
    intent: str
    category: str | None
    confidence: float
    reason: Reason

    def as_json(self) -> dict[str, Any]:
        """Return the console's JSON for the item."""
        return {
            "id": self.message_id,
            "channel": self.channel,
            "at": self.at.isoformat(),
            "text": self.text,
            "understood": {
                "intent": self.intent, "category": self.category, "confidence": round(self.confidence, 3)
            },
            "reason": self.reason,
        }  # fmt: skip


def matched_events(messages: Iterable[Message], events: list[dict[str, Any]]) -> dict[int, dict[str, Any]]:
    """Match a conversation's citizen messages to its Rasa user events in order, by the text Rasa received.

    Messages Rasa never saw (sent during a handoff, or while Rasa was down) match nothing.
    """
    found: dict[int, dict[str, Any]] = {}
    at = 0
    # Both are stored masked (bot/privacy.py); masking again changes nothing, and matches older rows.
    texts = [mask_personal_data(str(event.get("text") or ""), plates=True)[0] for event in events]
    for message in messages:
        if message.direction != "in":
            continue
        sent = Inbound(
            channel="", user_id="", text=message.text, payload=json.loads(message.data or "{}").get("payload")
        ).message_text()
        sent = mask_personal_data(sent, plates=True)[0]
        for i in range(at, len(events)):
            if texts[i] == sent:
                found[message.id] = events[i]
                at = i + 1
                break
    return found


def understanding(messages: list[Message], events: list[dict[str, Any]]) -> dict[int, dict[str, Any]]:
    """Return what the NLU made of each citizen message (Rasa's top intent, its category and confidence)."""
    found: dict[int, dict[str, Any]] = {}
    for message_id, event in matched_events(messages, events).items():
        parse = event.get("parse_data") or {}
        intent = (parse.get("intent") or {}).get("name")
        if intent:
            found[message_id] = {
                "intent": intent, "category": best_category(parse, intent),
                "confidence": round(float((parse.get("intent") or {}).get("confidence") or 0), 3),
            }  # fmt: skip
    return found


def review_queue(
    session: Session,
    *,
    days: int = 30,
    threshold: float = 0.7,
    limit: int = 50,
    now: dt.datetime | None = None,
) -> list[ReviewItem]:
    """Return the unlabelled citizen messages of the last DAYS days most worth labelling, at most LIMIT.

    In the queue: what the NLU fell back on, what it was less than THRESHOLD sure of, and what a handoff
    followed within 30 minutes (but the request for a person itself). Least confident (in steps of 0.1)
    first, then the newest. Whatever the traffic, a look for the events table and three queries: the
    window's messages, its handoffs and its Rasa user events. Without Rasa's events table (its tracker
    store is elsewhere, or it never stored anything) the queue is empty.
    """
    now = aware(now or utcnow()).astimezone(dt.timezone.utc)  # SQLite compares UTC times as text
    since = now - dt.timedelta(days=days)
    events = rasa_user_events(session, since=since)
    if events is None:
        return []
    messages = unlabelled_messages(session, since=since, until=now)
    if not messages:
        return []
    handoffs = opened_since(session, since=since)

    conversations: dict[tuple[str, str], list[Message]] = defaultdict(list)
    for message in messages:
        conversations[(message.channel, message.sender)].append(message)
    items = []
    for (channel, sender), said in conversations.items():
        matched = matched_events(said, events.get(f"{channel}:{sender}", []))
        for message in said:
            if message.id not in matched:
                continue
            parse = matched[message.id].get("parse_data") or {}
            intent, category, confidence = interpret(parse)
            at = aware(message.created_at)
            if (parse.get("intent") or {}).get("name") == FALLBACK_INTENT:
                reason: Reason = "fallback"
            elif confidence < threshold:
                reason = "low_confidence"
            elif intent != REQUEST_HUMAN and any(
                at < moment <= at + HANDOFF_WITHIN for moment in handoffs.get((channel, sender), [])
            ):
                reason = "handoff"
            else:
                continue
            text, _ = mask_personal_data(message.text, plates=True)
            items.append(ReviewItem(message.id, channel, at, text, intent, category, confidence, reason))
    items.sort(key=lambda i: (math.floor(i.confidence * 10 + 1e-9), -i.at.timestamp(), -i.message_id))
    return items[:limit]
