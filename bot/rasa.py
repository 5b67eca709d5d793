"""The gateway's Rasa client: the REST webhook for messages, the HTTP API for health (and, later, resume).

Errors:
    RasaUnavailable    Rasa did not answer (refused, timed out, or answered with an error status).
"""

from __future__ import annotations

import logging
from typing import Any

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

    async def send(self, message: Inbound) -> list[Outbound]:
        """Send MESSAGE to the REST channel; return the bot's answers."""
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
        return from_rasa([a for a in answers if isinstance(a, dict)])

    async def healthy(self) -> bool:
        """Return whether Rasa answers its status route (which also shows that a model is loaded)."""
        try:
            response = await self._client.get(
                f"{self._base}/status", params={"token": self._token} if self._token else None
            )
        except httpx.HTTPError:
            return False
        return response.status_code == httpx.codes.OK and bool(response.json().get("model_file"))
