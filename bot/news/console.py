"""Card news in the console: staff publish a set, send it now, and see what each broadcast did.

GET  /agent/news                        the page
GET  /agent/api/news                    topics, the newest card sets and broadcasts
POST /agent/api/news/cards              {topic, title, cards: [{image, caption, link?}]}: publish a set
POST /agent/api/news/send/{topic}       send the topic's newest unsent set now

Publishing and sending are for supervisors, admins and staff (the city's PR team logs in as staff); agents
may look. A change is audited in the log with who made it.
"""

from __future__ import annotations

import asyncio
import logging
from http import HTTPStatus
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Route

from bot.handoff.console import Refused
from bot.news.broadcast import Broadcaster
from bot.profile import CityProfile
from bot.store.agents import LoggedIn
from bot.store.broadcasts import add_card_set, broadcast_report, latest_card_sets, start_broadcast
from bot.store.db import Database
from bot.tickets.workspace import Guard

__all__ = ["NewsDesk"]

logger = logging.getLogger(__name__)

PAGE = Path(__file__).resolve().parent.parent / "web" / "news.html"
PUBLISHERS = ("staff", "supervisor", "admin")


class NewsDesk:
    """The card-news page and its API, behind the console's login (GUARD)."""

    def __init__(self, *, db: Database, profile: CityProfile, guard: Guard, broadcaster: Broadcaster) -> None:
        self.db, self.profile, self.guard, self.broadcaster = db, profile, guard, broadcaster
        self.sending: set[asyncio.Task[bool]] = set()

    def routes(self) -> list[BaseRoute]:
        """Return the page's routes."""
        return [
            Route("/agent/news", self.page),
            Route("/agent/api/news", self.guard(self.overview)),
            Route("/agent/api/news/cards", self.guard(self.publish), methods=["POST"]),
            Route("/agent/api/news/send/{topic}", self.guard(self.send), methods=["POST"]),
        ]

    async def page(self, request: Request) -> HTMLResponse:
        """Return the page."""
        text = PAGE.read_text(encoding="utf-8").replace("{{city}}", self.profile.city)
        return HTMLResponse(text, headers={"Cache-Control": "no-store", "X-Frame-Options": "DENY"})

    async def overview(self, request: Request, login: LoggedIn) -> Response:
        """Return the topics, the newest card sets and the newest broadcasts."""

        def read(session: Session) -> dict[str, Any]:
            sets = [
                {"id": c.id, "topic": c.topic, "title": c.title, "cards": list(c.cards),
                 "created_at": c.created_at.isoformat()}
                for c in latest_card_sets(session)
            ]  # fmt: skip
            return {"sets": sets, "broadcasts": broadcast_report(session)}

        found = await self.db.run(read)
        topics = [
            {"key": t.key, "title": t.title, "says": t.says} for t in self.profile.news.subscriptions.values()
        ]
        return JSONResponse({**found, "topics": topics, "can_publish": login.role in PUBLISHERS})

    def _publisher(self, login: LoggedIn) -> None:
        if login.role not in PUBLISHERS:
            raise Refused(HTTPStatus.FORBIDDEN, "only staff, supervisors and admins publish card news")

    def _topic(self, topic: Any) -> str:
        if topic not in self.profile.news.subscriptions:
            raise Refused(HTTPStatus.BAD_REQUEST, f"no topic {topic!r}")
        return str(topic)

    async def publish(self, request: Request, login: LoggedIn) -> Response:
        """Store a card set (bot.store.broadcasts.add_card_set says what one is)."""
        self._publisher(login)
        try:
            body = await request.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise Refused(HTTPStatus.BAD_REQUEST, "send {topic, title, cards}")
        topic, title, cards = self._topic(body.get("topic")), str(body.get("title") or ""), body.get("cards")
        by = f"{login.role}:{login.name}"
        try:
            set_id = await self.db.run(
                lambda s: add_card_set(s, topic=topic, title=title, cards=cards, by=by)
            )
        except ValueError as exc:
            raise Refused(HTTPStatus.BAD_REQUEST, str(exc)) from exc
        logger.info("card set %d (%s) published by %s", set_id, topic, by)
        return JSONResponse({"id": set_id}, status_code=HTTPStatus.CREATED)

    async def send(self, request: Request, login: LoggedIn) -> Response:
        """Start the topic's broadcast now (sent in the background; the page shows its progress)."""
        self._publisher(login)
        topic = self._topic(request.path_params["topic"])
        started = await self.db.run(lambda s: start_broadcast(s, topic=topic))
        if started is None:
            raise Refused(HTTPStatus.CONFLICT, "no card set of this topic that was not sent already")
        logger.info("broadcast %d of %s started by %s:%s", started[0], topic, login.role, login.name)
        task = asyncio.create_task(self.broadcaster.run(*started))
        self.sending.add(task)
        task.add_done_callback(self.sending.discard)
        return JSONResponse(
            {"broadcast": started[0], "card_set": started[1].id}, status_code=HTTPStatus.ACCEPTED
        )
