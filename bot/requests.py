"""Two requests in one message, found and taken in turn.

"불당동 가로등 나갔구요 그리고 기초연금도 궁금해요" is a complaint and a welfare question.

A message splits at a connector (그리고, 추가로, 하나 더…) only when each part reads as a different service
request to the NLU on its own; otherwise it stays whole (most messages with 그리고 tell one story).
"""

from __future__ import annotations

import re
from typing import Any

from bot.messages import squash
from bot.nlu.taxonomy import ranked_categories

__all__ = ["MIN_CONFIDENCE", "SERVICES", "different_requests", "split_candidates"]

_CONNECTOR = re.compile(
    r"[\s,.]+(?:아\s*|참\s*)?(?:그리고(?:요|\s*또|\s*참)?|그리구|추가로|하나\s*더|또\s*하나|그거\s*말고도?|그것\s*말고도?"
    r"|그\s*밖에)[\s,.]+"
)
# Each part must be a request of its own: this many letters at least, and a service intent this sure.
_MIN_LETTERS = 6
MIN_CONFIDENCE = 0.5
SERVICES = ("complaint", "welfare", "info", "check_ticket_status")


def split_candidates(text: str) -> tuple[str, str] | None:
    """Return the two parts of TEXT around its first connector, or None (none, or a part too short)."""
    match = _CONNECTOR.search(text)
    if match is None:
        return None
    first, second = text[: match.start()].strip(), text[match.end() :].strip()
    if min(len(squash(first)), len(squash(second))) < _MIN_LETTERS:
        return None
    return first, second


def _request(parsed: dict[str, Any] | None) -> tuple[str, str | None] | None:
    """Return (intent, category) of a parse that is a service request the NLU is sure of, else None."""
    if not parsed:
        return None
    intent = parsed.get("intent") or {}
    if intent.get("name") not in SERVICES or float(intent.get("confidence") or 0.0) < MIN_CONFIDENCE:
        return None
    top = next((c for i, c, _ in ranked_categories(parsed) if i == intent["name"]), None)
    return str(intent["name"]), top


def different_requests(first: dict[str, Any] | None, second: dict[str, Any] | None) -> bool:
    """Return whether two parses are two service requests, not one (a complaint and a question…)."""
    one, other = _request(first), _request(second)
    return one is not None and other is not None and one != other
