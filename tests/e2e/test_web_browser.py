"""The web chat in a real browser (Debian's headless Chromium, driven by Playwright), on a phone-sized screen.

The gateway runs in a thread with uvicorn; Rasa is the fake one of the channel tests (the whole bot in a
browser is the handoff issue's end-to-end test).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect, sync_playwright
from sqlalchemy.orm import Session, sessionmaker

from bot.store.agents import add_agent
from bot.store.broadcasts import latest_card_sets, subscribe
from tests.bot.channels.helpers import FakeRasa, console_login, served

CHROMIUM = Path("/usr/bin/chromium")
PHONE = {"width": 390, "height": 844}


def answers(body: dict[str, Any]) -> list[dict[str, Any]]:
    """Answer like the bot: the menu for a greeting, an answer with links for 복지 상담."""
    if body["message"] == "안녕하세요":
        return [
            {
                "text": "안녕하세요! 무엇을 도와드릴까요?",
                "buttons": [
                    {"title": "민원 신고", "payload": "민원 신고"},
                    {"title": "복지 상담", "payload": "복지 상담"},
                ],
            }
        ]
    if body["message"] == "복지 상담":
        return [
            {
                "text": "기초연금은 만 65세 이상…",
                "buttons": [
                    {"title": "복지로", "url": "https://www.bokjiro.go.kr"},
                    {"title": "보건복지상담 129", "phone": "129"},
                ],
            }
        ]
    if body["message"] == "민원 신고":
        return [
            {
                "text": "어떤 불편을 신고하시겠어요? 아래에서 고르시거나 무슨 일인지 말씀해 주세요.\n" * 3
                + "마지막 줄까지 보여야 해요.",
                "buttons": [{"title": f"{name} 신고", "payload": f"{name} 신고"} for name in CATEGORIES],
            }
        ]
    if body["message"] == "요즘 천안 소식 알려줘":
        # Rasa's REST channel: the line, then the cards as a custom message (actions/quick_links.py).
        return [{"text": "천안시의 최근 소식이에요."}, {"custom": {"cards": NEWS}}]
    return [{"text": f"받았어요: {body['message']}"}]  # fmt: skip


NEWS = [
    {"title": "천안주말사용설명서 12월 첫째 주", "text": "12월 3일(목) · 첫 주말, 어디 갈지 고민이라면 " * 3,
     "url": "https://blog.cheonan.example/posts/2323", "button": "자세히 보기",
     "image": "https://blog.cheonan.example/img/2323.jpg"},
    {"title": "2027 천안흥타령춤축제, 9월 22일 개막 확정", "text": "12월 2일(수) · 내년 날짜가 정해졌어요.",
     "url": "https://www.cheonan.example/press/5131", "button": "자세히 보기"},
    {"title": "겨울방학 어린이 독서교실", "text": "12월 1일(화) · 시립도서관에서 열려요.",
     "url": "https://blog.cheonan.example/posts/2291", "button": "자세히 보기"},
]  # fmt: skip


# Ten category buttons, as the complaint form's first question has.
CATEGORIES = ["가로등·신호등 고장", "쓰레기 문제", "소음", "불법 주정차", "도로 파손", "시설물 파손", "동물",
              "불법 광고물", "악취·오염", "기타"]  # fmt: skip


@pytest.fixture
def chat_url(database_url: str) -> Iterator[str]:
    with served(database_url, FakeRasa(answers=answers)) as url:
        yield f"{url}/"


@pytest.fixture
def page() -> Iterator[Page]:
    if not CHROMIUM.exists():
        pytest.fail("Chromium is missing: run `make browser` (make test does)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        context = browser.new_context(viewport=PHONE, locale="ko-KR")
        yield context.new_page()
        browser.close()


def test_a_citizen_chats_taps_a_chip_sees_links_and_the_conversation_survives_a_reload(
    page: Page, chat_url: str
) -> None:
    page.goto(chat_url)
    expect(page).to_have_title("천안시 민원 챗봇")
    # The page greets for the citizen; the bot's answer has its name, avatar and quick-reply chips.
    expect(page.locator(".row.bot .bubble").first).to_have_text("안녕하세요! 무엇을 도와드릴까요?")
    expect(page.locator(".row.bot .name").first).to_have_text("천안시 민원 챗봇")
    expect(page.locator("#chips button")).to_have_text(["민원 신고", "복지 상담"])

    page.locator("#chips button", has_text="복지 상담").click()
    expect(page.locator(".row.me .bubble").last).to_have_text("복지 상담")
    links = page.locator(".row.bot .links a")
    expect(links).to_have_text(["복지로", "보건복지상담 129"])
    assert links.nth(0).get_attribute("href") == "https://www.bokjiro.go.kr"
    assert links.nth(1).get_attribute("href") == "tel:129"
    expect(page.locator("#chips button")).to_have_count(0)

    page.fill("#text", "집 앞 가로등이 꺼졌어요")
    page.keyboard.press("Enter")
    expect(page.locator(".row.bot .bubble").last).to_have_text("받았어요: 집 앞 가로등이 꺼졌어요")
    assert page.locator(".time").first.inner_text().strip()

    # Nothing is wider than the phone's screen.
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    sender = page.evaluate("JSON.parse(localStorage.getItem('minwon-chat')).sender")
    page.reload()
    expect(page.locator(".row .bubble")).to_have_count(5)
    assert page.evaluate("JSON.parse(localStorage.getItem('minwon-chat')).sender") == sender
    page.fill("#text", "또 왔어요")
    page.keyboard.press("Enter")
    expect(page.locator(".row.bot .bubble").last).to_have_text("받았어요: 또 왔어요")


def test_every_choice_and_the_newest_line_are_in_sight_on_a_phone(page: Page, chat_url: str) -> None:
    """Ten category chips used to sit in one row that showed three, and covered the bubble's last line."""
    page.goto(chat_url)
    page.locator("#chips button", has_text="민원 신고").click()
    chips = page.locator("#chips button")
    expect(chips).to_have_count(10)
    last_line = page.locator(".row.bot .bubble").last
    expect(last_line).to_contain_text("마지막 줄까지 보여야 해요.")
    log = page.locator("#log").bounding_box()
    bubble = last_line.bounding_box()
    assert log and bubble
    # The whole newest bubble is inside the log's visible area, above the chips.
    assert log["y"] <= bubble["y"] and bubble["y"] + bubble["height"] <= log["y"] + log["height"] + 1
    for n in range(10):
        box = chips.nth(n).bounding_box()
        assert box and 0 <= box["x"] and box["x"] + box["width"] <= PHONE["width"], n
        assert box["y"] + box["height"] <= PHONE["height"], n  # no chip hidden past the edge of the screen


def test_the_citys_posts_are_cards_to_swipe_and_subscribing_is_one_tap(page: Page, chat_url: str) -> None:
    page.goto(chat_url)
    expect(page.locator(".row.bot .bubble").first).to_have_text("안녕하세요! 무엇을 도와드릴까요?")
    page.fill("#text", "요즘 천안 소식 알려줘")
    page.keyboard.press("Enter")
    cards = page.locator(".cards .card")
    expect(cards.locator("h3")).to_have_text([n["title"] for n in NEWS])
    expect(cards.locator("a")).to_have_text(["자세히 보기"] * 3)
    assert [cards.nth(i).locator("a").get_attribute("href") for i in range(3)] == [n["url"] for n in NEWS]
    expect(page.locator(".row.bot .bubble", has_text="천안시의 최근 소식이에요.")).to_have_count(1)
    # The cards swipe inside their row: the page itself is no wider than the phone.
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert page.evaluate(
        "document.querySelector('.cards').scrollWidth > document.querySelector('.cards').clientWidth"
    )

    page.fill("#text", "주말 소식 받아볼래요")
    page.keyboard.press("Enter")
    expect(page.locator(".row.bot .bubble").last).to_contain_text("받아 보실 소식을 골라 주세요.")
    expect(page.locator("#chips button")).to_have_text(
        ["천안주말사용설명서 받기", "천안시 소식 받기", "우리 동네 소식 받기"]
    )
    page.locator("#chips button", has_text="천안주말사용설명서 받기").click()
    expect(page.locator(".row.bot .bubble").last).to_contain_text("'천안주말사용설명서' 구독을 시작했어요.")
    page.fill("#text", "구독 해지")
    page.keyboard.press("Enter")
    expect(page.locator(".row.bot .bubble").last).to_have_text(
        "구독하신 소식을 모두 해지했어요. 더는 보내 드리지 않아요."
    )
    # The cards are still there after a reload (the conversation is kept in the browser).
    page.reload()
    expect(page.locator(".cards .card h3")).to_have_count(3)


def test_staff_publish_card_news_and_send_it_from_the_console(
    database_url: str, sessions: sessionmaker[Session]
) -> None:
    with sessions.begin() as session:
        add_agent(session, "홍보담당", "a-long-password", "staff", "홍보담당관")
        subscribe(session, channel="web", sender="page-closed-0002", topic="weekend_guide")
    if not CHROMIUM.exists():
        pytest.fail("Chromium is missing: run `make browser` (make test does)")
    with served(database_url, FakeRasa(answers=answers)) as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        page = browser.new_context(viewport={"width": 1280, "height": 900}, locale="ko-KR").new_page()
        page.on("dialog", lambda dialog: dialog.accept())
        console_login(page, url, "홍보담당")
        page.goto(f"{url}/agent/news")
        page.select_option("#topic", "weekend_guide")
        page.fill("#title", "천안주말사용설명서 12월 둘째 주")
        page.fill("#cards .image", "https://blog.cheonan.example/img/2330.jpg")
        page.fill("#cards .caption", "삼거리공원 겨울빛 정원\n5시 반부터 불이 켜져요.")
        page.click("#more")
        page.locator("#cards .image").nth(1).fill("https://blog.cheonan.example/img/2331.jpg")
        page.locator("#cards .caption").nth(1).fill("아우내장터 장날")
        page.locator("#cards .link").nth(1).fill("https://blog.cheonan.example/posts/2331")
        page.click("#set button[type=submit]")
        expect(page.locator("#notice")).to_have_text("카드뉴스 1번을 올렸어요.")
        expect(page.locator("#sets tr").nth(1)).to_contain_text("천안주말사용설명서 12월 둘째 주")
        page.locator("#topics button", has_text="지금 보내기").first.click()
        expect(page.locator("#notice")).to_have_text("보내기 시작했어요.")
        # A closed web page gets it with its next visit: 1 recipient, kept for the next message.
        expect(page.locator("#broadcasts tr").nth(1)).to_contain_text("초", timeout=15000)
        cells = page.locator("#broadcasts tr").nth(1).locator("td")
        assert [cells.nth(i).inner_text() for i in (3, 4, 5)] == ["1", "0", "1"]
        browser.close()
    with sessions() as session:
        [card_set] = latest_card_sets(session)
    assert [c.get("link") for c in card_set.cards] == [None, "https://blog.cheonan.example/posts/2331"]
