"""The agent console: the page (GET /agent), its JSON API (/agent/api/…) and live updates (WS /agent/ws).

Logging in (POST /agent/api/login, JSON {name, password}) sets an HttpOnly, SameSite=Strict session cookie
and returns a CSRF token; every other API route needs the cookie (401 without it), and every request that
changes something also needs the token in the X-CSRF-Token header (403 without it). The socket needs the
cookie and a same-origin Origin header.

    GET  /agent/api/me                      name, CSRF token, reply templates, intents and categories
    GET  /agent/api/queue                   open chats (urgent first, longest waiting) and the last closed
    GET  /agent/api/handoffs/{id}           one chat: transcript (personal data masked), tickets, labels
    POST /agent/api/handoffs/{id}/reveal    the same, unmasked; {reason} is required and logged
    POST /agent/api/handoffs/{id}/claim     take a waiting chat (409 if another agent was first)
    POST /agent/api/handoffs/{id}/reply     {text}: send to the citizen
    POST /agent/api/handoffs/{id}/ticket    {category, description, location}: file a complaint for them
    POST /agent/api/handoffs/{id}/close     hand the chat back to the bot
    POST /agent/api/messages/{id}/label     {intent, category}: what a citizen's message meant
    GET  /agent/api/review?limit=N          unlabelled citizen messages the bot was least sure of (1-200)
    POST /agent/api/logout
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from collections.abc import Awaitable, Callable
from http import HTTPStatus
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from bot.bodies import TooLarge, parse_json, read_body
from bot.handoff.desk import Conflict, Desk, DeskError, Forbidden, Invalid, NotFound
from bot.handoff.hub import Hub
from bot.handoff.throttle import LoginThrottle
from bot.nlu.taxonomy import CATEGORIES, INTENTS
from bot.photos import Photos
from bot.profile import CityProfile
from bot.shared import Shared
from bot.store.agents import (
    LoggedIn,
    end_session,
    open_session,
    password_hash_of,
    session_of,
)
from bot.store.db import Database, StoreUnavailable

__all__ = ["COOKIE", "MAX_ID", "Console", "Refused", "json_body", "row_id"]

logger = logging.getLogger(__name__)

COOKIE = "minwon_agent"
PAGE = Path(__file__).resolve().parent.parent / "web" / "agent.html"
MAX_BODY = 16 * 1024
# How many review items a request gets: by default, and at most.
REVIEW_LIMIT, MAX_REVIEW_LIMIT = 50, 200
Handler = Callable[[Request, LoggedIn], Awaitable[Response]]
_STATUS = {
    NotFound: HTTPStatus.NOT_FOUND, Conflict: HTTPStatus.CONFLICT, Invalid: HTTPStatus.BAD_REQUEST,
    Forbidden: HTTPStatus.FORBIDDEN,
}  # fmt: skip


class Refused(Exception):
    """A request the console refuses before the desk sees it."""

    def __init__(self, status: HTTPStatus, message: str) -> None:
        super().__init__(message)
        self.status = status


def _error(message: str, status: HTTPStatus) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


class Console:
    """The console's routes."""

    def __init__(
        self, *, db: Database, hub: Hub, desk: Desk, profile: CityProfile, secure_cookie: bool | None,
        photos: Photos | None = None, shared: Shared | None = None,
    ) -> None:  # fmt: skip
        self.db, self.hub, self.desk, self.profile, self.secure = db, hub, desk, profile, secure_cookie
        self.photos = photos
        self.throttle = LoginThrottle(shared)
        self.departures: set[asyncio.Task[None]] = set()

    def routes(self) -> list[BaseRoute]:
        """Return the console's routes."""
        post = ["POST"]
        return [
            Route("/agent", self.page),
            Route("/agent/api/login", self.login, methods=post),
            Route("/agent/api/logout", self.guard(self.logout), methods=post),
            Route("/agent/api/me", self.guard(self.me)),
            Route("/agent/api/queue", self.guard(self.queue)),
            Route("/agent/api/handoffs/{id}", self.guard(self.detail)),
            Route("/agent/api/handoffs/{id}/{action}", self.guard(self.act), methods=post),
            Route("/agent/api/messages/{id}/label", self.guard(self.label), methods=post),
            Route("/agent/api/review", self.guard(self.review)),
            Route("/agent/api/photo", self.guard(self.photo)),
            WebSocketRoute("/agent/ws", self.socket),
        ]

    async def page(self, request: Request) -> HTMLResponse:
        """Return the console page (it shows the login form until the API says who is logged in)."""
        text = PAGE.read_text(encoding="utf-8").replace("{{city}}", self.profile.city)
        return HTMLResponse(text, headers={"Cache-Control": "no-store", "X-Frame-Options": "DENY"})

    # --- authentication ---

    async def _who(self, token: str) -> LoggedIn | None:
        return await self.db.run_or(lambda s: session_of(s, token), None) if token else None

    def guard(self, handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        """Wrap HANDLER: 401 without a valid session; 403 for a change without the session's CSRF token."""

        async def guarded(request: Request) -> Response:
            login = await self._who(request.cookies.get(COOKIE, ""))
            if login is None:
                return _error("log in first", HTTPStatus.UNAUTHORIZED)
            if request.method != "GET":
                given = request.headers.get("x-csrf-token", "")
                if not hmac.compare_digest(given.encode(), login.csrf.encode()):
                    return _error("missing or wrong CSRF token", HTTPStatus.FORBIDDEN)
            try:
                return await handler(request, login)
            except Refused as exc:
                return _error(str(exc), exc.status)
            except DeskError as exc:
                return _error(str(exc), _STATUS[type(exc)])
            except StoreUnavailable:
                return _error("the database is unreachable", HTTPStatus.SERVICE_UNAVAILABLE)

        return guarded

    async def login(self, request: Request) -> Response:
        """Check a name and password; set the session cookie."""
        # Only JSON: a form on another site cannot send it without the browser asking this site first.
        if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
            return _error("send JSON", HTTPStatus.UNSUPPORTED_MEDIA_TYPE)
        try:
            body = await json_body(request)
        except Refused as exc:
            return _error(str(exc), exc.status)
        name, password = body.get("name"), body.get("password")
        if not isinstance(name, str) or not isinstance(password, str) or not name or len(password) > 1024:
            return _error("name and password are needed", HTTPStatus.BAD_REQUEST)
        address = request.client.host if request.client else "unknown"
        refusal = await self.throttle.admit(name, address)
        if refusal is not None:
            return _error(refusal, HTTPStatus.TOO_MANY_REQUESTS)
        result = None
        try:
            stored = await self.db.run_or(lambda s: password_hash_of(s, name), None)
            if stored is not None and await self.throttle.verify(password, stored):
                result = await self.db.run_or(lambda s: open_session(s, name), None)
        finally:
            await self.throttle.done(name, succeeded=result is not None)
        if result is None:
            logger.info("a console login failed")
            return _error("wrong name or password", HTTPStatus.UNAUTHORIZED)
        token, login = result
        response = JSONResponse({"name": login.name, "csrf": login.csrf})
        response.set_cookie(
            COOKIE,
            token,
            max_age=12 * 3600,
            path="/agent",
            httponly=True,
            samesite="strict",
            # Secure (HTTPS only) unless set otherwise or reached on this machine.
            secure=self.secure if self.secure is not None else request.url.hostname not in _LOCAL_HOSTS,
        )
        return response

    async def logout(self, request: Request, login: LoggedIn) -> Response:
        """End the session."""
        await self.db.run_or(lambda s: end_session(s, login.session_id), None)
        await self.hub.close_session(login.session_id)  # its consoles stop hearing the queue at once
        response = JSONResponse({"ok": True})
        response.delete_cookie(COOKIE, path="/agent")
        return response

    # --- the API ---

    async def me(self, request: Request, login: LoggedIn) -> Response:
        """Return who is logged in, the CSRF token, reply templates and the label choices."""
        profile = self.profile
        intents = [{"name": i, "label": profile.label(i)} for i in INTENTS]
        categories = {
            i: [{"name": c, "label": profile.label(i, c)} for c in cs] for i, cs in CATEGORIES.items()
        }
        return JSONResponse(
            {
                "name": login.name, "role": login.role, "csrf": login.csrf,
                "templates": list(profile.handoff.templates),
                "intents": intents, "categories": categories, "ticket_statuses": profile.status_labels,
            }
        )  # fmt: skip

    async def queue(self, request: Request, login: LoggedIn) -> Response:
        """Return the queue."""
        return JSONResponse({"handoffs": await self.desk.queue()})

    async def detail(self, request: Request, login: LoggedIn) -> Response:
        """Return one chat, personal data masked."""
        return JSONResponse(await self.desk.detail(row_id(request), agent_id=login.agent_id))

    async def act(self, request: Request, login: LoggedIn) -> Response:
        """Claim, reply, file a ticket, reveal, close, or end a crisis alarm as a false one."""
        handoff_id, action = row_id(request), request.path_params["action"]
        body = await json_body(request)
        if action == "claim":
            await self.desk.claim(handoff_id, login.agent_id)
        elif action == "reply":
            pushed = await self.desk.reply(handoff_id, login.agent_id, str(body.get("text") or ""))
            return JSONResponse(
                {"ok": True, "delivered": "now" if pushed else "with the citizen's next message"}
            )
        elif action == "ticket":
            number = await self.desk.file_ticket(
                handoff_id, login.agent_id, category=str(body.get("category") or ""),
                description=str(body.get("description") or ""), location=str(body.get("location") or ""),
            )  # fmt: skip
            return JSONResponse({"ok": True, "number": number})
        elif action == "reveal":
            reason = str(body.get("reason") or "").strip()
            if not reason:
                raise Refused(HTTPStatus.BAD_REQUEST, "say why you open the personal data")
            return JSONResponse(
                await self.desk.detail(
                    handoff_id, agent_id=login.agent_id, reveal=reason[:500], oversees=login.oversees
                )
            )
        elif action == "close":
            await self.desk.close(handoff_id, login.agent_id)
        elif action == "false_alarm":
            await self.desk.false_alarm(handoff_id, login.agent_id)
        else:
            raise Refused(HTTPStatus.NOT_FOUND, "unknown action")
        return JSONResponse({"ok": True})

    async def label(self, request: Request, login: LoggedIn) -> Response:
        """Record an agent's label for a citizen's message."""
        body = await json_body(request)
        await self.desk.label(
            row_id(request),
            login.agent_id,
            str(body.get("intent") or ""),
            body.get("category") or None,
        )
        return JSONResponse({"ok": True})

    async def review(self, request: Request, login: LoggedIn) -> Response:
        """Return the review queue: the citizen messages whose labels teach the model most."""
        try:
            limit = int(request.query_params.get("limit") or REVIEW_LIMIT)
        except ValueError as exc:
            raise Refused(HTTPStatus.BAD_REQUEST, "limit must be a whole number") from exc
        return JSONResponse({"items": await self.desk.review(limit=min(max(limit, 1), MAX_REVIEW_LIMIT))})

    async def photo(self, request: Request, login: LoggedIn) -> Response:
        """Return a citizen's photo (?ref= as a message or ticket names it), fetched through the gateway:
        a web upload from disk, a Telegram photo with the bot's token kept here, a Kakao address."""
        ref = request.query_params.get("ref", "")
        found = await self.photos.open(ref) if self.photos is not None and len(ref) <= 2048 else None
        if found is None:
            raise Refused(HTTPStatus.NOT_FOUND, "no such photo (or it expired)")
        data, kind = found
        headers = {"Cache-Control": "private, max-age=300", "X-Content-Type-Options": "nosniff"}
        return Response(data, media_type=kind, headers=headers)

    # --- live updates ---

    async def socket(self, websocket: WebSocket) -> None:
        """Send events to a logged-in console; when an agent's last console goes, release their chats."""
        origin = websocket.headers.get("origin")
        if origin and urlsplit(origin).netloc != websocket.headers.get("host"):
            await websocket.close(code=4403)
            return
        login = await self._who(websocket.cookies.get(COOKIE, ""))
        if login is None:
            await websocket.close(code=4401)
            return
        await websocket.accept()
        await self.hub.join(login.agent_id, websocket, session_id=login.session_id)
        token = websocket.cookies.get(COOKIE, "")
        try:
            while True:
                try:  # the console only listens; pings keep proxies from closing it
                    await asyncio.wait_for(websocket.receive_text(), timeout=SESSION_CHECK)
                except asyncio.TimeoutError:
                    # Logged out elsewhere, or disabled (python -m bot.agents disable): the console goes,
                    # and with it, after the grace period, the chats the agent held.
                    if await self._who(token) is None:
                        await websocket.close(code=4401)
                        break
                    await self.hub.here(login.agent_id, websocket)
        except WebSocketDisconnect:
            pass
        finally:
            if await self.hub.leave(login.agent_id, websocket):
                task = asyncio.create_task(self.desk.agent_left(login.agent_id))
                self.departures.add(task)
                task.add_done_callback(self.departures.discard)


_LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1"}
# How often (seconds) an open console's session is checked again.
SESSION_CHECK = 15.0
# Row ids are 32-bit integers in PostgreSQL (and 64-bit in SQLite): a larger one names nothing.
MAX_ID = 2**31 - 1


def row_id(request: Request) -> int:
    """Return the path's id; Refused (404) if no row could have it."""
    # A plain {id} is checked here: Starlette's {id:int} turns 5,000 digits into a ValueError (a 500).
    given = str(request.path_params["id"])
    if not (given.isascii() and given.isdigit() and len(given) <= 10 and 0 < int(given) <= MAX_ID):
        raise Refused(HTTPStatus.NOT_FOUND, "no such id")
    return int(given)


async def json_body(request: Request, limit: int = MAX_BODY) -> dict[str, Any]:
    """Return the request's JSON object (at most LIMIT bytes), or an empty one (the handlers say what is
    missing)."""
    try:
        raw = await read_body(request, limit)
    except TooLarge as exc:
        raise Refused(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "request too large") from exc
    if not raw:
        return {}
    try:
        data = parse_json(raw)
    except ValueError as exc:
        raise Refused(HTTPStatus.BAD_REQUEST, "the body is not JSON") from exc
    return data if isinstance(data, dict) else {}
