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
import functools
import logging
from http import HTTPStatus
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Route

from bot.handoff.console import Refused, json_body
from bot.news.broadcast import Broadcaster, start_topic
from bot.profile import CityProfile
from bot.store.agents import LoggedIn
from bot.store.broadcasts import add_card_set, broadcast_report, latest_card_sets
from bot.store.db import Database
from bot.tickets.workspace import Guard

__all__ = ["NewsDesk"]

logger = logging.getLogger(__name__)
CARD_SET_BODY = 128 * 1024  # ten cards of 1,000-character captions and their addresses, with room

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
            {"key": t.key, "title": t.title, "says": t.says, "per_district": t.per_district}
            for t in self.profile.news.subscriptions.values()
        ]
        return JSONResponse({**found, "topics": topics, "can_publish": login.role in PUBLISHERS})

    def _publisher(self, login: LoggedIn) -> None:
        if login.role not in PUBLISHERS:
            raise Refused(HTTPStatus.FORBIDDEN, "only staff, supervisors and admins publish card news")

    def _topic(self, topic: Any, *, published: bool = False) -> str:
        found = self.profile.news.subscriptions.get(topic) if isinstance(topic, str) else None
        if found is None:
            raise Refused(HTTPStatus.BAD_REQUEST, f"no topic {topic!r}")
        if published and found.per_district:
            raise Refused(HTTPStatus.BAD_REQUEST, f"{topic!r} sends each 읍·면·동 its posts; no card sets")
        return str(topic)

    async def publish(self, request: Request, login: LoggedIn) -> Response:
        """Store a card set (bot.store.broadcasts.add_card_set says what one is)."""
        self._publisher(login)
        body = await json_body(
            request, CARD_SET_BODY
        )  # size-capped, depth-bounded, strings cleaned (bot/bodies.py)
        if not body:
            raise Refused(HTTPStatus.BAD_REQUEST, "send {topic, title, cards}")
        topic, title, cards = (
            self._topic(body.get("topic"), published=True),
            str(body.get("title") or ""),
            body.get("cards"),
        )
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
        started = await self.db.run(functools.partial(start_topic, profile=self.profile, topic=topic))
        if not started:
            raise Refused(HTTPStatus.CONFLICT, "nothing of this topic that was not sent already")
        for broadcast_id, card_set in started:
            logger.info("broadcast %d of %s started by %s:%s", broadcast_id, topic, login.role, login.name)
            task = asyncio.create_task(self.broadcaster.run(broadcast_id, card_set))
            self.sending.add(task)
            task.add_done_callback(self.sending.discard)
        first_id, first_set = started[0]
        return JSONResponse(
            {"broadcast": first_id, "card_set": first_set.id, "broadcasts": [b for b, _ in started]},
            status_code=HTTPStatus.ACCEPTED,
        )
