"""Out of scope: asked whether a person answers, the bot says truthfully that it is a program."""

from __future__ import annotations

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.chitchat import ActionOutOfScope
from tests.actions.helpers import domain, message, tracker


async def answer(text: str) -> list[str]:
    dispatcher = CollectingDispatcher()
    await ActionOutOfScope().run(dispatcher, tracker(message(text, "out_of_scope", 0.9)), domain())
    return [m["response"] for m in dispatcher.messages]


@pytest.mark.parametrize(
    "text",
    ["너 사람이야 로봇이야?", "챗봇이에요?", "AI랑 얘기하는 거예요?", "진짜 사람 맞아요?", "상담원이세요?"],
)
async def test_asked_who_answers_the_bot_says_it_is_a_program(text: str) -> None:
    assert await answer(text) == ["utter_i_am_a_bot"]


@pytest.mark.parametrize("text", ["오늘 점심 뭐 먹지", "주차장에 사람이 너무 많아요", "로봇청소기 추천해줘"])
async def test_anything_else_out_of_scope_gets_the_menu(text: str) -> None:
    assert await answer(text) == ["utter_out_of_scope"]


def test_the_answer_is_honest_and_offers_a_person() -> None:
    [variant] = domain()["responses"]["utter_i_am_a_bot"]
    assert "사람이 아니라" in variant["text"] and "챗봇" in variant["text"]
    assert {"title": "상담원 연결", "payload": "상담원 연결"} in variant["buttons"]
