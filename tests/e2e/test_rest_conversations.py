"""Whole conversations through Rasa's REST channel, with the real model, action server and database.

Starts `rasa run actions` and `rasa run` on free ports with a fresh SQLite database (bench.stack), talks to
the bot as a citizen would, and changes a ticket's status with the staff command line in between.
"""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from bench.stack import running_stack
from bot.knowledge import knowledge_base
from bot.messages import Inbound, fill
from bot.profile import load_profile
from bot.store.conversations import take_outbox
from bot.store.db import Database, session_factory
from bot.store.tickets import list_tickets
from bot.tickets.choices import TicketChoices

ROOT = Path(__file__).resolve().parents[2]
MODEL = ROOT / "models" / "minwon.tar.gz"

pytestmark = pytest.mark.model

# One question per welfare and info category, written for this test (not in data/ or the held-out set).
QUESTIONS = [
    ("welfare", "basic_livelihood", "기초생활수급자 신청하려면 뭐가 필요해요?"),
    ("welfare", "senior", "우리 아버지 기초연금 받을 수 있나요"),
    ("welfare", "disability", "장애인 등록하려면 어디로 가요"),
    ("welfare", "child_family", "아기 태어났는데 부모급여 신청 어떻게 해요"),
    ("welfare", "emergency", "남편이 갑자기 일자리를 잃어서 당장 생활비가 없어요 긴급 지원 받을 수 있나요"),
    ("welfare", "housing_youth", "청년 월세 지원 자격이 궁금해요"),
    ("welfare", "other", "제가 받을 수 있는 복지 혜택이 뭐가 있는지 알고 싶어요"),
    ("info", "civil_documents", "주민등록등본 어디서 떼요?"),
    ("info", "local_tax", "자동차세 언제 내요"),
    ("info", "transport", "시내버스 노선 어디서 봐요"),
    ("info", "facilities", "체육관 대관 예약하고 싶어요"),
    ("info", "events_tourism", "이번 주말에 하는 축제 있어요?"),
    ("info", "city_news", "요즘 시에서 새로 하는 사업 소식 알려줘요"),
    ("info", "contact", "건축과 전화번호 알려주세요"),
    ("info", "other", "시청 구내식당 메뉴 알 수 있어요?"),
]


class Bot:
    """The running servers, and a citizen's side of the REST channel."""

    def __init__(self, rasa_url: str, database_url: str, env: dict[str, str]) -> None:
        self.rasa_url, self.database_url, self.env = rasa_url, database_url, env

    def say(self, sender: str, text: str) -> list[dict[str, Any]]:
        """Send TEXT as SENDER; return the bot's messages."""
        response = httpx.post(
            f"{self.rasa_url}/webhooks/rest/webhook", json={"sender": sender, "message": text}, timeout=60
        )
        response.raise_for_status()
        return list(response.json())

    def staff(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run the staff command line against the same database."""
        return subprocess.run(
            [sys.executable, "-m", "bot.tickets", *args],
            env=self.env,
            cwd=ROOT,
            capture_output=True,
            text=True,
        )


@pytest.fixture(scope="module")
def bot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bot]:
    if not MODEL.is_file():
        pytest.fail(f"{MODEL} is missing: run `make train` (make test does)")
    with running_stack(MODEL, tmp_path_factory.mktemp("rest")) as stack:
        yield Bot(stack.rasa_url, stack.database_url, stack.env)


def _texts(messages: list[dict[str, Any]]) -> list[str]:
    # (The form's {"expects": …} signals to the gateway are custom messages without text.)
    return [m["text"] for m in messages if "text" in m]


def _text(messages: list[dict[str, Any]]) -> str:
    # Rasa's REST channel sends each paragraph of a text without buttons as its own message.
    return "\n\n".join(_texts(messages))


def _titles(messages: list[dict[str, Any]]) -> list[str]:
    return [b["title"] for m in messages for b in m.get("buttons", [])]


def test_a_complaint_from_one_message_is_filed_and_its_timeline_shows_staff_updates(bot: Bot) -> None:
    first = bot.say("web:e2e-1", "서북구 쌍용동 사거리 가로등이 꺼졌어요")
    assert _texts(first)[0] == "가로등·신호등 고장 신고를 도와드릴게요."
    assert _titles(first) == ["사진 없어요"]
    assert _titles(bot.say("web:e2e-1", "사진 없어요")) == ["동의하고 번호 남기기", "번호 안 남길게요"]
    summary = bot.say("web:e2e-1", "번호 안 남길게요")
    assert "· 위치: 서북구 쌍용동 사거리" in _text(summary) and "· 연락처: 남기지 않음" in _text(summary)
    filed = bot.say("web:e2e-1", "접수해 주세요")
    number = re.search(r"접수 번호: (\d{4}-\d{6})", _text(filed))
    assert number, filed
    with session_factory(bot.database_url)() as session:
        [ticket] = [t for t in list_tickets(session) if t.number == number.group(1)]
    assert (ticket.category, ticket.district, ticket.sender) == ("streetlight", "쌍용동", "e2e-1")
    assert "· 담당: 건설도로과 (1422-36)" in _text(filed)

    done = bot.staff("update", number.group(1), "--status", "in_progress", "--note", "현장 확인 중이에요")
    assert done.returncode == 0, done.stderr
    status = _text(bot.say("web:e2e-1", "내 민원 조회"))
    assert "지금 상태: 처리 중" in status
    assert "처리 중: 현장 확인 중이에요" in status and "접수: 챗봇으로 접수했어요" in status

    # Another citizen cannot see it, and an unknown number reads the same.
    theirs = _text(bot.say("web:e2e-2", f"{number.group(1)} 처리됐나요?"))
    assert "찾지 못했어요" in theirs and "건설도로과" not in theirs


def test_a_question_midway_is_answered_then_the_form_goes_on_and_cancelling_files_nothing(bot: Bot) -> None:
    bot.say("web:e2e-3", "신부동 터미널 뒤에 쓰레기가 잔뜩 버려져 있어요")
    answer = bot.say("web:e2e-3", "기초연금 신청 어떻게 해요?")
    assert _text(answer).startswith("기초연금은 직접 신청하셔야 받아요")  # the knowledge base's answer
    assert _titles(answer)[-1:] == ["사진 없어요"]  # the photo question again
    cancelled = bot.say("web:e2e-3", "그만할래요")
    assert _text(cancelled).startswith("접수를 취소했어요")
    with session_factory(bot.database_url)() as session:
        assert [t for t in list_tickets(session) if t.sender == "e2e-3"] == []
    assert _texts(bot.say("web:e2e-3", "내 민원"))[0].startswith("이 대화방에서 접수하신 민원이 아직 없어요")


def test_a_question_at_the_photo_is_answered_not_taken_for_the_photo_answer(bot: Bot) -> None:
    domain = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
    bot.say("web:e2e-5", "두정동 먹자골목에 음식물 쓰레기가 며칠째 그대로예요")
    answer = bot.say("web:e2e-5", "근데 재활용은 무슨 요일에 내놔요?")
    assert _texts(answer)[0].startswith(domain["responses"]["utter_info/other"][0]["text"][:20]), answer
    assert domain["responses"]["utter_photo_not_understood"][0]["text"] not in _texts(answer)
    assert _titles(answer)[-1:] == ["사진 없어요"]  # the photo question again
    assert _titles(bot.say("web:e2e-5", "사진 없어요")) == ["동의하고 번호 남기기", "번호 안 남길게요"]


def test_a_place_that_is_no_place_is_asked_again(bot: Bot) -> None:
    domain = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
    bot.say("web:e2e-6", "민원 신고")
    bot.say("web:e2e-6", "가로등·신호등 고장 신고")
    again = _text(bot.say("web:e2e-6", "ㅠㅠ"))
    assert domain["responses"]["utter_location_too_short"][0]["text"] in again
    assert domain["responses"]["utter_ask_complaint_location"][0]["text"] in again


def test_the_menu_after_a_greeting_and_the_topic_buttons_of_welfare(bot: Bot) -> None:
    greeting = bot.say("web:e2e-4", "안녕하세요")
    assert _titles(greeting) == [
        "민원 신고",
        "내 민원 조회",
        "복지 상담",
        "생활 정보",
        "소식 구독",
        "상담원 연결",
    ]
    topics = bot.say("web:e2e-4", "복지 상담")
    assert _titles(topics) == list(load_profile("cheonan").category_labels["welfare"].values())


@pytest.mark.parametrize(("intent", "category", "question"), QUESTIONS)
def test_every_welfare_and_info_category_answers_with_its_links(
    bot: Bot, intent: str, category: str, question: str
) -> None:
    profile = load_profile("cheonan")
    [answer] = bot.say(f"web:e2e-{intent}-{category}", question)  # one message: it has buttons
    # The knowledge base's entry for the question if it has one, in the right category; else the category's
    # general answer with its department.
    hit = knowledge_base("cheonan").match(intent, category, question)
    if hit is not None:
        assert answer["text"] == hit.entry.answer, json.dumps(answer, ensure_ascii=False)
        assert answer["buttons"][:1] == profile.link_buttons(hit.entry.links)[:1]
        return
    domain = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
    department = profile.department(intent, category)
    expected = domain["responses"][f"utter_{intent}/{category}"][0]["text"].format(
        department=department.name, phone=department.phone
    )
    assert answer["text"] == expected, json.dumps(answer, ensure_ascii=False)
    assert answer["buttons"] == profile.answer_buttons(intent, category)


def test_the_place_keeps_its_landmark_and_a_vague_one_gets_one_question(bot: Bot) -> None:
    bot.say("web:e2e-7", "불당동 갤러리아백화점 앞 사거리에 신호등이 꺼져 있어요")
    bot.say("web:e2e-7", "사진 없어요")
    summary = _text(bot.say("web:e2e-7", "번호 안 남길게요"))
    assert "· 위치: 불당동 갤러리아백화점 앞 사거리" in summary, summary

    domain = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
    landmark = domain["responses"]["utter_ask_complaint_location_detail"][0]["text"]
    asked = _text(bot.say("web:e2e-8", "골목에 누가 쓰레기를 잔뜩 버리고 갔어요"))
    assert "어디인가요" in asked
    assert landmark in _text(bot.say("web:e2e-8", "두정동이요"))
    then = bot.say("web:e2e-8", "두정역 2번 출구 뒤 편의점 옆이에요")
    assert _titles(then) == ["사진 없어요"]  # asked once, then the form goes on
    bot.say("web:e2e-8", "사진은 못찍었어요 ㅠ")
    summary = _text(bot.say("web:e2e-8", "번호 안 남길게요"))
    assert "· 위치: 두정동 두정역 2번 출구 뒤 편의점 옆" in summary, summary


@pytest.mark.parametrize(
    ("question", "words"),
    [("전입신고 온라인으로도 되나요?", ["정부24"]), ("기초연금 한 달에 얼마나 나와요", ["만"]),
     ("너 사람이야 로봇이야?", ["사람이 아니라", "챗봇"])],
)  # fmt: skip
def test_the_answer_is_to_the_question_asked(bot: Bot, question: str, words: list[str]) -> None:
    answer = _text(bot.say(f"web:e2e-q-{len(question)}", question))
    assert all(word in answer for word in words), answer


def _file(bot: Bot, sender: str, report: str) -> tuple[str, list[dict[str, Any]]]:
    """File REPORT (a complaint with its place) without photo or phone; return its number and the answer."""
    bot.say(sender, report)
    bot.say(sender, "사진 없어요")
    bot.say(sender, "번호 안 남길게요")
    filed = bot.say(sender, "접수해 주세요")
    number = re.search(r"접수 번호: (\d{4}-\d{6})", _text(filed))
    assert number, filed
    return number.group(1), filed


def test_the_same_problem_reported_again_is_offered_to_join_the_first_and_then_hears_its_news(
    bot: Bot,
) -> None:
    """The duplicate offer in a whole conversation: the second citizen is told of the open report, presses
    "함께 처리해 주세요" (the gateway's TicketChoices, on the same database), and the first report's
    resolution reaches them too."""
    texts = load_profile("cheonan").messages
    first, _ = _file(bot, "web:e2e-dup-1", "성정동 전통시장 입구 가로등이 밤새 꺼져 있어요")
    second, filed = _file(bot, "web:e2e-dup-2", "성정동 전통시장 입구 쪽 가로등이 안 들어와요")
    offer = [m for m in filed if "buttons" in m and first in m.get("text", "")]
    with session_factory(bot.database_url)() as session:
        filed_so_far = [
            (t.number, t.sender, t.category, t.district, t.description) for t in list_tickets(session)
        ]
    assert offer, (filed, filed_so_far)
    assert [b["payload"] for b in offer[0]["buttons"]] == [f"merge:{second}:{first}", f"merge:{second}:keep"]
    assert [b["title"] for b in offer[0]["buttons"]] == [texts["duplicate_follow"], texts["duplicate_keep"]]
    # Another place in the same 동 is another problem: no offer.
    _, elsewhere = _file(bot, "web:e2e-dup-3", "성정동 주민센터 앞 가로등이 깜빡거려요")
    assert not [m for m in elsewhere if "merge:" in json.dumps(m)], elsewhere

    db = Database(session_factory(bot.database_url))
    press = Inbound(
        channel="web", user_id="e2e-dup-2", text=texts["duplicate_follow"], payload=f"merge:{second}:{first}"
    )
    answer = asyncio.run(TicketChoices(db=db, profile=load_profile("cheonan")).answer(press))
    assert answer is not None
    [joined] = answer
    assert joined.text == fill(texts["duplicate_joined"], number=second, into=first)

    done = bot.staff("update", first, "--status", "resolved", "--note", "등기구를 바꿨어요")
    assert done.returncode == 0, done.stderr
    with session_factory(bot.database_url)() as session:
        news = [m["text"] for m in take_outbox(session, channel="web", sender="e2e-dup-2")]
        untouched = take_outbox(session, channel="web", sender="e2e-dup-3")
    assert any(second in text and "등기구를 바꿨어요" in text for text in news), news
    assert not [m for m in untouched if "등기구" in m["text"]]


def test_city_news_and_a_named_festival_are_answered_with_the_citys_posts(bot: Bot) -> None:
    for source in ("blog", "youtube", "press"):
        feed = ROOT / "tests" / "data" / "feeds" / f"cheonan_{source}.xml"
        done = subprocess.run(
            [sys.executable, "-m", "bot.news", "fetch", "--source", source, "--file", str(feed)],
            env=bot.env, cwd=ROOT, capture_output=True, text=True,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
    texts = load_profile("cheonan").messages
    news = bot.say("web:e2e-news", "요즘 천안 소식 알려줘")
    assert _texts(news)[0] == texts["news_newest"]
    [cards] = [m["custom"]["cards"] for m in news if "custom" in m]
    assert len(cards) == 3 and all(c["url"].startswith("https://") for c in cards)
    festival = bot.say("web:e2e-news", "흥타령 축제 내년엔 언제 해요?")
    [cards] = [m["custom"]["cards"] for m in festival if "custom" in m]
    assert all("흥타령" in c["title"] for c in cards[:2])
    assert "2027 천안흥타령춤축제, 9월 22일 개막 확정" in [c["title"] for c in cards]
