"""The staff workspace: tickets in the console, for the people who process them.

    GET  /agent/tickets                         the page (it needs a console login)
    GET  /agent/api/tickets/options             filter choices (the 읍·면·동 tickets name), and who is asking
    GET  /agent/api/tickets?status=&category=&district=&department=&since=&until=&q=&due=&page=
                                                a page of tickets, newest first, and how many match
    GET  /agent/api/tickets/{number}            one ticket: timeline, place, photo, the chat it came from
                                                (personal data masked), and whether this login may move it
    POST /agent/api/tickets/{number}/status     {status, note}: move it; the citizen is told
    POST /agent/api/tickets/{number}/reassign   {department}: pass it to another department; the citizen
                                                is told
    POST /agent/api/tickets/{number}/merge      {into}: a second report of one problem joins the first; it
                                                follows the first one's steps, and its citizen hears of them

Who may do what: staff see and move their own department's tickets only (another's: 403); supervisors and
admins, every ticket; agents read them (they file tickets for citizens in chats) but do not move them.
Every change is a step of the ticket's timeline with who made it and when (the audit).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from http import HTTPStatus
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Route

from bot.delivery import Delivery
from bot.handoff.console import Refused, json_body
from bot.nlu.taxonomy import CATEGORIES
from bot.profile import CityProfile
from bot.store.agents import LoggedIn
from bot.store.conversations import messages_around
from bot.store.db import Database
from bot.store.models import STATUSES, aware
from bot.store.tickets import (
    CannotMerge,
    TicketFilter,
    TicketView,
    find_ticket,
    merge_ticket,
    parse_number,
    reassign_ticket,
    search_tickets,
    ticket_districts,
    update_status,
)
from bot.tickets.duplicates import likely_duplicates
from bot.tickets.notify import tell_citizen, tell_moved

__all__ = ["Workspace", "day_start"]

PAGE = Path(__file__).resolve().parent.parent / "web" / "tickets.html"
PER_PAGE = 50
NOTE_LIMIT = 1000
# The chat a ticket came from: its messages from this long before filing to a little after.
CHAT_BEFORE, CHAT_AFTER = dt.timedelta(hours=2), dt.timedelta(minutes=10)
MOVERS = frozenset({"staff", "supervisor", "admin"})
Guard = Callable[
    [Callable[[Request, LoggedIn], Awaitable[Response]]], Callable[[Request], Awaitable[Response]]
]


class Workspace:
    """The tickets page and its API, behind the console's login (GUARD)."""

    def __init__(self, *, db: Database, delivery: Delivery, profile: CityProfile, guard: Guard) -> None:
        self.db, self.delivery, self.profile, self.guard = db, delivery, profile, guard

    def routes(self) -> list[BaseRoute]:
        """Return the workspace's routes."""
        post = ["POST"]
        return [
            Route("/agent/tickets", self.page),
            Route("/agent/api/tickets", self.guard(self.search)),
            Route("/agent/api/tickets/options", self.guard(self.options)),
            Route("/agent/api/tickets/{number}", self.guard(self.detail)),
            Route("/agent/api/tickets/{number}/status", self.guard(self.move), methods=post),
            Route("/agent/api/tickets/{number}/reassign", self.guard(self.reassign), methods=post),
            Route("/agent/api/tickets/{number}/merge", self.guard(self.merge), methods=post),
        ]

    async def page(self, request: Request) -> HTMLResponse:
        """Return the tickets page (it sends to the console's login when nobody is logged in)."""
        text = PAGE.read_text(encoding="utf-8").replace("{{city}}", self.profile.city)
        return HTMLResponse(text, headers={"Cache-Control": "no-store", "X-Frame-Options": "DENY"})

    async def options(self, request: Request, login: LoggedIn) -> Response:
        """Return the filters' choices and what this login may do."""
        profile = self.profile
        return JSONResponse(
            {
                "name": login.name, "role": login.role, "department": login.department,
                "can_move": login.role in MOVERS,
                "statuses": [{"name": s, "label": profile.status_labels[s]} for s in STATUSES],
                "categories": [
                    {"name": c, "label": profile.label("complaint", c)} for c in CATEGORIES["complaint"]
                ],
                "districts": await self.db.run(ticket_districts),
                "departments": sorted({d.name for d in profile.departments.values()}),
            }
        )  # fmt: skip

    async def search(self, request: Request, login: LoggedIn) -> Response:
        """Return a page of the tickets matching the query's filters (staff: their department's only)."""
        query = request.query_params
        status = query.get("status") or None
        if status is not None and status not in STATUSES:
            raise Refused(HTTPStatus.BAD_REQUEST, f"status must be one of {', '.join(STATUSES)}")
        due = query.get("due") or None
        if due not in (None, "overdue", "soon"):
            raise Refused(HTTPStatus.BAD_REQUEST, "due must be overdue or soon")
        page = _whole(query.get("page") or "1", "page")
        zone = self.profile.timezone
        wanted = TicketFilter(
            status=status, category=query.get("category") or None, district=query.get("district") or None,
            department=login.department if login.role == "staff" else query.get("department") or None,
            since=day_start(query.get("since"), "since", zone),
            until=day_start(query.get("until"), "until", zone, 1),
            text=(query.get("q") or "")[:100] or None, due=due,
        )  # fmt: skip
        total, tickets = await self.db.run(
            lambda s: search_tickets(s, wanted, offset=(page - 1) * PER_PAGE, limit=PER_PAGE)
        )
        return JSONResponse(
            {"total": total, "page": page, "per_page": PER_PAGE, "tickets": [self._row(t) for t in tickets]}
        )

    async def detail(self, request: Request, login: LoggedIn) -> Response:
        """Return one ticket with its timeline and the chat it came from, personal data masked."""
        ticket = await self._ticket(request, login)

        def chat(session: Any) -> list[dict[str, Any]]:
            rows = messages_around(
                session, channel=ticket.channel, sender=ticket.sender, moment=ticket.created_at,
                before=CHAT_BEFORE, after=CHAT_AFTER,
            )  # fmt: skip
            return [
                {"direction": m.direction, "text": m.text, "at": aware(m.created_at).isoformat()}
                for m in rows
            ]

        def similar(session: Any) -> list[dict[str, Any]]:
            return [
                {**self._row(other), "score": round(score, 2)}
                for other, score in likely_duplicates(session, ticket)
                if login.role != "staff" or other.department == login.department
            ]

        return JSONResponse(
            {
                **self._row(ticket), "can_move": self._may_move(login, ticket) and not ticket.merged_into,
                "conversation": await self.db.run(chat), "similar": await self.db.run(similar),
            }
        )  # fmt: skip

    async def move(self, request: Request, login: LoggedIn) -> Response:
        """Move a ticket to another status with a note the citizen reads; tell the citizen."""
        ticket = await self._ticket(request, login, moving=True)
        body = await json_body(request)
        status, note = str(body.get("status") or ""), str(body.get("note") or "").strip()
        if status not in STATUSES:
            raise Refused(HTTPStatus.BAD_REQUEST, f"status must be one of {', '.join(STATUSES)}")
        if not note or len(note) > NOTE_LIMIT:
            raise Refused(HTTPStatus.BAD_REQUEST, f"a note for the citizen is needed (at most {NOTE_LIMIT})")

        def change(session: Any) -> TicketView:
            moved = update_status(
                session, number=ticket.number, status=status, note=note, actor=_actor(login)
            )
            tell_moved(session, moved, self.profile)
            return moved

        moved = await self.db.run(change)
        await self.delivery.flush()  # pushed now where the channel can (web chat, Telegram)
        return JSONResponse(self._row(moved))

    async def reassign(self, request: Request, login: LoggedIn) -> Response:
        """Pass a ticket to another department of the profile; tell the citizen."""
        ticket = await self._ticket(request, login, moving=True)
        body = await json_body(request)
        department = str(body.get("department") or "")
        if department not in {d.name for d in self.profile.departments.values()}:
            raise Refused(HTTPStatus.BAD_REQUEST, "department must be one of the city profile's")
        if department == ticket.department:
            raise Refused(HTTPStatus.CONFLICT, "the ticket is that department's already")
        note = f"{ticket.department} → {department}"

        def change(session: Any) -> TicketView:
            moved = reassign_ticket(
                session, number=ticket.number, department=department, note=note, actor=_actor(login)
            )
            tell_citizen(session, moved, self.profile)
            return moved

        moved = await self.db.run(change)
        await self.delivery.flush()
        return JSONResponse(self._row(moved))

    async def merge(self, request: Request, login: LoggedIn) -> Response:
        """Merge this ticket into another (the first report of the same problem); tell the citizen."""
        ticket = await self._ticket(request, login, moving=True)
        body = await json_body(request)
        into = str(body.get("into") or "")
        target = await self.db.run(lambda s: find_ticket(s, number=into)) if parse_number(into) else None
        if target is None:
            raise Refused(HTTPStatus.BAD_REQUEST, "into must be the number of an existing ticket")
        if not self._may_move(login, target):
            raise Refused(HTTPStatus.FORBIDDEN, "another department's ticket")

        def change(session: Any) -> TicketView:
            joined = merge_ticket(session, number=ticket.number, into=into, note=into, actor=_actor(login))
            tell_citizen(session, joined, self.profile)
            return joined

        try:
            joined = await self.db.run(change)
        except CannotMerge as exc:
            raise Refused(HTTPStatus.CONFLICT, "these tickets cannot be merged (merged or closed)") from exc
        await self.delivery.flush()
        return JSONResponse(self._row(joined))

    # --- helpers ---

    async def _ticket(self, request: Request, login: LoggedIn, *, moving: bool = False) -> TicketView:
        """Return the path's ticket if this login may see it (and, MOVING, move it); else Refused."""
        number = request.path_params["number"]
        ticket = None
        if parse_number(number) is not None:
            ticket = await self.db.run(lambda s: find_ticket(s, number=number))
        if ticket is None:
            raise Refused(HTTPStatus.NOT_FOUND, "no such ticket")
        if login.role == "staff" and ticket.department != login.department:
            raise Refused(HTTPStatus.FORBIDDEN, "another department's ticket")
        if moving and not self._may_move(login, ticket):
            raise Refused(HTTPStatus.FORBIDDEN, "agents read tickets; staff of its department move them")
        if moving and ticket.merged_into:
            raise Refused(HTTPStatus.CONFLICT, f"this ticket follows {ticket.merged_into}: move that one")
        return ticket

    @staticmethod
    def _may_move(login: LoggedIn, ticket: TicketView) -> bool:
        return login.role in MOVERS and (login.role != "staff" or ticket.department == login.department)

    def _row(self, ticket: TicketView) -> dict[str, Any]:
        profile = self.profile
        return {
            **ticket.as_json(), "category_label": profile.label("complaint", ticket.category),
            "status_label": profile.status_labels.get(ticket.status, ticket.status),
        }  # fmt: skip


def day_start(value: str | None, name: str, zone: ZoneInfo, days_after: int = 0) -> dt.datetime | None:
    """Return the start of day VALUE (YYYY-MM-DD, in ZONE) plus DAYS_AFTER, in UTC; Refused (400) for
    anything else, None for nothing."""
    if not value:
        return None
    try:
        day = dt.date.fromisoformat(value) + dt.timedelta(days=days_after)
    except (ValueError, OverflowError) as exc:
        raise Refused(HTTPStatus.BAD_REQUEST, f"{name} must be a date like 2026-11-01") from exc
    return dt.datetime.combine(day, dt.time(), tzinfo=zone).astimezone(dt.timezone.utc)


def _whole(value: str, name: str) -> int:
    if not value.isdigit() or not 0 < int(value) <= 100_000:
        raise Refused(HTTPStatus.BAD_REQUEST, f"{name} must be a whole number from 1")
    return int(value)


def _actor(login: LoggedIn) -> str:
    return f"{login.role}:{login.name}"
