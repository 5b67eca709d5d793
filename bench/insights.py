"""Insights benchmark: the dashboard's figures and the tickets page at 100,000 tickets, SQLite and PostgreSQL.

Usage:
    python -m bench.insights [--tickets 100000] [--out docs/benchmarks/insights.md]     (make bench-insights)

Each database is made fresh (a SQLite file in a temporary folder; PostgreSQL's `minwon_insights` on
127.0.0.1), migrated (the indexes of migration 0008), and filled with made-up tickets over 180 days
(python -m bot.tickets demo). Then each question the pages ask is timed five times (the median and the
slowest are reported): the dashboard's figures for 30 and 180 days, the tickets page's first page with no
filter, with a 읍·면·동 filter, with overdue tickets only, and with a word search.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from starlette.testclient import TestClient

from bench.faults import fresh_database
from bench.gateway import _machine
from bot.gateway import create_app
from bot.profile import load_profile
from bot.settings import PROJECT_ROOT, Settings, load_settings
from bot.store.agents import add_agent
from bot.store.db import session_factory
from bot.store.insights import insights
from bot.store.migrate import upgrade
from bot.store.tickets import TicketFilter, add_demo_tickets, search_tickets
from bot.tickets.demo import demo_rows

__all__ = ["main"]

TARGET_MS = 1000.0


def _questions(profile: Any) -> dict[str, Callable[[Any], object]]:
    now = dt.datetime.now(dt.timezone.utc)
    district = next(iter(profile.districts.values()))[0]
    return {
        "dashboard, last 30 days": lambda s: insights(s, since=now - dt.timedelta(days=30), until=now),
        "dashboard, last 180 days": lambda s: insights(s, since=now - dt.timedelta(days=180), until=now),
        "tickets page, no filter": lambda s: search_tickets(s, TicketFilter()),
        f"tickets page, {district}": lambda s: search_tickets(s, TicketFilter(district=district)),
        "tickets page, overdue": lambda s: search_tickets(s, TicketFilter(due="overdue")),
        "tickets page, words 가로등": lambda s: search_tickets(s, TicketFilter(text="가로등")),
    }


def measure(database_url: str, count: int) -> dict[str, tuple[float, float]]:
    """Fill DATABASE_URL with COUNT demo tickets; return each question's median and slowest ms."""
    profile = load_profile(load_settings().city_profile)
    upgrade(database_url)
    sessions = session_factory(database_url)
    for start in range(0, count, 5000):
        with sessions.begin() as session:
            add_demo_tickets(session, demo_rows(profile, min(5000, count - start), seed=start))
    times: dict[str, tuple[float, float]] = {}
    for name, ask in _questions(profile).items():
        spent = []
        for _ in range(5):
            with sessions() as session:
                started = time.perf_counter()
                ask(session)
                spent.append((time.perf_counter() - started) * 1000)
        times[name] = (statistics.median(spent), max(spent))
    times["dashboard over HTTP (GET /agent/api/insights, 30 days)"] = _over_http(database_url, sessions)
    return times


def _over_http(database_url: str, sessions: Any) -> tuple[float, float]:
    """Time the dashboard's API as the page calls it: a logged-in supervisor, the gateway in this process."""
    with sessions.begin() as session:
        add_agent(session, "벤치팀장", "a-long-password", "supervisor")
    app = create_app(
        Settings(database_url=database_url, rasa_url="http://rasa.bench", agent_cookie_secure=False)
    )
    spent = []
    with TestClient(app) as client:
        client.post("/agent/api/login", json={"name": "벤치팀장", "password": "a-long-password"})
        for _ in range(5):
            started = time.perf_counter()
            assert client.get("/agent/api/insights").status_code == 200
            spent.append((time.perf_counter() - started) * 1000)
    return statistics.median(spent), max(spent)


def report(results: dict[str, dict[str, tuple[float, float]]], count: int) -> str:
    lines = [
        "# Insights benchmark",
        "",
        f"`make bench-insights` (python -m bench.insights), {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M}"
        f" UTC, on {_machine()}.",
        "",
        f"{count:,} made-up tickets over 180 days (bot/tickets/demo.py), each question five times; the time "
        "is the repository's (the SQL and building the answer), in ms, median / slowest. The pages add JSON "
        "and a browser's drawing to it.",
        "",
        "| question | " + " | ".join(results) + " |",
        "| --- | " + " | ".join("---:" for _ in results) + " |",
    ]
    names = next(iter(results.values()))
    for name in names:
        cells = [f"{r[name][0]:.0f} / {r[name][1]:.0f}" for r in results.values()]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    slowest = {db: max(t[1] for t in r.values()) for db, r in results.items()}
    lines += [
        "",
        f"Target: every question under {TARGET_MS:.0f} ms at 100,000 tickets. "
        "The machines here are shared and noisy.",
        "",
        "insights: " + " ".join(f"{db}_slowest_ms={ms:.0f}" for db, ms in slowest.items()),
        "",
    ]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.insights", description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--out", type=Path, default=PROJECT_ROOT / "docs" / "benchmarks" / "insights.md")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        results = {"sqlite": measure(f"sqlite:///{folder}/insights.db", args.tickets)}
    results["postgresql"] = measure(fresh_database("minwon_insights"), args.tickets)
    text = report(results, args.tickets)
    args.out.write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
