"""소통라이브 in the console: staff make a session, moderate and answer its questions, and take them to the
broadcast; and the session's public page.

GET  /agent/live                               the page
GET  /agent/api/live                           the sessions, and whether this login may change them
POST /agent/api/live/sessions                  {title, opens_at, closes_at, airs_at, stream_url}: a session
GET  /agent/api/live/{id}/questions            its questions ranked, the hidden and withdrawn ones too
GET  /agent/api/live/{id}/questions.csv        the open ones ranked, for the broadcast's script
POST /agent/api/live/questions/{id}/{action}   hide {reason}, show, regroup {into: id | null},
                                               answer {text, url} (the answer of its group)
GET  /live/{id}                                the public page (no login): bot.live.public

Changes are for staff, supervisors and admins; agents may look. Each change is audited in the log with who
made it and the question's number, never its text.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import logging
from collections.abc import Callable
from http import HTTPStatus
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Route

from bot.handoff.console import MAX_ID, Refused, json_body, row_id
from bot.live import public
from bot.profile import CityProfile
from bot.store import live
from bot.store.agents import LoggedIn
from bot.store.db import Database, StoreUnavailable
from bot.store.models import utcnow
from bot.tickets.workspace import Guard

__all__ = ["LiveDesk", "local_moment"]

logger = logging.getLogger(__name__)

PAGE = Path(__file__).resolve().parent.parent / "web" / "live.html"
MANAGERS = ("staff", "supervisor", "admin")
ACTIONS = ("hide", "show", "regroup", "answer")
LIVE_BODY = 32 * 1024  # a 2,000-character answer written as \u escapes, and its link, with room
CSV_HEADER = [
    "순위",
    "공감한 사람",
    "공감",
    "분야",
    "읍·면·동",
    "질문",
    "같이 묶인 질문",
    "답변",
    "답변 링크",
]
Ranked = tuple[live.LiveSessionView, list[dict[str, Any]]]


class LiveDesk:
    """The 소통라이브 page and its API, behind the console's login (GUARD), and the public page."""

    def __init__(self, *, db: Database, profile: CityProfile, guard: Guard) -> None:
        self.db, self.profile, self.guard = db, profile, guard

    def routes(self) -> list[BaseRoute]:
        """Return the pages' routes."""
        post = ["POST"]
        return [
            Route("/agent/live", self.page),
            Route("/agent/api/live", self.guard(self.overview)),
            Route("/agent/api/live/sessions", self.guard(self.create), methods=post),
            Route("/agent/api/live/{id}/questions", self.guard(self.questions)),
            Route("/agent/api/live/{id}/questions.csv", self.guard(self.export)),
            Route("/agent/api/live/questions/{id}/{action}", self.guard(self.moderate), methods=post),
            Route("/live/{id}", self.public),
        ]

    async def page(self, request: Request) -> HTMLResponse:
        """Return the console's page."""
        text = PAGE.read_text(encoding="utf-8").replace("{{city}}", self.profile.city)
        return HTMLResponse(text, headers={"Cache-Control": "no-store", "X-Frame-Options": "DENY"})

    async def overview(self, request: Request, login: LoggedIn) -> Response:
        """Return the sessions (the one that airs last first) and whether this login may change them."""
        found = await self.db.run(live.sessions)
        return JSONResponse({"sessions": [s.as_json() for s in found], "can_manage": login.role in MANAGERS})

    def _manager(self, login: LoggedIn) -> str:
        if login.role not in MANAGERS:
            raise Refused(HTTPStatus.FORBIDDEN, "only staff, supervisors and admins change 소통라이브")
        return f"{login.role}:{login.name}"

    async def create(self, request: Request, login: LoggedIn) -> Response:
        """Store a session (bot.store.live.add_session says what one is)."""
        by = self._manager(login)
        body = await json_body(request, LIVE_BODY)
        times = {
            name: _moment(body, name, self.profile.timezone) for name in ("opens_at", "closes_at", "airs_at")
        }
        title, url = _text(body, "title"), _text(body, "stream_url")
        try:
            made = await self.db.run(
                lambda s: live.add_session(s, title=title, **times, stream_url=url, by=by)
            )
        except ValueError as exc:
            raise Refused(HTTPStatus.BAD_REQUEST, str(exc)) from exc
        logger.info("live session %d made by %s", made, by)
        return JSONResponse({"id": made}, status_code=HTTPStatus.CREATED)

    async def _ranked(self, session_id: int, *, hidden: bool) -> Ranked | None:
        def read(session: Session) -> Ranked | None:
            view = live.get_session(session, session_id)
            if view is None:
                return None
            return view, live.ranking(session, session_id=session_id, hidden=hidden)

        found = await self.db.run(read)
        if found is None:
            return None
        for group in found[1]:
            for item in (group, *group["questions"]):
                item["topic_title"] = self.profile.live.topics.get(item["topic"], (item["topic"],))[0]
        return found

    async def questions(self, request: Request, login: LoggedIn) -> Response:
        """Return the session and its groups of questions, ranked, the hidden and withdrawn ones too."""
        found = await self._ranked(row_id(request), hidden=True)
        if found is None:
            raise Refused(HTTPStatus.NOT_FOUND, "no such session")
        view, groups = found
        return JSONResponse({"session": view.as_json(), "groups": groups})

    async def export(self, request: Request, login: LoggedIn) -> Response:
        """Return the open questions ranked as CSV (UTF-8 with a BOM, which Excel needs to read Korean)."""
        session_id = row_id(request)
        found = await self._ranked(session_id, hidden=False)
        if found is None:
            raise Refused(HTTPStatus.NOT_FOUND, "no such session")
        name = f"live-{session_id}-questions.csv"
        return Response(
            "\ufeff" + ranking_csv(found[1]), media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"},
        )  # fmt: skip

    async def moderate(self, request: Request, login: LoggedIn) -> Response:
        """Hide a question (with a reason), show it again, move it to another group, or answer its group."""
        by = self._manager(login)
        question_id, action = row_id(request), request.path_params["action"]
        if action not in ACTIONS:
            raise Refused(HTTPStatus.NOT_FOUND, f"no action {action!r}; one of {', '.join(ACTIONS)}")
        change = _change(action, question_id, await json_body(request, LIVE_BODY), by)
        try:
            done = await self.db.run(change)
        except ValueError as exc:
            raise Refused(HTTPStatus.BAD_REQUEST, str(exc)) from exc
        if not done:
            raise Refused(HTTPStatus.NOT_FOUND, f"no question {question_id} to {action}")
        logger.info("live question %d: %s by %s", question_id, action, by)
        return JSONResponse({"id": question_id, "action": action})

    async def public(self, request: Request) -> HTMLResponse:
        """Return the session's public page: its open questions ranked, and the answers once it has aired."""
        try:
            found = await self._ranked(row_id(request), hidden=False)
        except Refused:
            found = None
        except StoreUnavailable:
            page = public.notice(self.profile, "live_page_unavailable")
            return HTMLResponse(page, status_code=HTTPStatus.SERVICE_UNAVAILABLE)
        if found is None:
            return HTMLResponse(
                public.notice(self.profile, "live_page_missing"), status_code=HTTPStatus.NOT_FOUND
            )
        page = public.render(self.profile, *found, now=utcnow())
        return HTMLResponse(page, headers={"Cache-Control": "no-cache"})


def _text(body: dict[str, Any], name: str) -> str:
    value = body.get(name)
    return value.strip() if isinstance(value, str) else ""


def local_moment(value: str, zone: ZoneInfo) -> dt.datetime:
    """Return VALUE (ISO 8601 with a zone, or a local "2026-12-10T19:00" of ZONE, as a datetime-local input
    gives it) as an aware time in UTC; ValueError or OverflowError if it is none."""
    moment = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    return (moment if moment.tzinfo else moment.replace(tzinfo=zone)).astimezone(dt.timezone.utc)


def _moment(body: dict[str, Any], name: str, zone: ZoneInfo) -> dt.datetime:
    try:
        return local_moment(_text(body, name)[:64], zone)
    except (ValueError, OverflowError) as exc:
        raise Refused(HTTPStatus.BAD_REQUEST, f"{name} is a time like 2026-12-10T19:00") from exc


def _change(action: str, question_id: int, body: dict[str, Any], by: str) -> Callable[[Session], bool]:
    """Return the store's change ACTION of QUESTION_ID asks for: True if done, False if no such question."""
    if action in ("hide", "show"):
        reason, show = _text(body, "reason"), action == "show"
        return lambda s: live.hide(s, question_id=question_id, reason=reason, by=by, show=show)
    if action == "answer":
        text, url = _text(body, "text"), _text(body, "url") or None
        return lambda s: live.answer(s, question_id=question_id, text=text, url=url, by=by)
    into = body.get("into", ...)
    if into is not None and (type(into) is not int or not 0 < into <= MAX_ID):
        raise Refused(HTTPStatus.BAD_REQUEST, "send {into: the number of a question to group with, or null}")

    def regroup(session: Session) -> bool:
        if live.group_of(session, question_id) is None:
            return False
        if not live.regroup(session, question_id=question_id, into=into):
            raise ValueError(f"question {into} is not another question of the same session")
        return True

    return regroup


def ranking_csv(groups: list[dict[str, Any]]) -> str:
    """Return GROUPS (ranked, with topic titles) as CSV: a row a group, its first question and the others."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_HEADER)
    for rank, group in enumerate(groups, 1):
        first, *others = [q["text"] for q in group["questions"] if q["status"] == "open"]
        where, answer, link = group["district"] or "", group["answer"] or "", group["answer_url"] or ""
        cells = (
            rank,
            group["supporters"],
            group["votes"],
            group["topic_title"],
            where,
            first,
            "\n".join(others),
        )
        writer.writerow([_cell(v) for v in (*cells, answer, link)])
    return out.getvalue()


def _cell(value: object) -> str:
    text = str(value)
    # A citizen's text starting like a formula must stay text in a spreadsheet (CSV injection).
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
