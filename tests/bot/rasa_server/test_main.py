"""The faster check of action server replies accepts and refuses exactly what Rasa's own check does."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import rasa.server
from jsonschema import ValidationError, validate
from rasa.core.actions.action import RemoteAction
from rasa.engine.runner.dask import DaskGraphRunner
from rasa.shared.core.events import Event

from bot.rasa_server import __main__ as rasa_server
from bot.rasa_server.__main__ import _validate_action_result

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


async def test_a_model_loads_in_a_thread_while_the_loop_keeps_answering(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """PUT /model's loading no longer stops every conversation: the event loop runs while it loads."""
    loading = threading.Event()
    ticks, ticks_while_loading = 0, []

    async def slow_load(model_path: str, **_: Any) -> str:
        loading.set()
        time.sleep(0.5)  # synchronous work, as unpacking and loading a model is
        ticks_while_loading.append(ticks)
        if model_path == "broken.tar.gz":
            raise ValueError("no model")
        return f"agent of {model_path}"

    monkeypatch.setattr(rasa_server, "_load_on_the_loop", slow_load)
    monkeypatch.setattr(rasa.server, "_load_agent", rasa.server._load_agent)  # undone after the test
    monkeypatch.setattr(RemoteAction, "_validate_action_result", RemoteAction._validate_action_result)
    monkeypatch.setattr(DaskGraphRunner, "run", DaskGraphRunner.run)
    monkeypatch.setattr(Event, "resolve_by_type", Event.__dict__["resolve_by_type"])
    rasa_server.patch()
    assert rasa.server._load_agent is rasa_server._load_agent_in_a_thread

    async def conversation() -> None:
        nonlocal ticks
        while not loading.is_set():
            await asyncio.sleep(0.01)
        for _ in range(100):
            await asyncio.sleep(0.01)
            ticks += 1

    agent, _ = await asyncio.gather(rasa.server._load_agent(model_path="new.tar.gz"), conversation())
    assert agent == "agent of new.tar.gz"
    assert ticks_while_loading[0] >= 5  # the loop ran during the half second of loading, not after it
    with pytest.raises(ValueError, match="no model"):
        await rasa.server._load_agent(model_path="broken.tar.gz")


def test_the_api_token_comes_from_the_environment_not_the_command_line() -> None:
    """`ps` showed the token of every Rasa server that make run started."""
    run = ["rasa", "run", "--enable-api", "--port", "5005"]
    assert rasa_server.with_token(run, {"RASA_TOKEN": "s3cret"}) == [*run, "--auth-token", "s3cret"]
    assert rasa_server.with_token(run, {}) == run
    given = [*run, "--auth-token", "other"]
    assert rasa_server.with_token(given, {"RASA_TOKEN": "s3cret"}) == given
    assert rasa_server.with_token(["rasa", "train"], {"RASA_TOKEN": "s3cret"}) == ["rasa", "train"]
    script = (Path(__file__).resolve().parents[3] / "scripts" / "run.sh").read_text(encoding="utf-8")
    commands = [line for line in script.splitlines() if not line.lstrip().startswith("#")]
    assert not any("--auth-token" in line for line in commands)
    assert not any("curl" in line and "token=" in line for line in commands)
