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

from tests.bot.channels.helpers import FakeRasa, served

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
    return [{"text": f"받았어요: {body['message']}"}]  # fmt: skip


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
