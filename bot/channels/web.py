"""The web chat: a KakaoTalk-like page (GET /) talking to the gateway over a WebSocket (/web/ws).

Protocol (JSON text frames):
    browser -> gateway   {"type": "hello", "sender": "<id kept in localStorage>", "token": "<its key>"}
                         (on every connect; the first page of a new id gets its key in a "session" frame)
                         {"sender": "…", "text": "…", "payload": "…"?, "image": "upload:…"?,
                          "location": {"latitude", "longitude"}?}   (a photo uploaded first, a place)
    gateway -> browser   {"type": "messages", "messages": [{"text", "buttons", "image"?, "author"?}, …]}
                         {"type": "session", "sender": "…", "token": "…"}
                         {"type": "error", "text": "…", "code": "session"?}   (session: not this page's chat)
A photo is uploaded first (POST /web/upload, the image as the body, X-Chat-Sender and X-Chat-Token
headers, ?location=1 when the citizen agreed that the place it was taken be read); the answer names it
({"image": "upload:…", "location": … or null}) for the message that sends it.
The gateway keeps each sender's open sockets, so that it can push (agent replies, status changes); what
came while no page was open waits in the outbox and is sent on the next hello. With several gateways, each
says in the shared state (bot/shared.py) which conversations have a page open on it; a push for a page open
on another gateway is published to that gateway, which sends it or keeps it in the outbox.
"""

from __future__ import annotations

import html
import itertools
import logging
import math
import re
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse
from starlette.websockets import WebSocket, WebSocketDisconnect

from bot.bodies import TooLarge, parse_json, read_body
from bot.delivery import Delivery
from bot.limits import Buckets
from bot.messages import MAX_TEXT, Inbound, Outbound
from bot.photos import PhotoError, Photos
from bot.privacy import sign, signed
from bot.profile import CityProfile
from bot.router import Router
from bot.shared import Limit, LocalShared, Shared

__all__ = ["WebChat", "WebLimits"]

logger = logging.getLogger(__name__)

CHANNEL = "web"
PAGE = Path(__file__).resolve().parent.parent / "web" / "chat.html"
_SENDER = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
# A frame larger than this is refused (a message is cut at MAX_TEXT anyway).
MAX_FRAME = 4 * MAX_TEXT * 4
# How long (seconds) "a page of this conversation is open on this gateway" holds without being said again
# (each admission says it; a gateway that died leaves it to expire).
PAGE_AT = 3600.0


@dataclass(frozen=True)
class WebLimits:
    """Messages a second (sustained, and in a burst) per socket and per client address, new conversations
    and handoffs (urgent ones included) an hour per address, and handoffs open at once per address: a
    script or another site's page opening urgent handoffs from fresh ids would bury real crises. Behind a
    proxy the address is X-Forwarded-For's (uvicorn's proxy headers)."""

    socket_rate: float = 2.0
    socket_burst: float = 20.0
    address_rate: float = 10.0
    address_burst: float = 100.0
    new_chats_per_hour: float = 60.0
    handoffs_per_hour: float = 10.0
    open_handoffs: float = 5.0  # waiting or being answered at once (several people behind one address)


async def _never_seen(sender: str) -> bool:
    return False


class WebChat:
    """Serve the page and the socket; remember open sockets per sender for pushes."""

    def __init__(
        self, router: Router, delivery: Delivery, profile: CityProfile,
        known: Callable[[str], Awaitable[bool]] | None = None, origins: tuple[str, ...] = (),
        limits: WebLimits | None = None, photos: Photos | None = None, shared: Shared | None = None,
    ) -> None:  # fmt: skip
        """KNOWN says whether a conversation id has anything stored (then only its key admits a page);
        ORIGINS are the sites whose pages may open the socket (none: this site's only); PHOTOS keeps
        uploads (none: the page offers no upload)."""
        self.router, self.delivery, self.profile, self.photos = router, delivery, profile, photos
        self.known, self.origins = known or _never_seen, origins
        # How fast one socket, one client address, and new conversations from one address may go.
        limits = limits or WebLimits()
        # A socket lives on one gateway; an address's allowance is shared by all of them.
        self.shared = shared or LocalShared()
        self.per_socket = Buckets(rate=limits.socket_rate, burst=limits.socket_burst)
        self.per_address = Limit(self.shared, "web-address", limits.address_rate, limits.address_burst)
        self.new_chats = Limit(
            self.shared, "web-new", limits.new_chats_per_hour / 3600, limits.new_chats_per_hour
        )
        self.sockets: dict[str, set[WebSocket]] = defaultdict(set)
        self.opened = itertools.count()
        self.shared.listen(f"push:{self.shared.gateway_id}", self._pushed_here)
        delivery.register(CHANNEL, self.push)

    async def page(self, request: Request) -> HTMLResponse:
        """Return the chat page with the city's bot name."""
        profile = self.profile
        text = PAGE.read_text(encoding="utf-8")
        values = {"bot_name": profile.bot_name, "city": profile.city, **profile.messages}
        values["photo_max"] = str(self.photos.max_bytes if self.photos else 0)
        values["web_photo_too_big"] = self._text("web_photo_too_big")
        text = re.sub(r"\{\{(\w+)\}\}", lambda m: html.escape(values.get(m.group(1), m.group(0))), text)
        return HTMLResponse(text)

    async def upload(self, request: Request) -> JSONResponse:
        """Keep a photo for an admitted page of conversation X-Chat-Sender; answer its reference.

        Refusals are 4xx with the profile's text for the citizen: no key (403), too fast (429), too large
        (413), not a JPEG, PNG or WebP picture (415), uploads switched off (404).
        """
        sender = request.headers.get("x-chat-sender", "")
        address = request.client.host if request.client else "unknown"
        if self.photos is None:
            return self._upload_refused("web_photo_off", 404)
        if not (_SENDER.match(sender) and signed(sender, request.headers.get("x-chat-token"))):
            return self._upload_refused("web_session_lost", 403)
        if not await self.per_address.take(address, cost=5):
            return self._upload_refused("web_too_fast", 429)
        try:
            data = await read_body(request, self.photos.max_bytes)
            consented = request.query_params.get("location") == "1"  # the page asked the citizen
            saved = await self.photos.save(sender, data, read_location=consented)
        except TooLarge:
            return self._upload_refused("web_photo_too_big", 413)
        except PhotoError as exc:
            if exc.kind == "too_big":
                return self._upload_refused("web_photo_too_big", 413)
            return self._upload_refused("web_photo_kind", 415)
        return JSONResponse({"image": saved.ref, "location": saved.location})

    def _upload_refused(self, text: str, status: int) -> JSONResponse:
        return JSONResponse({"error": self._text(text)}, status_code=status)

    def _text(self, key: str) -> str:
        """The profile's text KEY, with the upload limit filled in."""
        limit = f"{(self.photos.max_bytes if self.photos else 0) / 2**20:g}MB"
        return self.profile.messages[key].replace("{limit}", limit)

    async def socket(self, websocket: WebSocket) -> None:
        """Read the citizen's messages, answer each one, until the browser goes away.

        A socket speaks for one conversation once admitted to it (_admit): with the conversation's key, or
        as its first page. No other page can take over a conversation whose id it learnt.
        """
        if not self._origin_allowed(websocket):
            await websocket.close(code=4403)  # another site's page: its visitors' browsers are not citizens
            return
        await websocket.accept()
        sender: str | None = None
        address = websocket.client.host if websocket.client else "unknown"
        socket_key = f"{address} {next(self.opened)}"  # this socket's own bucket, forgotten when it closes
        try:
            while True:
                received = await websocket.receive()
                if received["type"] == "websocket.disconnect":
                    break
                raw = received.get("text")
                if not isinstance(raw, str):  # a binary frame: the page sends text only
                    await self._refuse(websocket, "bad_request")
                    continue
                if not (self.per_socket.take(socket_key) and await self.per_address.take(address)):
                    await self._refuse(websocket, "web_too_fast")
                    continue
                hello = self._hello(raw)
                message = None if hello is not None else self._parse(raw, address)
                if hello is not None:
                    wanted, token = hello
                elif message is not None:
                    wanted, token = message.user_id, None
                else:
                    await self._refuse(websocket, "bad_request")
                    continue
                if wanted != sender:
                    admitted, refusal = await self._admit(wanted, token, address)
                    if admitted is None:
                        await self._refuse(websocket, refusal)
                        continue
                    await self._forget(sender, websocket)
                    sender = wanted
                    self.sockets[sender].add(websocket)
                    await self.shared.put(_page_at(sender), self.shared.gateway_id, PAGE_AT)
                    if admitted and hello is not None:
                        await websocket.send_json({"type": "session", "sender": sender, "token": admitted})
                if message is None:
                    await self._flush(sender)
                    continue
                answers = await self.router.route(message)
                await websocket.send_json({"type": "messages", "messages": [a.as_json() for a in answers]})
        except WebSocketDisconnect:
            pass
        finally:
            await self._forget(sender, websocket)
            self.per_socket.buckets.pop(socket_key, None)

    async def _admit(self, sender: str, token: object, address: str) -> tuple[str | None, str]:
        """Admit a socket to conversation SENDER: ("", "") with its key; (a new key, "") for a conversation
        never seen, at most new_chats_per_hour from one address; else (None, the refusal's text)."""
        if signed(sender, token):
            return "", ""
        if await self.known(sender):
            return None, "web_session_lost"  # someone else's conversation
        if not await self.new_chats.take(address):
            return None, "web_too_many_chats"
        return sign(sender), ""

    def _origin_allowed(self, websocket: WebSocket) -> bool:
        origin = websocket.headers.get("origin")
        if not origin:  # not a browser: no page of another site is using a visitor's browser
            return True
        if origin.rstrip("/") in self.origins:
            return True
        return urlsplit(origin).netloc == websocket.headers.get("host")

    async def _refuse(self, websocket: WebSocket, text: str) -> None:
        """Answer a frame that is not taken with the profile's TEXT (its code tells the page what to do)."""
        codes = {"web_session_lost": "session", "web_too_fast": "limit", "web_too_many_chats": "limit"}
        frame = {"type": "error", "text": self.profile.messages[text]}
        if text in codes:
            frame["code"] = codes[text]
        await websocket.send_json(frame)

    async def push(self, sender: str, messages: list[Outbound]) -> bool:
        """Send MESSAGES to every open page of SENDER, here or on the gateway that has it; return whether
        one was open (or the gateway that has it took them)."""
        if await self._send(sender, messages):
            return True
        there = await self.shared.get(_page_at(sender))
        if there is None or there == self.shared.gateway_id:
            return False
        event = {"sender": sender, "messages": [m.as_json() for m in messages]}
        return await self.shared.publish(f"push:{there}", event) > 0

    async def _pushed_here(self, event: dict[str, Any]) -> None:
        """Another gateway's push for a page open here: send it, or keep it for the page's next hello."""
        sender, messages = (
            str(event.get("sender")),
            [Outbound.from_json(m) for m in event.get("messages", [])],
        )
        if not await self._send(sender, messages):
            await self.delivery.keep(CHANNEL, sender, messages)

    async def _send(self, sender: str, messages: list[Outbound]) -> bool:
        sent = False
        for websocket in list(self.sockets.get(sender, ())):
            try:
                await websocket.send_json({"type": "messages", "messages": [m.as_json() for m in messages]})
                sent = True
            except (RuntimeError, WebSocketDisconnect):
                await self._forget(sender, websocket)
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

    async def _forget(self, sender: str | None, websocket: WebSocket) -> None:
        if sender is not None and sender in self.sockets:
            self.sockets[sender].discard(websocket)
            if not self.sockets[sender]:
                del self.sockets[sender]
                if await self.shared.get(_page_at(sender)) == self.shared.gateway_id:
                    await self.shared.take(_page_at(sender))

    def _parse(self, raw: str, address: str) -> Inbound | None:
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
        image = data.get("image")
        owned = isinstance(image, str) and self.photos is not None and self.photos.owned(image, sender)
        if image is not None and not owned:
            return None  # only a photo this conversation uploaded
        location = _location(data.get("location"))
        if data.get("location") is not None and location is None:
            return None
        if not text.strip() and not payload and not image and not location:
            return None
        return Inbound(
            channel=CHANNEL, user_id=sender, text=text[:MAX_TEXT],
            payload=payload[:MAX_TEXT] if isinstance(payload, str) and payload else None, image_url=image,
            location=location, origin=address,
        )  # fmt: skip


def _page_at(sender: str) -> str:
    """The shared key that says which gateway has a page of SENDER open."""
    return f"web:page:{sender}"


def _location(value: object) -> dict[str, float] | None:
    """Return a place the page sent ({"latitude", "longitude"}, numbers in range), else None."""
    if not isinstance(value, dict):
        return None
    latitude, longitude = value.get("latitude"), value.get("longitude")
    numbers = [v for v in (latitude, longitude) if isinstance(v, (int, float)) and not isinstance(v, bool)]
    if len(numbers) != 2 or not all(math.isfinite(v) for v in numbers):
        return None
    if not (-90 <= numbers[0] <= 90 and -180 <= numbers[1] <= 180):
        return None
    return {"latitude": float(numbers[0]), "longitude": float(numbers[1])}
