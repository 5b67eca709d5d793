"""The insights dashboard's figures on SQLite and PostgreSQL, and its page in headless Chromium."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright
from sqlalchemy.orm import Session, sessionmaker

from bot.store import handoffs
from bot.store.agents import add_agent
from bot.store.models import Ticket
from bot.store.tickets import file_ticket, update_status
from tests.bot.channels.helpers import FakeRasa, console_login, gateway, served
from tests.bot.handoff.test_console import login
from tests.bot.handoff.test_review import write_tracker

CHROMIUM = Path("/usr/bin/chromium")
ROADS, CLEANING = "건설도로과", "청소행정과"
NOW = dt.datetime.now(dt.timezone.utc)
# (district, category, department, status, days ago, due in days): 3 lamps in 쌍용동 (one resolved in 2
# days, one overdue), 2 garbage reports in 불당동, 1 in 쌍용동, and one filed long before the period.
SEEDED = [
    ("쌍용동", "streetlight", ROADS, "resolved", 3, 4),
    ("쌍용동", "streetlight", ROADS, "received", 2, -1),
    ("쌍용동", "streetlight", ROADS, "in_progress", 1, 5),
    ("불당동", "garbage", CLEANING, "received", 1, 6),
    ("불당동", "garbage", CLEANING, "received", 0, 7),
    ("쌍용동", "garbage", CLEANING, "received", 0, 7),
    ("두정동", "noise", "환경정책과", "received", 400, 7),
]


@pytest.fixture
def seeded(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        add_agent(session, "박팀장", "a-long-password", "supervisor")
        add_agent(session, "청소담당", "a-long-password", "staff", CLEANING)
        for district, category, department, status, ago, due in SEEDED:
            ticket = file_ticket(
                session, category=category, department=department, description=f"{district} {category}",
                channel="kakao" if district == "불당동" else "web", sender="u", note="접수",
                district=district, due_at=NOW + dt.timedelta(days=due),
            )  # fmt: skip
            if status != "received":
                update_status(session, number=ticket.number, status=status, note="처리", actor="staff:a")
            row = session.get(Ticket, int(ticket.number.split("-")[1]))
            row.created_at = NOW - dt.timedelta(days=ago, hours=1)
            row.updated_at = row.created_at + dt.timedelta(days=2)
        handoffs.open_handoff(
            session, channel="web", sender="c1", reason="crisis:self_harm", priority="urgent"
        )
        handoffs.open_handoff(session, channel="web", sender="c2", reason="requested")


@pytest.mark.usefixtures("seeded")
def test_the_figures_count_the_period_by_place_category_department_and_week(database_url: str) -> None:
    with gateway(database_url, FakeRasa()) as client:
        login(client, "박팀장")
        figures = client.get("/agent/api/insights").json()
    assert figures["total"] == 6  # the one of 400 days ago is outside the last 30 days
    cells = {(r["district"], r["category"]): r["tickets"] for r in figures["by_district_category"]}
    assert cells == {("쌍용동", "streetlight"): 3, ("불당동", "garbage"): 2, ("쌍용동", "garbage"): 1}
    assert figures["top_places"][0] == {
        "district": "쌍용동", "category": "streetlight", "tickets": 3, "open": 2, "overdue": 1
    }  # fmt: skip
    assert [(r["district"], r["tickets"]) for r in figures["by_district"]] == [("쌍용동", 4), ("불당동", 2)]
    roads = next(r for r in figures["by_department"] if r["department"] == ROADS)
    assert (roads["tickets"], roads["open"], roads["overdue"], roads["median_days"]) == (3, 2, 1, 2.0)
    assert {r["channel"]: r["tickets"] for r in figures["by_channel"]} == {"web": 4, "kakao": 2}
    assert (
        sum(w["tickets"] for w in figures["weeks"]) == 6 and sum(w["closed"] for w in figures["weeks"]) == 1
    )
    assert figures["handoffs"] == {"handoffs": 2, "crises": 1}
    assert figures["labels"]["category"]["streetlight"] == "가로등·신호등 고장 신고"


@pytest.mark.usefixtures("seeded")
def test_the_bots_weekly_fallback_rate_comes_from_rasas_own_events(database_url: str) -> None:
    with gateway(database_url, FakeRasa()) as client:
        login(client, "박팀장")
        assert client.get("/agent/api/insights").json()["fallback_weeks"] == []  # no Rasa table yet
        now = NOW.timestamp()
        understood = {"intent": {"name": "complaint", "confidence": 0.9}, "entities": [], "text": "x"}
        missed = {"intent": {"name": "nlu_fallback", "confidence": 0.4}, "entities": [], "text": "y"}
        said = [("가로등", understood, now - 60), ("음", missed, now - 50), ("네", understood, now - 40)]
        write_tracker(database_url, "web:a", [*said, ("옛날", missed, now - 400 * 86400)])
        [week] = client.get("/agent/api/insights").json()["fallback_weeks"]
    assert (week["messages"], week["fallbacks"], week["rate"]) == (3, 1, 0.333)


@pytest.mark.usefixtures("seeded")
def test_staff_see_their_department_and_bad_periods_are_refused(database_url: str) -> None:
    with gateway(database_url, FakeRasa()) as client:
        assert client.get("/agent/api/insights").status_code == 401
        login(client, "청소담당")
        figures = client.get("/agent/api/insights", params={"department": ROADS}).json()
        assert figures["total"] == 3 and figures["department"] == CLEANING
        everything = client.get("/agent/api/insights", params={"since": "2020-01-01"})
        assert everything.status_code == 400  # more than three years
        assert (
            client.get(
                "/agent/api/insights", params={"since": "2026-12-31", "until": "2026-01-01"}
            ).status_code
            == 400
        )
        assert client.get("/agent/api/insights", params={"until": "9999-12-31"}).status_code == 400
        assert client.get("/agent/api/insights", params={"since": "어제"}).status_code == 400


@pytest.mark.usefixtures("seeded")
def test_the_dashboard_draws_the_seeded_numbers_and_exports_them(
    database_url: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    if not CHROMIUM.exists():
        pytest.fail("Chromium is missing: run `make browser` (make test does)")
    if request.node.callspec.params.get("database_url") == "postgresql":
        pytest.skip("the page is the same on both databases; the figures are tested on both above")
    with served(database_url, FakeRasa()) as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        page = browser.new_context(
            viewport={"width": 1400, "height": 1000}, locale="ko-KR", accept_downloads=True
        ).new_page()
        console_login(page, url, "박팀장")
        page.click("text=민원 현황")
        expect(page.locator(".number b").first).to_have_text("6")
        bars = (
            "() => { const c = Chart.getChart('districts');"
            " return [c.data.labels, c.data.datasets.map((d) => d.data)]; }"
        )
        # 쌍용동: 3 open (two lamps, one garbage) and 1 done; 불당동: 2 open.
        assert page.evaluate(bars) == [["쌍용동", "불당동"], [[3, 2], [1, 0]]]
        expect(page.locator("#heat tr").nth(1)).to_contain_text("쌍용동")
        statuses = page.evaluate("() => Chart.getChart('statuses').data.labels")
        assert sorted(statuses) == sorted(["접수", "처리 중", "처리 완료"])
        page.screenshot(path="/tmp/insights.png", full_page=True)
        with page.expect_download() as download:
            page.click("#csv")
        text = Path(download.value.path()).read_text(encoding="utf-8-sig")
        assert text.splitlines()[0] == '"읍·면·동","분류","접수","처리 중","기한 지남"'
        assert '"쌍용동","가로등·신호등 고장 신고","3","2","1"' in text
        with page.expect_download() as picture:
            page.click("button.png[data-chart='districts']")
        assert Path(picture.value.path()).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        browser.close()
