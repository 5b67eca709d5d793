"""Trackers and the domain for action tests, shaped as Rasa sends them to the action server."""

from __future__ import annotations

import functools
from typing import Any

import yaml
from rasa_sdk import Tracker

from bot.settings import PROJECT_ROOT

__all__ = ["domain", "message", "tracker"]


@functools.cache
def domain() -> dict[str, Any]:
    """Return domain.yml as a dict (Rasa sends the same keys with each action call)."""
    return yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8"))


def message(
    text: str,
    intent: str,
    confidence: float = 0.95,
    *,
    category: str | None = None,
    category_confidence: float = 0.9,
    entities: list[dict[str, Any]] | None = None,
    metadata: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Return a parse result like Rasa's: intent, entities, response selector ranking and metadata."""
    ranking = []
    if category:
        ranking.append({"intent_response_key": category, "confidence": category_confidence})
        rest = (1.0 - category_confidence) / 2
        ranking += [
            {"intent_response_key": k, "confidence": rest}
            for k in ("complaint/other", "info/other", "welfare/other")
            if k != category
        ][:2]
    return {
        "text": text,
        "intent": {"name": intent, "confidence": confidence},
        "intent_ranking": [{"name": intent, "confidence": confidence}],
        "entities": entities or [],
        "response_selector": {"default": {"ranking": ranking}},
        "metadata": metadata or {},
    }


def tracker(
    latest: dict[str, Any],
    slots: dict[str, Any] | None = None,
    *,
    sender_id: str = "web:citizen-1",
    active_loop: str | None = None,
    requested_slot: str | None = None,
) -> Tracker:
    """Return a tracker whose latest message is LATEST, with SLOTS and the form's state."""
    all_slots = {name: None for name in domain()["slots"]}
    all_slots.update(slots or {})
    all_slots["requested_slot"] = requested_slot
    return Tracker(
        sender_id=sender_id,
        slots=all_slots,
        latest_message=latest,
        events=[{"event": "user", "text": latest.get("text"), "parse_data": latest}],
        paused=False,
        followup_action=None,
        active_loop={"name": active_loop} if active_loop else {},
        latest_action_name="action_listen",
    )
