"""The gateway's Rasa client: the REST webhook for messages, the HTTP API for health, pause, resume, models.

Each conversation goes to one Rasa server of RASA_URL, always the same (a hash of its id), so that its
messages are handled one at a time there (the lock store is in memory); if that server does not answer
at all, the next one takes it (all keep conversations in the one database).
"""

from __future__ import annotations

import logging
import zlib
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar
from urllib.parse import quote

import httpx

from bot.messages import Inbound, Outbound, from_rasa

__all__ = ["RasaClient", "RasaUnavailable", "server_for", "server_urls"]

logger = logging.getLogger(__name__)

T = TypeVar("T")


class RasaUnavailable(RuntimeError):
    """Rasa did not answer."""


def server_urls(urls: str) -> list[str]:
    """Return the servers of a RASA_URL setting (one address, or several separated by commas)."""
    return [url.strip().rstrip("/") for url in urls.split(",") if url.strip()]


def server_for(conversation_id: str, count: int) -> int:
    """Return the index of the server, of COUNT, that handles the conversation (the same in every process)."""
    return zlib.crc32(conversation_id.encode("utf-8")) % count


class RasaClient:
    """Talk to the Rasa servers over one shared httpx.AsyncClient."""

    def __init__(self, client: httpx.AsyncClient, base_url: str, token: str = "") -> None:
        """BASE_URL: a RASA_URL setting (one address, or several separated by commas)."""
        self._client = client
        self._bases = server_urls(base_url)
        if not self._bases:
            raise ValueError("no Rasa server address")
        self._token = token

    async def _for(self, conversation_id: str, call: Callable[[str], Awaitable[T]]) -> T:
        """CALL the conversation's server; if it cannot be reached, the next one, and so on."""
        first = server_for(conversation_id, len(self._bases))
        order = self._bases[first:] + self._bases[:first]
        for base in order[:-1]:
            try:
                return await call(base)
            except httpx.ConnectError:
                logger.warning("Rasa at %s does not answer; the next server takes the conversation", base)
        return await call(order[-1])

    async def send(self, message: Inbound) -> tuple[list[Outbound], list[dict[str, Any]]]:
        """Send MESSAGE to the REST channel; return the bot's answers and its custom messages (signals)."""
        body = {
            "sender": message.conversation_id,
            "message": message.message_text(),
            "metadata": message.metadata(),
        }
        try:
            response = await self._for(
                message.conversation_id,
                lambda base: self._client.post(f"{base}/webhooks/rest/webhook", json=body),
            )
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

    async def parse(self, conversation_id: str, text: str) -> dict[str, Any] | None:
        """Return what the NLU makes of TEXT (nothing is added to any conversation), or None if Rasa fails."""
        try:
            response = await self._for(
                conversation_id,
                lambda base: self._client.post(
                    f"{base}/model/parse", params=self._auth(), json={"text": text}
                ),
            )
            response.raise_for_status()
            parsed = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            logger.warning("Rasa did not parse a message: %s", type(exc).__name__)
            return None
        return parsed if isinstance(parsed, dict) else None

    async def pause(self, conversation_id: str) -> None:
        """Pause the bot for a conversation that the gateway hands to people; RasaUnavailable if it fails.

        A form in progress stays (unlike action_handoff's pause): after a crisis block the citizen may go
        on with the complaint, answering the form's open question.
        """
        await self._post_events(conversation_id, [{"event": "pause"}])

    async def resume(self, conversation_id: str) -> None:
        """Let the bot answer the conversation again; RasaUnavailable if it fails.

        A pause ends the bot's turn before its own action_listen; without one, the citizen's next message
        would follow no rule.
        """
        await self._post_events(
            conversation_id, [{"event": "resume"}, {"event": "action", "name": "action_listen"}]
        )

    async def _post_events(self, conversation_id: str, events: list[dict[str, Any]]) -> None:
        path = f"/conversations/{quote(conversation_id, safe=':')}/tracker/events"
        try:
            response = await self._for(
                conversation_id,
                lambda base: self._client.post(f"{base}{path}", params=self._auth(), json=events),
            )
            response.raise_for_status()
        except httpx.HTTPError as exc:
            logger.warning(
                "Rasa did not take the events %s: %s", [e["event"] for e in events], type(exc).__name__
            )
            raise RasaUnavailable(type(exc).__name__) from exc

    async def user_events(self, conversation_id: str) -> list[dict[str, Any]]:
        """Return the conversation's user events (text and what the NLU made of it); empty if Rasa is down."""
        path = f"/conversations/{quote(conversation_id, safe=':')}/tracker"
        params = {**self._auth(), "include_events": "ALL"}
        try:
            response = await self._for(
                conversation_id, lambda base: self._client.get(f"{base}{path}", params=params)
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
        """Return the file name of the model the servers serve; None if one is down, or they differ."""
        names = {await self._model_file(base) for base in self._bases}
        return names.pop() if len(names) == 1 else None

    async def _model_file(self, base: str) -> str | None:
        try:
            response = await self._client.get(f"{base}/status", params=self._auth())
            response.raise_for_status()
            name = response.json().get("model_file")
        except (httpx.HTTPError, ValueError, AttributeError):
            return None
        return str(name) if name else None

    async def healthy(self) -> bool:
        """Return whether every server answers its status route with a model loaded."""
        return all([await self._model_file(base) for base in self._bases])

    async def load_model(self, path: str, *, timeout: float = 600.0) -> None:
        """Load the model archive at PATH (on Rasa's machine) in place of the one serving; no restart.

        The servers load it one after the other; each answers with the old model until the new one is
        loaded. RasaUnavailable if a server did not answer or did not take the model (its error is in the
        message); the servers after it keep the old model.
        """
        for base in self._bases:
            try:
                response = await self._client.put(
                    f"{base}/model", params=self._auth(), json={"model_file": path}, timeout=timeout
                )
            except httpx.HTTPError as exc:
                raise RasaUnavailable(f"{base}: {type(exc).__name__}") from exc
            if response.status_code != httpx.codes.NO_CONTENT:
                raise RasaUnavailable(
                    f"{base}: Rasa refused the model ({response.status_code}): {response.text[:300]}"
                )
