"""The tickets page in headless Chromium: a staff member filters, opens a ticket and moves it, and the
citizen's open web chat shows the news."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright
from sqlalchemy.orm import Session, sessionmaker

from bot.store.agents import add_agent
from bot.store.tickets import file_ticket
from tests.bot.channels.helpers import FakeRasa, console_login, served

CHROMIUM = Path("/usr/bin/chromium")


def test_staff_move_a_ticket_in_the_browser_and_the_citizen_sees_it(
    database_url: str, sessions: sessionmaker[Session]
) -> None:
    if not CHROMIUM.exists():
        pytest.fail("Chromium is missing: run `make browser` (make test does)")
    with sessions.begin() as session:
        add_agent(session, "도로담당", "a-long-password", "staff", "건설도로과")
        other = file_ticket(
            session, category="garbage", department="청소행정과", description="쓰레기가 쌓여 있어요",
            channel="web", sender="someone-else-0001", note="접수했어요.", district="불당동",
        )  # fmt: skip
        earlier = file_ticket(
            session, category="streetlight", department="건설도로과", description="주공2단지 앞 가로등 고장",
            channel="web", sender="someone-else-0002", note="접수했어요.", district="쌍용동",
            location_text="쌍용동 주공2단지 앞",
        ).number  # fmt: skip
    with served(database_url, FakeRasa()) as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        citizen = browser.new_context(locale="ko-KR").new_page()
        citizen.goto(url)
        citizen.fill("#text", "가로등이 나갔어요")
        citizen.press("#text", "Enter")
        expect(citizen.locator(".row.bot .bubble").last).to_contain_text(
            "가로등이 나갔어요"
        )  # FakeRasa echoes
        sender = json.loads(citizen.evaluate("localStorage.getItem('minwon-chat')"))["sender"]
        with sessions.begin() as session:
            number = file_ticket(
                session, category="streetlight", department="건설도로과", description="가로등이 꺼졌어요",
                channel="web", sender=sender, note="접수했어요.", district="쌍용동",
                location_text="쌍용동 주공2단지 앞",
                due_at=dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=1),
            ).number  # fmt: skip

        staff = browser.new_context(viewport={"width": 1400, "height": 900}, locale="ko-KR").new_page()
        console_login(staff, url, "도로담당")
        staff.click("text=민원 처리")
        expect(staff.locator("#summary")).to_have_text("2건")  # 건설도로과's two, not 청소행정과's
        staff.select_option("#f-due", "overdue")
        staff.click("#filters button")
        expect(staff.locator("#summary")).to_have_text("1건")
        row = staff.locator("#rows tr")
        expect(row).to_have_count(1)
        expect(row.first).to_contain_text(number)
        expect(row.first.locator(".badge.overdue")).to_have_text("기한 지남")
        row.first.click()
        expect(staff.locator("#detail h2")).to_have_text(f"민원 {number}")
        # The page's own greeting when it opened, then what the citizen wrote.
        expect(staff.locator("#detail .chat.in")).to_have_text(["안녕하세요", "가로등이 나갔어요"])
        expect(staff.locator("#f-department")).to_be_hidden()  # staff see their own department's only
        staff.select_option("#d-status", "in_progress")
        staff.fill("#d-note", "내일 오전에 전구를 교체할 예정이에요.")
        staff.click("text=상태 바꾸기")
        expect(staff.locator("#detail .notice")).to_have_text("바꿨어요. 시민에게 알렸어요.")
        expect(staff.locator("#rows tr").first).to_contain_text("처리 중")
        # The earlier report of the same lamp: this one joins it, and its citizen is told.
        expect(staff.locator("#detail .similar")).to_contain_text(earlier)
        staff.click(f"text={earlier}에 합치기")
        expect(staff.locator("#detail .notice")).to_have_text("합쳤어요. 시민에게 알렸어요.")
        staff.screenshot(path="/tmp/tickets.png")
        expect(citizen.locator(".row.bot .bubble", has_text=f"먼저 들어온 민원 {earlier}")).to_have_count(1)

        news = citizen.locator(".row.bot .bubble", has_text="처리 상태가")
        expect(news).to_contain_text("'처리 중'으로 바뀌었어요")
        expect(news).to_contain_text("내일 오전에 전구를 교체할 예정이에요.")
        # Another department's ticket is not this staff member's to open.
        assert staff.request.get(f"{url}/agent/api/tickets/{other.number}").status == 403
        browser.close()
