"""The web chat: a KakaoTalk-like page (GET /) talking to the gateway over a WebSocket (/web/ws).

Protocol (JSON text frames):
    browser -> gateway   {"type": "hello", "sender": "<id kept in localStorage>", "token": "<its key>"}
                         (on every connect; the first page of a new id gets its key in a "session" frame)
                         {"sender": "…", "text": "…", "payload": "…"?}
    gateway -> browser   {"type": "messages", "messages": [{"text", "buttons", "image"?, "author"?}, …]}
                         {"type": "session", "sender": "…", "token": "…"}
                         {"type": "error", "text": "…", "code": "session"?}   (session: not this page's chat)
The gateway keeps each sender's open sockets, so that it can push (agent replies, status changes); what
came while no page was open waits in the outbox and is sent on the next hello.
"""

from __future__ import annotations

import html
import logging
import re
from collections import defaultdict
from collections.abc import Awaitable, Callable
from pathlib import Path

from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.websockets import WebSocket, WebSocketDisconnect

from bot.bodies import parse_json
from bot.delivery import Delivery
from bot.messages import MAX_TEXT, Inbound, Outbound
from bot.privacy import sign, signed
from bot.profile import CityProfile
from bot.router import Router

__all__ = ["WebChat"]

logger = logging.getLogger(__name__)

CHANNEL = "web"
PAGE = Path(__file__).resolve().parent.parent / "web" / "chat.html"
_SENDER = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
# A frame larger than this is refused (a message is cut at MAX_TEXT anyway).
MAX_FRAME = 4 * MAX_TEXT * 4


async def _never_seen(sender: str) -> bool:
    return False


class WebChat:
    """Serve the page and the socket; remember open sockets per sender for pushes."""

    def __init__(
        self, router: Router, delivery: Delivery, profile: CityProfile,
        known: Callable[[str], Awaitable[bool]] | None = None,
    ) -> None:  # fmt: skip
        """KNOWN says whether a conversation id has anything stored (then only its key admits a page)."""
        self.router, self.delivery, self.profile = router, delivery, profile
        self.known = known or _never_seen
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
        """Read the citizen's messages, answer each one, until the browser goes away.

        A socket speaks for one conversation once admitted to it (_admit): with the conversation's key, or
        as its first page. No other page can take over a conversation whose id it learnt.
        """
        await websocket.accept()
        sender: str | None = None
        try:
            while True:
                received = await websocket.receive()
                if received["type"] == "websocket.disconnect":
                    break
                raw = received.get("text")
                if not isinstance(raw, str):  # a binary frame: the page sends text only
                    await self._refuse(websocket)
                    continue
                hello = self._hello(raw)
                if hello is not None:
                    wanted, token = hello
                    if wanted != sender:
                        admitted = await self._admit(wanted, token)
                        if admitted is None:
                            await self._refuse(websocket, lost=True)
                            continue
                        self._forget(sender, websocket)
                        sender = wanted
                        self.sockets[sender].add(websocket)
                        if admitted:
                            await websocket.send_json(
                                {"type": "session", "sender": sender, "token": admitted}
                            )
                    await self._flush(sender)
                    continue
                message = self._parse(raw)
                if message is None:
                    await self._refuse(websocket)
                    continue
                if sender != message.user_id:
                    if await self._admit(message.user_id, None) is None:
                        await self._refuse(websocket, lost=True)
                        continue
                    self._forget(sender, websocket)
                    sender = message.user_id
                    self.sockets[sender].add(websocket)
                answers = await self.router.route(message)
                await websocket.send_json({"type": "messages", "messages": [a.as_json() for a in answers]})
        except WebSocketDisconnect:
            pass
        finally:
            self._forget(sender, websocket)

    async def _admit(self, sender: str, token: object) -> str | None:
        """Admit a socket to conversation SENDER: "" with its key, a new key for a conversation never seen,
        None otherwise (someone else's conversation)."""
        if signed(sender, token):
            return ""
        if await self.known(sender):
            return None
        return sign(sender)

    async def _refuse(self, websocket: WebSocket, *, lost: bool = False) -> None:
        if lost:
            text = self.profile.messages["web_session_lost"]
            await websocket.send_json({"type": "error", "code": "session", "text": text})
        else:
            await websocket.send_json({"type": "error", "text": self.profile.messages["bad_request"]})

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
    def _hello(raw: str) -> tuple[str, object] | None:
        if len(raw) > 200 or '"hello"' not in raw:
            return None
        try:
            data = parse_json(raw)
        except ValueError:
            return None
        if not isinstance(data, dict) or data.get("type") != "hello":
            return None
        sender = data.get("sender")
        return (sender, data.get("token")) if isinstance(sender, str) and _SENDER.match(sender) else None

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
