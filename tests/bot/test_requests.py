"""Two requests in one message: split only when each part is its own request, and answered in turn."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from bot.messages import Inbound, Outbound
from bot.profile import load_profile
from bot.requests import different_requests, split_candidates
from tests.bot.channels.helpers import FakeRasa
from tests.bot.test_router import make_router

SENDER = "7e570000-1234-4bcd-9a51-0c8e2d1f4b6a"
TEXTS = load_profile("cheonan").messages
PHOTO = "현장 사진이 있으면 보내 주세요."


def parse(intent: str, category: str | None = None, confidence: float = 0.9) -> dict[str, Any]:
    ranking = [{"intent_response_key": f"{intent}/{category}", "confidence": 0.9}] if category else []
    return {
        "intent": {"name": intent, "confidence": confidence},
        "intent_ranking": [{"name": intent, "confidence": confidence}],
        "response_selector": {"default": {"ranking": ranking}},
    }


NLU = {
    "불당동 가로등 하나 나갔구요": parse("complaint", "streetlight"),
    "기초연금도 얼마나 나오는지 궁금해요": parse("welfare", "senior"),
    "쓰레기를 아무데나 버려요": parse("complaint", "garbage"),
    "봉투도 다 찢어 놨어요": parse("complaint", "garbage"),
}


@pytest.mark.parametrize(
    ("text", "parts"),
    [("불당동 가로등 하나 나갔구요 그리고 기초연금도 궁금해요",
      ("불당동 가로등 하나 나갔구요", "기초연금도 궁금해요")),
     ("가로등이 또 꺼졌어요", None),
     ("어제 밤에 그리고 오늘 아침에도 시끄러웠어요", None)],
)  # fmt: skip
def test_a_message_splits_only_at_a_connector_between_two_sentences(text: str, parts: Any) -> None:
    assert split_candidates(text) == parts


def test_two_parts_are_two_requests_only_when_each_is_a_different_sure_request() -> None:
    assert different_requests(parse("complaint", "streetlight"), parse("welfare", "senior"))
    assert not different_requests(parse("complaint", "garbage"), parse("complaint", "garbage"))
    assert not different_requests(parse("complaint", "garbage"), parse("out_of_scope"))
    assert not different_requests(parse("complaint", "garbage"), parse("welfare", "senior", 0.4))
    assert not different_requests(parse("complaint", "garbage"), None)


def bot(body: dict[str, Any]) -> list[dict[str, Any]]:
    """A complaint opens the form (its photo question); a welfare question is answered at once."""
    said = body["message"]
    if "가로등" in said:
        return [{"text": PHOTO}, {"custom": {"expects": "complaint_photo"}}]
    if said == "사진 없어요":
        return [{"text": "민원이 접수됐어요."}]
    return [{"text": f"답: {said}"}]


def talk(sessions: sessionmaker[Session], rasa: FakeRasa, *texts: str) -> list[list[str]]:
    async def scenario() -> list[list[Outbound]]:
        parts, said = make_router(sessions, rasa), []
        for text in texts:
            said.append(await parts.route(Inbound(channel="web", user_id=SENDER, text=text)))
            await parts.settled()
        return said

    return [[a.text for a in answers] for answers in asyncio.run(scenario())]


def test_a_complaint_and_a_question_are_taken_in_turn_the_question_after_the_form(
    sessions: sessionmaker[Session],
) -> None:
    rasa = FakeRasa(answers=bot, parses=lambda text: NLU.get(text, parse("out_of_scope")))
    first, filed = talk(
        sessions,
        rasa,
        "불당동 가로등 하나 나갔구요 그리고 기초연금도 얼마나 나오는지 궁금해요",
        "사진 없어요",
    )
    assert first == [TEXTS["two_requests"], PHOTO]  # the complaint first; the question waits for the form
    assert [b["message"] for b in rasa.received][:1] == ["불당동 가로등 하나 나갔구요"]
    assert filed == ["민원이 접수됐어요.", TEXTS["second_request"], "답: 기초연금도 얼마나 나오는지 궁금해요"]
    # Asked once: the next turn does not bring it back.
    assert talk(sessions, rasa, "고마워요") == [["답: 고마워요"]]


def test_a_question_first_is_answered_and_the_complaint_starts_in_the_same_turn(
    sessions: sessionmaker[Session],
) -> None:
    nlu = {
        "기초연금도 얼마나 나오는지 궁금해요": parse("welfare", "senior"),
        "불당동 가로등 하나 나갔구요": parse("complaint", "streetlight"),
    }
    rasa = FakeRasa(answers=bot, parses=lambda text: nlu.get(text, parse("out_of_scope")))
    [answers] = talk(sessions, rasa, "기초연금도 얼마나 나오는지 궁금해요 그리고 불당동 가로등 하나 나갔구요")
    assert answers == [
        TEXTS["two_requests"],
        "답: 기초연금도 얼마나 나오는지 궁금해요",
        TEXTS["second_request"],
        PHOTO,
    ]


def test_one_story_told_with_그리고_stays_whole(sessions: sessionmaker[Session]) -> None:
    rasa = FakeRasa(answers=bot, parses=lambda text: NLU.get(text, parse("out_of_scope")))
    [answers] = talk(sessions, rasa, "쓰레기를 아무데나 버려요 그리고 봉투도 다 찢어 놨어요")
    assert answers == ["답: 쓰레기를 아무데나 버려요 그리고 봉투도 다 찢어 놨어요"]
    assert [b["message"] for b in rasa.received] == ["쓰레기를 아무데나 버려요 그리고 봉투도 다 찢어 놨어요"]
