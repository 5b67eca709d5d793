"""A crisis alarm in its conversation: judged with the form's question, the form kept, and the hours known."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot import router as router_module
from bot.handoff import reception as reception_module
from bot.messages import Inbound, Outbound
from bot.profile import load_profile
from bot.store.models import Handoff
from tests.bot.channels.helpers import FakeRasa
from tests.bot.test_router import make_router

SENDER = "5eed0000-1234-4bcd-9a51-0c8e2d1f4b6a"
CONVERSATION = f"web:{SENDER}"
TEXTS = load_profile("cheonan").messages
PHOTO_QUESTION = "현장 사진이 있으면 보내 주세요. 없으면 '사진 없어요'를 눌러 주세요."
# 2026-12-09 is a Wednesday: 10:00 in Seoul is within business hours, 23:00 is not.
IN_HOURS = dt.datetime(2026, 12, 9, 1, 0, tzinfo=dt.timezone.utc)
AT_NIGHT = dt.datetime(2026, 12, 9, 14, 0, tzinfo=dt.timezone.utc)


def form(body: dict[str, Any]) -> list[dict[str, Any]]:
    """Rasa in a complaint form: every message is answered with the photo question and its signal."""
    return [
        {"text": PHOTO_QUESTION, "buttons": [{"title": "사진 없어요", "payload": "사진 없어요"}]},
        {"custom": {"expects": "complaint_photo"}},
    ]


def say(sessions: sessionmaker[Session], rasa: FakeRasa, *texts: str) -> list[list[Outbound]]:
    """Send TEXTS in turn through one router; return the answers to each."""

    async def scenario() -> list[list[Outbound]]:
        parts = make_router(sessions, rasa)
        answers = []
        for text in texts:
            answers.append(await parts.route(Inbound(channel="web", user_id=SENDER, text=text)))
            await parts.settled()
        return answers

    return asyncio.run(scenario())


def handoffs(sessions: sessionmaker[Session]) -> list[tuple[str, str, str]]:
    with sessions() as session:
        return [
            (h.status, h.priority, h.reason) for h in session.scalars(select(Handoff).order_by(Handoff.id))
        ]


@pytest.fixture
def hours(monkeypatch: pytest.MonkeyPatch) -> Any:
    def at(moment: dt.datetime) -> None:
        monkeypatch.setattr(reception_module, "utcnow", lambda: moment)

    at(IN_HOURS)
    return at


def test_the_detector_is_told_which_question_the_message_answers(
    sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[tuple[str, str | None]] = []

    def spy(text: str, *, expects: str | None = None) -> None:
        seen.append((text, expects))

    monkeypatch.setattr(router_module, "kind_of", spy)
    rasa = FakeRasa(answers=lambda body: form(body) if body["message"] == "가로등 신고" else [{"text": "네"}])
    say(sessions, rasa, "가로등 신고", "사진은 못 찍었어요", "고마워요")
    # The first message answers nothing; the second answers the photo question; the third answers a turn
    # that left no question open (the bot's last turn said which: none).
    assert seen == [("가로등 신고", None), ("사진은 못 찍었어요", "complaint_photo"), ("고마워요", None)]
    assert [b["message"] for b in rasa.received] == ["가로등 신고", "사진은 못 찍었어요", "고마워요"]


def test_a_crisis_in_a_form_keeps_the_form_and_the_citizen_goes_on_with_it(
    sessions: sessionmaker[Session], hours: Any
) -> None:
    rasa = FakeRasa(answers=form)
    started, crisis, back, answer = say(
        sessions, rasa, "가로등 신고", "사진이고 뭐고 죽고 싶어요", "신고 이어서 하기", "사진 없어요"
    )
    assert started[0].text == PHOTO_QUESTION
    block = crisis[0]
    assert block.text == TEXTS["crisis"]
    assert [b["title"] for b in block.buttons][-1] == "신고 이어서 하기"
    assert {"title": "자살예방 109", "phone": "109"} in block.buttons
    # The web chat shows the last buttons: in hours the queue's, and they are the way back too.
    assert crisis[1].text == TEXTS["handoff_queued"].format(position=1)
    assert crisis[1].buttons == ({"title": "신고 이어서 하기", "payload": "신고 이어서 하기"},)
    # Rasa was paused, not told to end the form.
    assert rasa.posted[0] == (CONVERSATION, [{"event": "pause"}])
    # Going on: the handoff ends, Rasa resumes, and the open question comes again with its button.
    assert [a.text for a in back] == [TEXTS["form_continued"], PHOTO_QUESTION]
    assert back[1].buttons == ({"title": "사진 없어요", "payload": "사진 없어요"},)
    assert handoffs(sessions) == [("abandoned", "urgent", "crisis:suicide")]
    assert rasa.posted[-1][1] == [{"event": "resume"}, {"event": "action", "name": "action_listen"}]
    # The next message is the answer, and goes to the form.
    assert [b["message"] for b in rasa.received] == ["가로등 신고", "사진 없어요"]
    assert answer[0].text == PHOTO_QUESTION


def test_cancelling_the_wait_after_a_crisis_block_also_brings_the_question_back(
    sessions: sessionmaker[Session], hours: Any
) -> None:
    rasa = FakeRasa(answers=form)
    *_, back = say(sessions, rasa, "가로등 신고", "다 끝내고 싶어요 죽고 싶어요", "상담 취소")
    assert [a.text for a in back] == [TEXTS["form_continued"], PHOTO_QUESTION]


def test_without_a_form_the_block_offers_no_way_back_to_one(
    sessions: sessionmaker[Session], hours: Any
) -> None:
    _, crisis = say(sessions, FakeRasa(), "안녕하세요", "죽고 싶어요")
    assert crisis[0].text == TEXTS["crisis"]
    assert "신고 이어서 하기" not in [b["title"] for b in crisis[0].buttons]
    assert crisis[1].text == TEXTS["handoff_queued"].format(position=1)  # in hours: the queue, as before


def test_out_of_hours_a_crisis_gets_the_lines_that_answer_now_and_no_waiting(
    sessions: sessionmaker[Session], hours: Any
) -> None:
    hours(AT_NIGHT)
    crisis, later = say(sessions, FakeRasa(), "죽고 싶어요 오늘 밤에 끝낼래요", "여보세요")
    [block] = crisis  # nothing about queues, Monday or a callback ticket
    assert block.text == TEXTS["crisis_after_hours"]
    titles = [b["title"] for b in block.buttons]
    assert titles == ["경찰 112", "화재·구급 119", "자살예방 109", "보건복지 129", "정신건강 상담 1577-0199"]
    assert TEXTS["callback_button"] not in titles
    # The chat still reaches the agents first thing (urgent), and what the citizen says meanwhile gets the
    # same lines again, not a place in a queue no one serves at night.
    assert handoffs(sessions) == [("waiting", "urgent", "crisis:suicide")]
    assert [a.text for a in later] == [TEXTS["crisis_after_hours"]]
