"""The web chat: a KakaoTalk-like page (GET /) talking to the gateway over a WebSocket (/web/ws).

Protocol (JSON text frames):
    browser -> gateway   {"type": "hello", "sender": "<id kept in localStorage>"}   (on every connect)
                         {"sender": "…", "text": "…", "payload": "…"?}
    gateway -> browser   {"type": "messages", "messages": [{"text", "buttons", "image"?, "author"?}, …]}
                         {"type": "error", "text": "…"}
The gateway keeps each sender's open sockets, so that it can push (agent replies, status changes); what
came while no page was open waits in the outbox and is sent on the next hello.
"""

from __future__ import annotations

import html
import logging
import re
from collections import defaultdict
from pathlib import Path

from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.websockets import WebSocket, WebSocketDisconnect

from bot.bodies import parse_json
from bot.delivery import Delivery
from bot.messages import MAX_TEXT, Inbound, Outbound
from bot.profile import CityProfile
from bot.router import Router

__all__ = ["WebChat"]

logger = logging.getLogger(__name__)

CHANNEL = "web"
PAGE = Path(__file__).resolve().parent.parent / "web" / "chat.html"
_SENDER = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
# A frame larger than this is refused (a message is cut at MAX_TEXT anyway).
MAX_FRAME = 4 * MAX_TEXT * 4


class WebChat:
    """Serve the page and the socket; remember open sockets per sender for pushes."""

    def __init__(self, router: Router, delivery: Delivery, profile: CityProfile) -> None:
        self.router, self.delivery, self.profile = router, delivery, profile
        self.sockets: dict[str, set[WebSocket]] = defaultdict(set)
        delivery.register(CHANNEL, self.push)

    async def page(self, request: Request) -> HTMLResponse:
        """Return the chat page with the city's bot name."""
        profile = self.profile
        text = PAGE.read_text(encoding="utf-8")
        for key, value in {"bot_name": profile.bot_name, "city": profile.city}.items():
            text = text.replace("{{" + key + "}}", html.escape(value))
        return HTMLResponse(text)

    async def socket(self, websocket: WebSocket) -> None:
        """Read the citizen's messages, answer each one, until the browser goes away."""
        await websocket.accept()
        sender: str | None = None
        try:
            while True:
                received = await websocket.receive()
                if received["type"] == "websocket.disconnect":
                    break
                raw = received.get("text")
                if not isinstance(raw, str):  # a binary frame: the page sends text only
                    await websocket.send_json({"type": "error", "text": self.profile.messages["bad_request"]})
                    continue
                hello = self._hello(raw)
                if hello is not None:
                    if sender != hello:
                        self._forget(sender, websocket)
                        sender = hello
                        self.sockets[sender].add(websocket)
                    await self._flush(sender)
                    continue
                message = self._parse(raw)
                if message is None:
                    await websocket.send_json({"type": "error", "text": self.profile.messages["bad_request"]})
                    continue
                if sender != message.user_id:
                    self._forget(sender, websocket)
                    sender = message.user_id
                    self.sockets[sender].add(websocket)
                answers = await self.router.route(message)
                await websocket.send_json({"type": "messages", "messages": [a.as_json() for a in answers]})
        except WebSocketDisconnect:
            pass
        finally:
            self._forget(sender, websocket)

    async def push(self, sender: str, messages: list[Outbound]) -> bool:
        """Send MESSAGES to every open page of SENDER; return whether one was open."""
        sent = False
        for websocket in list(self.sockets.get(sender, ())):
            try:
                await websocket.send_json({"type": "messages", "messages": [m.as_json() for m in messages]})
                sent = True
            except (RuntimeError, WebSocketDisconnect):
                self._forget(sender, websocket)
        return sent

    async def _flush(self, sender: str) -> None:
        """Push what waited in the outbox while no page of SENDER was open."""
        waiting = await self.delivery.take(CHANNEL, sender)
        if waiting:
            await self.push(sender, waiting)

    @staticmethod
    def _hello(raw: str) -> str | None:
        if len(raw) > 200 or '"hello"' not in raw:
            return None
        try:
            data = parse_json(raw)
        except ValueError:
            return None
        sender = data.get("sender") if isinstance(data, dict) and data.get("type") == "hello" else None
        return sender if isinstance(sender, str) and _SENDER.match(sender) else None

    def _forget(self, sender: str | None, websocket: WebSocket) -> None:
        if sender is not None:
            self.sockets[sender].discard(websocket)
            if not self.sockets[sender]:
                del self.sockets[sender]

    @staticmethod
    def _parse(raw: str) -> Inbound | None:
        if len(raw) > MAX_FRAME:
            return None
        try:
            data = parse_json(raw)
        except ValueError:
            return None
        if not isinstance(data, dict):
            return None
        sender, text, payload = data.get("sender"), data.get("text"), data.get("payload")
        if not isinstance(sender, str) or not _SENDER.match(sender) or not isinstance(text, str):
            return None
        if not text.strip() and not payload:
            return None
        return Inbound(
            channel=CHANNEL, user_id=sender, text=text[:MAX_TEXT],
            payload=payload[:MAX_TEXT] if isinstance(payload, str) and payload else None,
        )  # fmt: skip
