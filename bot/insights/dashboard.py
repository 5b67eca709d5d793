"""The insights dashboard: complaints by 읍·면·동 and category, trends, departments, channels, handoffs.

GET /agent/insights                                 the page (charts drawn with Chart.js)
GET /agent/chart.js                                 Chart.js itself (node_modules, `make install`)
GET /agent/api/insights?since=&until=&department=   the figures (bot/store/insights.py); the last 30
                                                    days by default; staff: their department's only
"""

from __future__ import annotations

import datetime as dt
from http import HTTPStatus
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Route

from bot.handoff.console import Refused
from bot.nlu.taxonomy import CATEGORIES
from bot.profile import CityProfile
from bot.settings import PROJECT_ROOT
from bot.store.agents import LoggedIn
from bot.store.db import Database
from bot.store.insights import insights
from bot.store.models import STATUSES
from bot.store.surveys import scores
from bot.tickets.workspace import Guard, day_start

__all__ = ["Dashboard"]

PAGE = Path(__file__).resolve().parent.parent / "web" / "insights.html"
CHART_JS = PROJECT_ROOT / "node_modules" / "chart.js" / "dist" / "chart.umd.js"
DEFAULT_DAYS = 30
CHANNELS = {"web": "웹 채팅", "kakao": "카카오톡", "telegram": "텔레그램", "rest": "기타", "demo": "시연"}
LONGEST = dt.timedelta(days=3 * 366)  # a period asked for at most


class Dashboard:
    """The dashboard's page and figures, behind the console's login (GUARD)."""

    def __init__(self, *, db: Database, profile: CityProfile, guard: Guard) -> None:
        self.db, self.profile, self.guard = db, profile, guard

    def routes(self) -> list[BaseRoute]:
        """Return the dashboard's routes."""
        return [
            Route("/agent/insights", self.page),
            Route("/agent/chart.js", self.chart),
            Route("/agent/api/insights", self.guard(self.figures)),
        ]

    async def page(self, request: Request) -> HTMLResponse:
        """Return the dashboard page."""
        text = PAGE.read_text(encoding="utf-8").replace("{{city}}", self.profile.city)
        return HTMLResponse(text, headers={"Cache-Control": "no-store", "X-Frame-Options": "DENY"})

    async def chart(self, request: Request) -> Response:
        """Return Chart.js as npm installed it."""
        if not CHART_JS.exists():
            return JSONResponse({"error": "Chart.js is not installed: run make install"}, status_code=404)
        return FileResponse(CHART_JS, media_type="text/javascript; charset=utf-8")

    async def figures(self, request: Request, login: LoggedIn) -> Response:
        """Return the figures of the period asked for (the city's days, both included)."""
        zone, query = self.profile.timezone, request.query_params
        today = dt.datetime.now(zone).date()
        first = today - dt.timedelta(days=DEFAULT_DAYS - 1)
        since = day_start(query.get("since") or first.isoformat(), "since", zone)
        until = day_start(query.get("until") or today.isoformat(), "until", zone, 1)
        assert since is not None and until is not None
        if not since < until or until - since > LONGEST:
            raise Refused(HTTPStatus.BAD_REQUEST, "since must come before until, at most three years apart")
        department = login.department if login.role == "staff" else query.get("department") or None

        def figures(session: Session) -> dict[str, Any]:
            found = insights(session, since=since, until=until, department=department)
            return {**found, "satisfaction": scores(session, since=since, until=until, department=department)}

        found = await self.db.run(figures)
        profile = self.profile
        labels = {
            "category": {c: profile.label("complaint", c) for c in CATEGORIES["complaint"]},
            "status": {s: profile.status_labels.get(s, s) for s in STATUSES},
            "channel": CHANNELS,
        }
        period = {"since": since.astimezone(zone).date().isoformat(),
                  "until": (until.astimezone(zone).date() - dt.timedelta(days=1)).isoformat()}  # fmt: skip
        return JSONResponse({**found, "period": period, "department": department, "labels": labels})
