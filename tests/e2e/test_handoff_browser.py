"""The whole handoff in real browsers against the whole bot (trained model, Rasa, actions, gateway).

A citizen in the web chat (a phone-sized page) asks for a person; an agent logged in to the console (another
browser context) sees the chat appear live, claims it and replies; the citizen sees the reply and answers;
the agent sees that live and closes; the citizen's next message is answered by the bot again.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright
from sqlalchemy import select

from bench.stack import Stack, running_stack
from bot.store.agents import add_agent
from bot.store.db import session_factory
from bot.store.models import Ticket
from tests.bot.test_photos import camera_photo

ROOT = Path(__file__).resolve().parents[2]
MODEL = ROOT / "models" / "minwon.tar.gz"
CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    if not MODEL.is_file():
        pytest.fail(f"{MODEL} is missing: run `make train` (make test does)")
    if not CHROMIUM.exists():
        pytest.fail("Chromium is missing: run `make browser` (make test does)")
    with running_stack(MODEL, tmp_path_factory.mktemp("handoff"), gateway=True) as running:
        with session_factory(running.database_url).begin() as session:
            add_agent(session, "김상담", "a-long-password")
        yield running


@pytest.fixture
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield browser
        browser.close()


def say(citizen: Page, text: str) -> None:
    citizen.fill("#text", text)
    citizen.keyboard.press("Enter")


def up_to_the_photo_question(browser: Browser, url: str) -> Page:
    """Open the web chat on a phone-sized page and report a street light up to the photo question."""
    citizen = browser.new_context(viewport={"width": 390, "height": 844}, locale="ko-KR").new_page()
    bubbles = citizen.locator(".row.bot .bubble")
    citizen.goto(f"{url}/")
    expect(bubbles.first).to_contain_text("무엇을 도와드릴까요")
    say(citizen, "집 앞 가로등이 며칠째 꺼져 있어요")
    expect(bubbles.last).to_contain_text("어디인가요")
    say(citizen, "쌍용동 주공2단지 정문 앞이에요")
    expect(bubbles.last).to_contain_text("현장 사진이 있으면")
    return citizen


def test_a_citizen_reaches_a_person_and_comes_back_to_the_bot(stack: Stack, browser: Browser) -> None:
    url = stack.gateway_url or ""
    citizen = browser.new_context(viewport={"width": 390, "height": 844}, locale="ko-KR").new_page()
    agent = browser.new_context(viewport={"width": 1280, "height": 800}, locale="ko-KR").new_page()
    agent.on("dialog", lambda dialog: dialog.accept())

    agent.goto(f"{url}/agent")
    agent.fill("#name", "김상담")
    agent.fill("#password", "a-long-password")
    agent.click("#login button")
    expect(agent.locator("#who")).to_have_text("김상담 님")
    expect(agent.locator("#live")).to_contain_text("실시간 연결됨")
    expect(agent.locator(".item")).to_have_count(0)

    citizen.goto(f"{url}/")
    expect(citizen.locator(".row.bot .bubble").first).to_contain_text("무엇을 도와드릴까요")
    citizen.fill("#text", "사람이랑 얘기하고 싶어요")
    citizen.keyboard.press("Enter")
    expect(citizen.locator(".row.bot .bubble", has_text="상담원에게 연결해 드릴게요")).to_have_count(1)

    # The console hears about it without a reload.
    item = agent.locator(".item").first
    expect(item).to_contain_text("상담원 요청")
    expect(item).to_contain_text("대기")
    item.click()
    expect(agent.locator("#log .msg.citizen").last).to_contain_text("사람이랑 얘기하고 싶어요")
    expect(agent.locator("#log .msg.citizen .seen").last).to_have_text(
        re.compile(r"챗봇 이해: 상담원 연결 \(\d+%\)")
    )
    agent.click("#claim")
    expect(citizen.locator(".row.bot .bubble").last).to_have_text(
        "상담원이 연결되었어요. 편하게 말씀해 주세요."
    )
    expect(citizen.locator(".row.bot .name").last).to_have_text("상담원")

    expect(agent.locator("#send")).to_be_enabled()
    agent.fill("#reply", "안녕하세요, 어느 동네 일인가요?")
    agent.keyboard.press("Enter")
    expect(citizen.locator(".row.bot .bubble").last).to_have_text("안녕하세요, 어느 동네 일인가요?")
    citizen.fill("#text", "쌍용동이에요. 제 번호는 010-1234-5678이에요")
    citizen.keyboard.press("Enter")
    # Live in the console, with the phone number masked.
    expect(agent.locator("#log .msg.citizen").last).to_contain_text(
        "쌍용동이에요. 제 번호는 ***-****-****이에요"
    )

    expect(agent.locator("#close")).to_be_enabled()
    agent.click("#close")
    expect(citizen.locator(".row.bot .bubble").last).to_contain_text("상담을 마쳤어요")
    expect(agent.locator(".item").first).to_contain_text("종료")

    citizen.fill("#text", "기초연금 신청 방법 알려주세요")
    citizen.keyboard.press("Enter")
    expect(citizen.locator(".row.bot .bubble").last).to_contain_text(re.compile("기초연금"))
    expect(citizen.locator(".row.bot .name").last).to_have_text("천안시 민원 챗봇")


def test_a_form_answer_is_no_alarm_and_a_false_alarm_is_undone_in_one_click(
    stack: Stack, browser: Browser
) -> None:
    """The issue's case: "사진은 못찍었어요" at the photo question lost the complaint to a crisis alarm."""
    url = stack.gateway_url or ""
    citizen = up_to_the_photo_question(browser, url)
    agent = browser.new_context(viewport={"width": 1280, "height": 800}, locale="ko-KR").new_page()
    agent.on("dialog", lambda dialog: dialog.accept())
    bubbles = citizen.locator(".row.bot .bubble")
    say(citizen, "사진은 못찍었어요 ㅠ")
    # An answer, not a cry: the form goes on to the phone question, and no emergency numbers appear.
    expect(bubbles.last).to_contain_text("휴대전화 번호를 남기시겠어요")
    expect(citizen.locator(".row.bot .bubble", has_text="109")).to_have_count(0)

    say(citizen, "아 진짜 다 귀찮고 죽고 싶다")
    expect(citizen.locator(".row.bot .bubble", has_text="자살예방 상담 109")).to_have_count(1)
    expect(citizen.locator("#chips button", has_text="신고 이어서 하기")).to_be_visible()

    agent.goto(f"{url}/agent")
    agent.fill("#name", "김상담")
    agent.fill("#password", "a-long-password")
    agent.click("#login button")
    item = agent.locator(".item", has_text="위기 신호").first
    expect(item).to_contain_text("긴급")
    item.click()
    expect(agent.locator("#false-alarm")).to_be_visible()
    agent.click("#false-alarm")
    expect(agent.locator(".item", has_text="위기 아님")).to_have_count(1)
    expect(agent.locator(".item", has_text="긴급")).to_have_count(0)

    # The citizen is back where they were: the phone question again, and the complaint is filed.
    expect(bubbles.last).to_contain_text("휴대전화 번호를 남기시겠어요")
    expect(citizen.locator(".row.bot .bubble", has_text="상담원이 대화를 확인했어요")).to_have_count(1)
    citizen.locator("#chips button", has_text="번호 안 남길게요").last.click()
    expect(bubbles.last).to_contain_text("이대로 접수할까요")
    expect(bubbles.last).to_contain_text("쌍용동 주공2단지 정문 앞")
    citizen.locator("#chips button", has_text="접수해 주세요").last.click()
    expect(bubbles.last).to_contain_text(re.compile(r"\d{4}-\d{6}"))


def test_in_the_web_chat_two_requests_a_landmark_and_the_answer_to_the_question_asked(
    stack: Stack, browser: Browser
) -> None:
    """What a citizen sees on a phone: both requests taken in turn, the landmark kept, a real answer."""
    url = stack.gateway_url or ""
    citizen = browser.new_context(viewport={"width": 390, "height": 844}, locale="ko-KR").new_page()
    bubbles = citizen.locator(".row.bot .bubble")

    def press(title: str) -> None:
        citizen.locator("#chips button", has_text=title).last.click()

    citizen.goto(f"{url}/")
    expect(bubbles.first).to_contain_text("무엇을 도와드릴까요")
    say(citizen, "불당동 가로등 하나 나갔구요 그리고 기초연금도 얼마나 나오는지 궁금해요")
    expect(citizen.locator(".row.bot .bubble", has_text="두 가지를 말씀하셨네요")).to_have_count(1)
    expect(bubbles.last).to_contain_text(
        "조금 더 자세히 알려 주시겠어요"
    )  # 불당동 alone: one landmark question
    say(citizen, "갤러리아백화점 앞 사거리요")
    expect(bubbles.last).to_contain_text("현장 사진이 있으면")
    press("사진 없어요")
    press("번호 안 남길게요")
    expect(bubbles.last).to_contain_text("· 위치: 불당동 갤러리아백화점 앞 사거리")
    press("접수해 주세요")
    # The complaint is filed, then the second request is answered from the knowledge base.
    expect(citizen.locator(".row.bot .bubble", has_text="민원이 접수됐어요")).to_have_count(1)
    expect(bubbles.last).to_contain_text("기준연금액")
    expect(citizen.locator(".row.bot .links a", has_text="복지로").last).to_be_visible()

    say(citizen, "Where is the city hall?")
    expect(bubbles.last).to_contain_text("It answers in Korean only")
    assert citizen.locator(".row.bot .links a", has_text="1345").last.get_attribute("href") == "tel:1345"


def test_a_photo_chosen_in_the_page_reaches_the_ticket_and_the_console(
    stack: Stack, browser: Browser, tmp_path: Path
) -> None:
    """A phone picture with its place: the citizen agrees that the place be read, the complaint keeps the
    words typed and the photo, and the agent sees the photo in the chat and in the ticket."""
    url = stack.gateway_url or ""
    citizen = up_to_the_photo_question(browser, url)
    consents: list[str] = []
    citizen.on("dialog", lambda dialog: (consents.append(dialog.message), dialog.accept()))
    bubbles = citizen.locator(".row.bot .bubble")
    picture = tmp_path / "가로등.jpg"
    picture.write_bytes(camera_photo())
    citizen.set_input_files("#file", str(picture))
    expect(bubbles.last).to_contain_text("휴대전화 번호를 남기시겠어요")
    assert consents and "장소" in consents[0]
    expect(citizen.locator(".row.me .bubble img")).to_have_count(1)
    citizen.locator("#chips button", has_text="번호 안 남길게요").last.click()
    expect(bubbles.last).to_contain_text("쌍용동 주공2단지 정문 앞")
    citizen.locator("#chips button", has_text="접수해 주세요").last.click()
    expect(citizen.locator(".row.bot .bubble", has_text="민원이 접수됐어요")).to_have_count(1)
    with session_factory(stack.database_url)() as session:
        ticket = session.scalars(select(Ticket).order_by(Ticket.id.desc())).first()
        assert ticket is not None and (ticket.photo_url or "").startswith("upload:")
        assert (ticket.location_text, ticket.latitude) == ("쌍용동 주공2단지 정문 앞", 36.8151)

    say(citizen, "상담원 연결")
    expect(citizen.locator(".row.bot .bubble", has_text="상담원에게 연결해 드릴게요")).to_have_count(1)
    agent = browser.new_context(viewport={"width": 1280, "height": 800}, locale="ko-KR").new_page()
    agent.goto(f"{url}/agent")
    agent.fill("#name", "김상담")
    agent.fill("#password", "a-long-password")
    agent.click("#login button")
    agent.locator(".item", has_text="상담원 요청").first.click()
    for where in ("#log img.photo", "#tickets img.photo"):
        photo = agent.locator(where).first
        expect(photo).to_be_visible()
        assert photo.evaluate("img => img.complete && img.naturalWidth") == 20  # upright: 40x20 turned
