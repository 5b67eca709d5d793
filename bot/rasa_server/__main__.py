"""Run `rasa` with action server replies checked faster and models loaded off the event loop.

Usage:
    python -m bot.rasa_server run …     (the arguments of `rasa`; make run, the tests and bench/ use it)

Rasa 3.6 checks each action server reply with `jsonschema.validate`, which checks the schema itself and builds
a new validator on every call, a large share of Rasa's CPU per message: this builds one validator, once (same
schema, same error). It also loads a model for `PUT /model` (a retraining's live swap) on its event loop,
which stops every conversation meanwhile: this loads it in a worker thread while the old model answers.
"""

from __future__ import annotations

import asyncio
import functools
import os
import sys
from collections.abc import Mapping
from typing import Any

import rasa.server
from jsonschema.exceptions import best_match
from jsonschema.protocols import Validator
from jsonschema.validators import validator_for
from rasa.core.actions.action import RemoteAction
from rasa.shared.constants import DOCS_BASE_URL

# endpoints.yml names this tracker store; if it failed to import, Rasa would keep conversations in memory
# only, with a mere warning. Importing it here makes such a failure stop Rasa's start instead.
import bot.rasa_server.tracker_store  # noqa: F401
from bot.rasa_server import speed

__all__ = ["main", "patch", "with_token"]


@functools.cache
def _validator() -> Validator:
    schema = RemoteAction.action_response_format_spec()
    cls = validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def _validate_action_result(self: RemoteAction, result: dict[str, Any]) -> bool:
    """Check an action server reply as RemoteAction._validate_action_result does, with one validator."""
    error = best_match(_validator().iter_errors(result))
    if error is None:
        return True
    error.message += (
        ". Failed to validate Action server response from API, make sure your response from the Action "
        f"endpoint is valid. For more information about the format visit {DOCS_BASE_URL}/custom-actions"
    )
    raise error


_load_on_the_loop = rasa.server._load_agent


async def _load_agent_in_a_thread(*args: Any, **kwargs: Any) -> Any:
    """Load an agent as rasa.server._load_agent does (same errors), in a worker thread with its own loop."""
    return await asyncio.to_thread(asyncio.run, _load_on_the_loop(*args, **kwargs))


def patch() -> None:
    """Check action replies with one validator built once; load models for PUT /model off the event loop."""
    RemoteAction._validate_action_result = _validate_action_result  # type: ignore[method-assign]
    rasa.server._load_agent = _load_agent_in_a_thread
    speed.patch()


def with_token(argv: list[str], env: Mapping[str, str]) -> list[str]:
    """Return ARGV with `--auth-token` from RASA_TOKEN for `run --enable-api` when ARGV gives none.

    A token on the command line is there for anyone to read (`ps`, /proc/<pid>/cmdline); this process's
    own argument list is not.
    """
    token = env.get("RASA_TOKEN", "")
    if token and argv[1:2] == ["run"] and "--enable-api" in argv and "--auth-token" not in argv:
        return [*argv, "--auth-token", token]
    return argv


def main() -> None:
    """Run the `rasa` command line with the patch (and the API token from RASA_TOKEN)."""
    patch()
    from rasa.__main__ import main as rasa_main

    sys.argv = with_token(["rasa", *sys.argv[1:]], os.environ)
    rasa_main()


if __name__ == "__main__":
    main()
