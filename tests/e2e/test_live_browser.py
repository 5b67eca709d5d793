"""소통라이브's console and public pages in a real browser (Debian's headless Chromium, Playwright)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Dialog, expect, sync_playwright
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from bot.live import notify
from bot.store import live
from bot.store.agents import add_agent
from bot.store.models import LiveSession, utcnow
from tests.bot.channels.helpers import FakeRasa, console_login, served

CHROMIUM = Path("/usr/bin/chromium")
SEOUL = ZoneInfo("Asia/Seoul")
ASKED = [
    (
        "web-asker-0101",
        "33번 버스 배차 간격이 너무 길어요. 출퇴근 시간만이라도 늘려 주세요.",
        "성정1동",
        "traffic",
    ),
    (
        "web-asker-0102",
        "제 전화번호 010-0000-0000으로 연락 주세요. 공원 쓰레기가 넘쳐요.",
        None,
        "environment",
    ),
]


def _local(moment: dt.datetime) -> str:
    """MOMENT as an <input type=datetime-local> takes it, in the city's time."""
    return moment.astimezone(SEOUL).strftime("%Y-%m-%dT%H:%M")


def test_staff_make_a_session_hide_and_answer_questions_and_the_public_page_shows_the_answer(
    database_url: str, sessions: sessionmaker[Session]
) -> None:
    with sessions.begin() as session:
        add_agent(session, "소통담당", "a-long-password", "staff", "홍보담당관")
    if not CHROMIUM.exists():
        pytest.fail("Chromium is missing: run `make browser` (make test does)")
    # Questions were taken last week and the broadcast has aired: its answers are public.
    now = utcnow().replace(second=0, microsecond=0)
    # (aired three hours ago: the broadcast is over)
    opens, closes, airs = now - dt.timedelta(days=7), now - dt.timedelta(days=2), now - dt.timedelta(hours=3)
    with served(database_url, FakeRasa()) as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        page = browser.new_context(viewport={"width": 1280, "height": 900}, locale="ko-KR").new_page()

        def answer(dialog: Dialog) -> None:
            dialog.accept("개인정보가 들어 있어요")  # why the question is hidden

        page.on("dialog", answer)
        console_login(page, url, "소통담당")
        page.goto(f"{url}/agent/live")
        page.fill("#title", "천안시장과 함께하는 겨울 소통라이브")
        page.fill("#opens", _local(opens))
        page.fill("#closes", _local(closes))
        page.fill("#airs", _local(airs))
        page.fill("#stream", "https://www.youtube.com/@cheonan/live")
        page.click("#session button[type=submit]")
        expect(page.locator("#notice")).to_have_text("소통라이브 1번을 만들었어요.")

        with sessions.begin() as session:
            [made] = live.sessions(session)
            ids = []
            for sender, text, district, topic in ASKED:
                found = live.add_question(
                    session, session_id=made.id, channel="web", sender=sender, text=text, district=district,
                    topic=topic, most=3, now=opens + dt.timedelta(hours=1),
                )  # fmt: skip
                assert found is not None
                ids.append(found[0].id)
            live.vote(session, question_id=ids[1], channel="web", sender="web-voter-0101", now=opens)
        assert made.airs_at == airs  # the form's local time is the city's

        # The page refreshes by itself: the agreed-with question ranks first.
        rows = page.locator("#ranking tr")
        expect(rows.nth(1)).to_contain_text(ASKED[1][1], timeout=10_000)
        expect(rows.nth(2)).to_contain_text(ASKED[0][1])
        assert [rows.nth(1).locator("td").nth(i).inner_text() for i in range(5)] == [
            "1",
            "2",
            "1",
            "환경·안전",
            "",
        ]
        expect(page.locator("#csv")).to_have_attribute("href", f"/agent/api/live/{made.id}/questions.csv")
        expect(page.locator("#public")).to_have_attribute("href", f"/live/{made.id}")

        page.locator(f"#q{ids[1]} button", has_text="숨기기").click()
        expect(page.locator("#notice")).to_have_text(f"#{ids[1]} 질문을 숨겼어요.")
        expect(page.locator(f"#q{ids[1]}")).to_contain_text("숨김: 개인정보가 들어 있어요")

        rows.filter(has=page.locator(f"#q{ids[0]}")).get_by_role("button", name="답변", exact=True).click()
        page.fill("#answer-text", "출퇴근 시간에 33번 버스를 두 대 늘려요.")
        page.fill("#answer-url", "https://youtu.be/cheonan-live?t=1234")
        page.click("#answer button[type=submit]")
        expect(page.locator("#notice")).to_have_text(f"#{ids[0]} 질문 묶음의 답변을 저장했어요.")
        expect(rows.filter(has=page.locator(f"#q{ids[0]}"))).to_contain_text(
            "출퇴근 시간에 33번 버스를 두 대 늘려요."
        )

        page.goto(f"{url}/live/{made.id}")  # the public page, as the city's blog links it
        expect(page.locator("h1")).to_have_text("천안시장과 함께하는 겨울 소통라이브")
        expect(page.locator("ol > li")).to_have_count(1)
        expect(page.locator("ol > li")).to_contain_text(ASKED[0][1])
        expect(page.locator(".answer")).to_contain_text("출퇴근 시간에 33번 버스를 두 대 늘려요.")
        link = page.get_by_role("link", name="방송에서 답변 보기")
        expect(link).to_have_attribute("href", "https://youtu.be/cheonan-live?t=1234")
        assert "010-0000-0000" not in page.content() and "web-asker" not in page.content()
        browser.close()


def test_a_citizen_asks_another_agrees_on_a_card_and_the_answer_reaches_the_asker_after_the_broadcast(
    database_url: str, sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(notify, "ROUND", 1.0)  # the gateway looks for what is due every second, not minute
    if not CHROMIUM.exists():
        pytest.fail("Chromium is missing: run `make browser` (make test does)")
    now = utcnow()
    with sessions.begin() as session:
        sid = live.add_session(
            session, title="2026 겨울 소통라이브", opens_at=now - dt.timedelta(days=1),
            closes_at=now + dt.timedelta(hours=1), airs_at=now + dt.timedelta(hours=2),
            stream_url="https://www.youtube.com/@cheonan/live", by="홍보팀",
        )  # fmt: skip
    phone = {"viewport": {"width": 390, "height": 844}, "locale": "ko-KR"}
    with served(database_url, FakeRasa()) as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        asker, agreer = browser.new_context(**phone).new_page(), browser.new_context(**phone).new_page()
        last = ".row.bot .bubble"
        asker.goto(f"{url}/")
        asker.fill("#text", "소통라이브")
        asker.keyboard.press("Enter")
        expect(asker.locator(last).last).to_contain_text("'2026 겨울 소통라이브' 질문을 받고 있어요.")
        expect(asker.locator("#chips button")).to_have_text(
            ["질문 남기기", "다른 질문에 공감하기", "내 질문 보기"]
        )
        asker.locator("#chips button", has_text="질문 남기기").click()
        expect(asker.locator(last).last).to_contain_text("시장님께 드릴 질문을 한 메시지로 보내 주세요")
        asker.fill("#text", "불당동 어린이 도서관을 주말 저녁에도 열어 주세요")
        asker.keyboard.press("Enter")
        expect(asker.locator(last).nth(-2)).to_have_text(
            "질문을 남겼어요. '문화·관광·체육' 분야로 정리했어요."
        )
        asker.locator("#chips button", has_text="네, 알려 주세요").click()
        expect(asker.locator(last).last).to_have_text(
            "좋아요. 방송 전에 링크를, 방송 뒤에 답변을 보내 드릴게요."
        )

        agreer.goto(f"{url}/")
        agreer.fill("#text", "시장님께 질문")
        agreer.keyboard.press("Enter")
        agreer.locator("#chips button", has_text="다른 질문에 공감하기").click()
        card = agreer.locator(".cards .card")
        expect(card.locator("h3")).to_have_text(["1명이 함께하는 질문 · 문화·관광·체육"])
        expect(card.locator("p")).to_have_text(["불당동 어린이 도서관을 주말 저녁에도 열어 주세요"])
        card.locator("button", has_text="공감").click()
        expect(agreer.locator(last).nth(-2)).to_have_text("공감했어요. 이 질문에 2명이 함께하고 있어요.")

        # Staff record the answer; once the broadcast has aired, the asker's open page gets it.
        with sessions.begin() as session:
            [group] = live.ranking(session, session_id=sid)
            live.answer(
                session, question_id=group["group"], text="내년 3월부터 토요일 저녁 9시까지 열어요.",
                url="https://youtu.be/cheonanlive?t=1820", by="staff:소통담당",
            )  # fmt: skip
            session.execute(update(LiveSession).values(airs_at=utcnow() - dt.timedelta(hours=2)))
        expect(asker.locator(last).last).to_contain_text("답변: 내년 3월부터 토요일 저녁 9시까지 열어요.")
        expect(asker.locator(".row.bot .links a").last).to_have_attribute(
            "href", "https://youtu.be/cheonanlive?t=1820"
        )
        browser.close()
