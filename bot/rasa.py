"""The gateway's Rasa client: the REST webhook for messages; the HTTP API (--enable-api, the auth token) for
health, pausing and resuming a conversation (handoff), reading what the bot understood, and loading a model.

Errors:
    RasaUnavailable    Rasa did not answer (refused, timed out, or answered with an error status).
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote

import httpx

from bot.channels.base import Inbound, Outbound, from_rasa

__all__ = ["RasaClient", "RasaUnavailable"]

logger = logging.getLogger(__name__)


class RasaUnavailable(RuntimeError):
    """Rasa did not answer."""


class RasaClient:
    """Talk to one Rasa server over one shared httpx.AsyncClient."""

    def __init__(self, client: httpx.AsyncClient, base_url: str, token: str = "") -> None:
        self._client = client
        self._base = base_url.rstrip("/")
        self._token = token

    async def send(self, message: Inbound) -> tuple[list[Outbound], list[dict[str, Any]]]:
        """Send MESSAGE to the REST channel; return the bot's answers and its custom messages (signals)."""
        body = {
            "sender": message.conversation_id,
            "message": message.message_text(),
            "metadata": message.metadata(),
        }
        try:
            response = await self._client.post(f"{self._base}/webhooks/rest/webhook", json=body)
            response.raise_for_status()
            answers: Any = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            logger.warning("Rasa did not answer a %s message: %s", message.channel, type(exc).__name__)
            raise RasaUnavailable(type(exc).__name__) from exc
        if not isinstance(answers, list):
            raise RasaUnavailable("unexpected answer")
        answers = [a for a in answers if isinstance(a, dict)]
        signals = [a["custom"] for a in answers if isinstance(a.get("custom"), dict)]
        return from_rasa(answers), signals

    async def pause(self, conversation_id: str) -> None:
        """Pause the bot for a conversation that the gateway hands to people; RasaUnavailable if it fails.

        Any form in progress ends, as it does when action_handoff pauses.
        """
        events: list[dict[str, Any]] = [
            {"event": "active_loop", "name": None},
            {"event": "slot", "name": "requested_slot", "value": None},
            {"event": "pause"},
        ]
        await self._post_events(conversation_id, events)

    async def resume(self, conversation_id: str) -> None:
        """Let the bot answer the conversation again; RasaUnavailable if it fails.

        A pause ends the bot's turn before its own action_listen; without one, the citizen's next message
        would follow no rule.
        """
        await self._post_events(
            conversation_id, [{"event": "resume"}, {"event": "action", "name": "action_listen"}]
        )

    async def _post_events(self, conversation_id: str, events: list[dict[str, Any]]) -> None:
        try:
            response = await self._client.post(
                f"{self._base}/conversations/{quote(conversation_id, safe=':')}/tracker/events",
                params=self._auth(), json=events,
            )  # fmt: skip
            response.raise_for_status()
        except httpx.HTTPError as exc:
            logger.warning(
                "Rasa did not take the events %s: %s", [e["event"] for e in events], type(exc).__name__
            )
            raise RasaUnavailable(type(exc).__name__) from exc

    async def user_events(self, conversation_id: str) -> list[dict[str, Any]]:
        """Return the conversation's user events (text and what the NLU made of it); empty if Rasa is down."""
        try:
            response = await self._client.get(
                f"{self._base}/conversations/{quote(conversation_id, safe=':')}/tracker",
                params={**self._auth(), "include_events": "ALL"},
            )
            response.raise_for_status()
            events = response.json().get("events") or []
        except (httpx.HTTPError, ValueError, AttributeError) as exc:
            logger.info("could not read a tracker: %s", type(exc).__name__)
            return []
        return [e for e in events if isinstance(e, dict) and e.get("event") == "user"]

    def _auth(self) -> dict[str, str]:
        return {"token": self._token} if self._token else {}

    async def model_file(self) -> str | None:
        """Return the file name of the model Rasa serves (its status route), or None if it does not answer."""
        try:
            response = await self._client.get(f"{self._base}/status", params=self._auth())
            response.raise_for_status()
            name = response.json().get("model_file")
        except (httpx.HTTPError, ValueError, AttributeError):
            return None
        return str(name) if name else None

    async def healthy(self) -> bool:
        """Return whether Rasa answers its status route with a model loaded."""
        return await self.model_file() is not None

    async def load_model(self, path: str, *, timeout: float = 600.0) -> None:
        """Load the model archive at PATH (on Rasa's machine) in place of the one serving; no restart.

        Rasa keeps answering with the old model until the new one is loaded. RasaUnavailable if Rasa did not
        answer or did not take the model (its error is in the message).
        """
        try:
            response = await self._client.put(
                f"{self._base}/model", params=self._auth(), json={"model_file": path}, timeout=timeout
            )
        except httpx.HTTPError as exc:
            raise RasaUnavailable(type(exc).__name__) from exc
        if response.status_code != httpx.codes.NO_CONTENT:
            raise RasaUnavailable(f"Rasa refused the model ({response.status_code}): {response.text[:300]}")
