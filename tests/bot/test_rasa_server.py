"""The faster check of action server replies accepts and refuses exactly what Rasa's own check does."""

from __future__ import annotations

from typing import Any

import pytest
from jsonschema import ValidationError, validate
from rasa.core.actions.action import RemoteAction

from bot.rasa_server import _validate_action_result

REPLIES: list[Any] = [
    {"events": [], "responses": []},
    {"events": [{"event": "slot", "name": "complaint_category", "value": "streetlight"}],
     "responses": [{"text": "가로등 신고를 도와드릴게요.", "buttons": []}]},
    {"events": [{"event": "active_loop", "name": None}, {"event": "pause"}],
     "responses": [{"custom": {"a": 1}}]},
    {"events": [{"event": "no_such_event"}], "responses": []},
    {"events": [{"name": "x"}]},
    {"events": "not a list"},
    {"responses": "not a list"},
    [],
]  # fmt: skip


def _rasa_says(reply: Any) -> bool:
    try:
        validate(reply, RemoteAction.action_response_format_spec())
    except ValidationError:
        return False
    return True


@pytest.mark.parametrize("reply", REPLIES)
def test_the_same_replies_pass_and_fail(reply: Any) -> None:
    if _rasa_says(reply):
        assert _validate_action_result(RemoteAction("action_x", None), reply) is True
    else:
        with pytest.raises(ValidationError, match="Failed to validate Action server response"):
            _validate_action_result(RemoteAction("action_x", None), reply)


def test_both_kinds_of_reply_are_in_the_cases() -> None:
    assert {_rasa_says(r) for r in REPLIES} == {True, False}
