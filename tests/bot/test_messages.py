"""Texts with variables: the particle after a variable is chosen for its value, as a person would write it."""

from __future__ import annotations

import pytest

from bot.messages import Inbound, Outbound, fill, from_rasa, is_foreign
from bot.profile import load_profile

TEXTS = load_profile("cheonan").messages


@pytest.mark.parametrize(
    ("status", "expected"),
    [("접수", "'접수'로"), ("담당 부서 배정", "'담당 부서 배정'으로"), ("처리 중", "'처리 중'으로"),
     ("처리 완료", "'처리 완료'로"), ("처리 불가", "'처리 불가'로")],
)  # fmt: skip
def test_a_status_change_reads_right_for_every_status(status: str, expected: str) -> None:
    text = fill(TEXTS["ticket_update"], number="2026-000120", status=status, note="")
    assert f"처리 상태가 {expected} 바뀌었어요" in text
    assert "(으)" not in text


@pytest.mark.parametrize(
    ("number", "particle"),
    [("2026-000120", "으로"), ("2026-000121", "로"), ("2026-000122", "로"), ("2026-000123", "으로"),
     ("2026-000126", "으로"), ("2026-000127", "로"), ("2026-000129", "로")],
)  # fmt: skip
def test_a_ticket_number_is_read_as_korean_numbers(number: str, particle: str) -> None:
    # 영 삼 육 end in a consonant; 일 칠 팔 in ㄹ, which takes 로 like a vowel; 이 사 오 구 in a vowel.
    assert f"민원 {number}{particle} 접수" in fill(TEXTS["handoff_ticket_filed"], number=number)


def test_other_particles_and_values_that_are_not_words() -> None:
    assert fill("{a}(이)가 {b}(을)를 {c}(은)는 {d}(과)와", a="가로등", b="나무", c="민원", d="사과") == (
        "가로등이 나무를 민원은 사과와"
    )
    assert fill("{a}(이)가", a="모기") == "모기가"
    assert fill("{x}(으)로", x="ㅠㅠ") == "ㅠㅠ(으)로"  # nothing to read: both forms stay
    assert fill("{x}(으)로 {y}", x="Seoul", y="{y}") == "Seoul로 {y}"  # values are not formatted again


@pytest.mark.parametrize(
    ("text", "foreign"),
    [("Where is the city hall?", True), ("Tôi cần giúp đỡ về tiền thuê nhà", True), ("我想申请补助金", True),
     ("ok", False), ("thx", False), ("010-1234-5678", False), ("가로등 고장 LED", False), ("ㅋㅋㅋㅋ", False),
     ("KTX", False)],
)  # fmt: skip
def test_a_message_in_another_language_is_told_from_korean_and_from_short_latin_words(
    text: str, foreign: bool
) -> None:
    assert is_foreign(text) is foreign


@pytest.mark.parametrize(
    ("typed", "payload", "sent"),
    [
        ("/affirm", None, "affirm"),
        ('/complaint{"location": "시청"}', None, 'complaint{"location": "시청"}'),
        ("  //request_human", None, "request_human"),
        ("/ /affirm", None, "affirm"),  # slashes and spaces taken off in turns were left one
        ("// /request_human", None, "request_human"),
        ('/\t/complaint{"location": "시청"}', None, 'complaint{"location": "시청"}'),
        ("가로등이 꺼졌어요 / 신부동", None, "가로등이 꺼졌어요 / 신부동"),
        ("민원 신고", "/request_human", "request_human"),  # a forged payload is no intent either
        ("민원 신고", "민원 신고", "민원 신고"),
    ],
)
def test_nothing_reaches_rasa_as_an_intent_literal(typed: str, payload: str | None, sent: str) -> None:
    assert Inbound(channel="web", user_id="u", text=typed, payload=payload).message_text() == sent


def test_cards_come_from_rasas_custom_message_and_keep_only_what_a_card_has() -> None:
    cards = [
        {"title": "흥타령 소식", "text": "12월 2일(수) · 개막 확정", "url": "https://www.cheonan.example/press/1",
         "button": "자세히 보기", "image": "https://www.cheonan.example/1.jpg", "onclick": "x"},
        {"title": "링크 없는 카드"},
        {"title": "자바스크립트", "url": "javascript:alert(1)"},
    ]  # fmt: skip
    [line, shown] = from_rasa([{"text": "찾으시는 소식이에요."}, {"custom": {"cards": cards}}])
    assert line == Outbound(text="찾으시는 소식이에요.")
    assert shown.cards == ({k: v for k, v in cards[0].items() if k != "onclick"},)
    assert Outbound.from_json(shown.as_json()) == shown  # the web chat's and the outbox's format
