"""The complaint form: what the first message fills, each question's answers, correction, cancel, filing."""

from __future__ import annotations

import logging
import re
from typing import Any

import pytest
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.orm import Session, sessionmaker

from actions.complaint_form import (
    FORM_SLOTS,
    ActionAskComplaintCategory,
    ActionAskComplaintConfirm,
    ActionSubmitComplaint,
    ValidateComplaintForm,
    mask_phone,
    wants_to_cancel,
)
from bot.store.tickets import list_tickets
from tests.actions.helpers import domain, message, tracker

FORM = "complaint_form"
RICH = "서북구 쌍용동 사거리 가로등이 꺼졌어요"
LOCATION = {"entity": "location", "start": 0, "end": 7, "value": "서북구 쌍용동"}
FILLED = {
    "complaint_category": "streetlight",
    "complaint_location": "서북구 쌍용동",
    "complaint_location_detail": "-",  # asked once; the citizen knew no landmark
    "complaint_district": "쌍용동",
    "complaint_description": RICH,
    "complaint_photo": "none",
    "complaint_contact_consent": True,
    "complaint_contact_phone": "010-1234-5678",
    "complaint_confirm": "yes",
}


def slots_of(events: list[dict[str, Any]]) -> dict[str, Any]:
    """Return the slot values the events set, the last one winning."""
    return {e["name"]: e["value"] for e in events if e["event"] == "slot"}


def responses(dispatcher: CollectingDispatcher) -> list[str]:
    return [m["response"] for m in dispatcher.messages if not m.get("custom")]


def expected(dispatcher: CollectingDispatcher) -> list[str]:
    """Return the questions the form told the gateway the next message answers (its {"expects"} signals)."""
    return [m["custom"]["expects"] for m in dispatcher.messages if m.get("custom")]


async def validate(latest: dict[str, Any], slots: dict[str, Any] | None = None, asked: str | None = None):
    """Run validate_complaint_form: at activation when ASKED is None, else answering the question ASKED.

    As in Rasa, the form is already the active loop when it validates at activation
    (FormAction._activate_loop).
    """
    dispatcher = CollectingDispatcher()
    events = await ValidateComplaintForm().run(
        dispatcher, tracker(latest, slots, active_loop=FORM, requested_slot=asked), domain()
    )
    return events, dispatcher


# The first message.


async def test_a_rich_first_message_fills_category_location_and_description_and_asks_for_the_photo() -> None:
    latest = message(RICH, "complaint", category="complaint/streetlight", entities=[LOCATION])
    events, dispatcher = await validate(latest)
    slots = slots_of(events)
    assert slots["complaint_category"] == "streetlight"
    # The entity, and the words after it that still say where.
    assert slots["complaint_location"] == "서북구 쌍용동 사거리"
    assert slots["complaint_district"] == "쌍용동"
    assert slots["complaint_description"] == RICH
    assert slots["requested_slot"] == "complaint_photo"
    assert responses(dispatcher) == ["utter_complaint/streetlight"]
    # The gateway learns which question the citizen's next message answers (crisis detection's context).
    assert expected(dispatcher) == ["complaint_photo"]


async def test_the_menu_button_fills_nothing_and_the_category_is_asked_first() -> None:
    events, dispatcher = await validate(message("민원 신고", "complaint", category="complaint/garbage"))
    slots = slots_of(events)
    assert slots["requested_slot"] == "complaint_category"
    assert all(slots[s] is None for s in FORM_SLOTS)
    assert responses(dispatcher) == []


async def test_an_unsure_category_is_asked_instead_of_guessed() -> None:
    latest = message(
        "저기 좀 와 보세요 이상해요", "complaint", category="complaint/noise", category_confidence=0.3
    )
    events, _ = await validate(latest)
    assert slots_of(events)["requested_slot"] == "complaint_category"
    assert slots_of(events)["complaint_description"] is None


async def test_a_new_complaint_starts_clean_whatever_an_unfinished_one_left() -> None:
    latest = message(
        "쓰레기 무단투기 신고하려고요 골목에 잔뜩 있어요", "complaint", category="complaint/garbage"
    )
    events, _ = await validate(latest, FILLED)
    slots = slots_of(events)
    assert slots["complaint_category"] == "garbage"
    assert slots["complaint_confirm"] is None and slots["complaint_contact_phone"] is None
    assert slots["requested_slot"] == "complaint_location"


async def test_a_photo_and_a_shared_location_sent_with_the_first_message_are_kept() -> None:
    metadata = {
        "image_url": "https://example.org/p/1.jpg",
        "location": {"latitude": 36.8151, "longitude": 127.1139, "address": "천안시 서북구 쌍용동 1"},
    }
    latest = message(
        "여기 도로가 움푹 패였어요 위험해요", "complaint", category="complaint/road_damage", metadata=metadata
    )
    events, _ = await validate(latest)
    slots = slots_of(events)
    assert slots["complaint_photo"] == "https://example.org/p/1.jpg"
    assert slots["complaint_location"] == "천안시 서북구 쌍용동 1"
    assert slots["complaint_coordinates"] == [36.8151, 127.1139]
    assert slots["complaint_district"] == "쌍용동"
    assert slots["requested_slot"] == "complaint_contact_consent"


async def test_a_place_shared_with_a_later_photo_keeps_the_words_typed_and_adds_its_coordinates() -> None:
    """The web chat's photo carries the place it was taken (with consent); "주공2단지 정문 앞" must stay."""
    metadata = {"image_url": "upload:0123456789ab/" + "f" * 32 + ".jpg",
                "location": {"latitude": 36.8151, "longitude": 127.1139}}  # fmt: skip
    typed = {"complaint_category": "streetlight", "complaint_location": "쌍용동 주공2단지 정문 앞",
             "complaint_district": "쌍용동", "complaint_description": "가로등이 꺼졌어요"}  # fmt: skip
    events, _ = await validate(
        message("", "nlu_fallback", 0.3, metadata=metadata), typed, asked="complaint_photo"
    )
    slots = slots_of(events)
    assert slots["complaint_location"] == "쌍용동 주공2단지 정문 앞"
    assert slots["complaint_coordinates"] == [36.8151, 127.1139]
    assert slots["complaint_photo"] == metadata["image_url"]


# Each question.


async def test_the_category_question_offers_at_most_ten_buttons_best_guess_first_other_last() -> None:
    dispatcher = CollectingDispatcher()
    latest = message("신고할게요", "complaint", category="complaint/noise", category_confidence=0.2)
    await ActionAskComplaintCategory().run(dispatcher, tracker(latest), domain())
    [sent] = [m for m in dispatcher.messages if not m.get("custom")]
    titles = [b["title"] for b in sent["buttons"]]
    assert sent["response"] == "utter_which_category"
    assert len(titles) == 10 and titles[0] == "소음 신고" and titles[-1] == "기타 불편 신고"
    assert all(b["payload"] == b["title"] for b in sent["buttons"])


@pytest.mark.parametrize(
    ("text", "category", "expected"),
    [
        ("불법 주정차 신고", None, "illegal_parking"),
        ("길에 구멍이 났어요", "complaint/road_damage", "road_damage"),
    ],
)
async def test_the_category_answer_is_a_button_title_or_what_the_selector_read(
    text: str, category: str | None, expected: str
) -> None:
    events, _ = await validate(message(text, "complaint", category=category), asked="complaint_category")
    assert slots_of(events)["complaint_category"] == expected
    assert slots_of(events)["requested_slot"] == "complaint_location"


async def test_a_sentence_answering_the_category_question_also_fills_place_and_description() -> None:
    text = "두정동 먹자골목에 음식물 쓰레기가 며칠째 쌓여 있어요"
    entity = {"entity": "location", "start": 0, "end": 3, "value": "두정동"}
    latest = message(text, "complaint", category="complaint/garbage", entities=[entity])
    events, _ = await validate(latest, asked="complaint_category")
    slots = slots_of(events)
    assert (slots["complaint_category"], slots["complaint_location"]) == ("garbage", "두정동 먹자골목")
    assert slots["complaint_description"] == text
    assert slots["requested_slot"] == "complaint_photo"


async def test_a_yes_or_no_is_not_taken_as_the_description() -> None:
    asked = {"complaint_category": "noise", "complaint_location": "두정동"}
    events, dispatcher = await validate(message("사진 없어요", "deny", 0.8), asked, "complaint_description")
    assert slots_of(events)["requested_slot"] == "complaint_description"
    assert responses(dispatcher) == ["utter_description_too_short"]


async def test_a_typed_place_gets_its_dong_and_a_too_short_one_is_asked_again() -> None:
    asked = {"complaint_category": "garbage"}
    events, _ = await validate(
        message("쌍용1동 ○○아파트 정문 앞", "nlu_fallback"), asked, "complaint_location"
    )
    assert slots_of(events)["complaint_district"] == "쌍용1동"
    assert slots_of(events)["requested_slot"] == "complaint_description"
    events, dispatcher = await validate(message("앞", "nlu_fallback"), asked, "complaint_location")
    assert slots_of(events)["complaint_location"] is None
    assert slots_of(events)["requested_slot"] == "complaint_location"
    assert responses(dispatcher) == ["utter_location_too_short"]


@pytest.mark.parametrize(
    ("text", "intent"),
    [("ㅠㅠ", "nlu_fallback"), ("😡😡😡", "nlu_fallback"), ("?? !!", "nlu_fallback"), ("ㅇㅇ", "affirm"),
     ("아니요", "deny"), ("몰라요", "deny"), ("네 맞아요", "affirm")],
)  # fmt: skip
async def test_an_answer_that_names_no_place_is_asked_again(text: str, intent: str) -> None:
    asked = {"complaint_category": "garbage"}
    events, dispatcher = await validate(message(text, intent, 0.9), asked, "complaint_location")
    assert slots_of(events)["complaint_location"] is None
    assert slots_of(events)["requested_slot"] == "complaint_location"
    assert responses(dispatcher) == ["utter_location_too_short"]


@pytest.mark.parametrize(
    ("text", "place"),
    [("ㅠㅠ 쌍용동이요", "ㅠㅠ 쌍용동"), ("3번 출구", "3번 출구"), ("GS25 앞", "GS25 앞"),
     ("두정역", "두정역"), ("두정역 3번 출구 앞이요", "두정역 3번 출구 앞"),
     ("불당동 카페거리예요!", "불당동 카페거리"), ("신부동 터미널 뒤입니다.", "신부동 터미널 뒤"),
     ("여기요", "여기")],
)  # fmt: skip
async def test_a_short_place_with_letters_or_digits_is_kept_without_its_ending(text: str, place: str) -> None:
    events, dispatcher = await validate(
        message(text, "nlu_fallback", 0.4), {"complaint_category": "garbage"}, "complaint_location"
    )
    assert slots_of(events)["complaint_location"] == place
    assert responses(dispatcher) == []


async def test_a_5000_character_description_is_kept_up_to_the_limit_and_the_citizen_is_told() -> None:
    asked = {"complaint_category": "noise", "complaint_location": "두정동"}
    long = "밤마다 공사 소음이 나요. " * 400
    events, dispatcher = await validate(message(long, "complaint"), asked, "complaint_description")
    assert len(slots_of(events)["complaint_description"]) == 2000
    assert dispatcher.messages[0]["response"] == "utter_description_cut"
    assert dispatcher.messages[0]["limit"] == "2,000"
    assert expected(dispatcher) == ["complaint_photo"]


async def test_a_phone_number_in_the_description_is_masked_and_the_citizen_told() -> None:
    asked = {"complaint_category": "noise", "complaint_location": "두정동"}
    text = "밤마다 시끄러워요 010-2222-3333으로 연락 주세요"
    events, dispatcher = await validate(message(text, "complaint"), asked, "complaint_description")
    assert slots_of(events)["complaint_description"] == "밤마다 시끄러워요 ***-****-****으로 연락 주세요"
    assert responses(dispatcher) == ["utter_description_masked"]


@pytest.mark.parametrize(
    ("text", "metadata", "expected"),
    [
        ("사진 없어요", None, "none"),
        ("못 찍었어요", None, "none"),
        ("", {"image_url": "https://example.org/2.jpg"}, "https://example.org/2.jpg"),
        ("여기요 https://example.org/3.png", None, "https://example.org/3.png"),
    ],
)
async def test_the_photo_answer(text: str, metadata: dict[str, Any] | None, expected: str) -> None:
    asked = {k: FILLED[k] for k in ("complaint_category", "complaint_location", "complaint_description")}
    events, _ = await validate(message(text, "deny", metadata=metadata), asked, "complaint_photo")
    assert slots_of(events)["complaint_photo"] == expected
    assert slots_of(events)["requested_slot"] == "complaint_contact_consent"


async def test_an_unclear_photo_answer_asks_again() -> None:
    asked = {k: FILLED[k] for k in ("complaint_category", "complaint_location", "complaint_description")}
    events, dispatcher = await validate(message("음", "nlu_fallback"), asked, "complaint_photo")
    assert slots_of(events)["requested_slot"] == "complaint_photo"
    assert responses(dispatcher) == ["utter_photo_not_understood"]


BEFORE_CONSENT = {
    k: FILLED[k] for k in ("complaint_category", "complaint_location", "complaint_description")
} | {"complaint_photo": "none"}


@pytest.mark.parametrize(
    ("text", "intent", "consent", "then", "said"),
    [
        ("동의하고 번호 남기기", "affirm", True, "complaint_contact_phone", []),
        ("번호 안 남길게요", "deny", False, "complaint_confirm", []),
        # Asking to file is not consent to keep a number; a number given first is not consent either.
        ("접수해 주세요", "affirm", None, "complaint_contact_consent", ["utter_consent_not_understood"]),
        ("010-9876-5432", "nlu_fallback", None, "complaint_contact_consent", ["utter_consent_needed_first"]),
    ],
)
async def test_the_consent_answer(
    text: str, intent: str, consent: bool | None, then: str, said: list[str]
) -> None:
    events, dispatcher = await validate(message(text, intent), BEFORE_CONSENT, "complaint_contact_consent")
    slots = slots_of(events)
    assert (slots["complaint_contact_consent"], slots["requested_slot"]) == (consent, then)
    assert responses(dispatcher) == said
    assert "complaint_contact_phone" not in slots and "9876" not in str(events)


AFTER_CONSENT = BEFORE_CONSENT | {"complaint_contact_consent": True}


async def test_a_phone_number_in_any_common_spelling_is_normalised() -> None:
    events, _ = await validate(
        message("제 번호는 010 1234 5678이에요", "nlu_fallback"), AFTER_CONSENT, "complaint_contact_phone"
    )
    assert slots_of(events)["complaint_contact_phone"] == "010-1234-5678"
    assert slots_of(events)["requested_slot"] == "complaint_confirm"


async def test_a_malformed_phone_number_is_asked_again_and_a_refusal_withdraws_consent() -> None:
    events, dispatcher = await validate(
        message("12345", "nlu_fallback"), AFTER_CONSENT, "complaint_contact_phone"
    )
    assert slots_of(events)["requested_slot"] == "complaint_contact_phone"
    assert responses(dispatcher) == ["utter_phone_invalid"]
    events, _ = await validate(message("그냥 안 남길래요", "deny"), AFTER_CONSENT, "complaint_contact_phone")
    assert slots_of(events)["complaint_contact_consent"] is False
    assert slots_of(events)["requested_slot"] == "complaint_confirm"


# The summary: confirm, correct, cancel.

SUMMARY = {k: v for k, v in FILLED.items() if k != "complaint_confirm"}


async def test_the_summary_shows_every_answer_with_the_phone_masked() -> None:
    dispatcher = CollectingDispatcher()
    await ActionAskComplaintConfirm().run(dispatcher, tracker(message("x", "affirm"), SUMMARY), domain())
    [sent] = [m for m in dispatcher.messages if not m.get("custom")]
    assert sent["response"] == "utter_complaint_summary"
    assert (sent["category"], sent["location"], sent["photo"]) == (
        "가로등·신호등 고장 신고",
        "서북구 쌍용동",
        "없음",
    )
    assert sent["contact"] == "010-****-5678"


async def test_yes_ends_the_form() -> None:
    events, _ = await validate(message("접수해 주세요", "affirm"), SUMMARY, "complaint_confirm")
    assert slots_of(events)["complaint_confirm"] == "yes"
    assert slots_of(events)["requested_slot"] is None


async def test_naming_the_wrong_answer_clears_it_and_asks_it_again() -> None:
    events, _ = await validate(message("위치가 틀렸어요", "deny"), SUMMARY, "complaint_confirm")
    slots = slots_of(events)
    assert slots["complaint_location"] is None and slots["complaint_district"] is None
    assert slots["complaint_confirm"] is None
    assert slots["requested_slot"] == "complaint_location"


async def test_fix_without_a_field_asks_which_then_clears_that_one() -> None:
    events, _ = await validate(message("고칠게요", "deny"), SUMMARY, "complaint_confirm")
    assert slots_of(events)["requested_slot"] == "complaint_field"
    fixing = SUMMARY | {"complaint_confirm": "fix"}
    events, _ = await validate(message("연락처", "nlu_fallback"), fixing, "complaint_field")
    slots = slots_of(events)
    assert slots["complaint_contact_consent"] is None and slots["complaint_contact_phone"] is None
    assert slots["requested_slot"] == "complaint_contact_consent"


@pytest.mark.parametrize("asked", ["complaint_location", "complaint_photo", "complaint_confirm"])
async def test_cancel_at_any_step_ends_the_form(asked: str) -> None:
    events, dispatcher = await validate(message("그만할래요", "deny"), SUMMARY, asked)
    assert slots_of(events) == {"complaint_confirm": "cancel", "requested_slot": None}
    assert expected(dispatcher) == []  # no question is open any more


def test_only_a_short_stop_cancels_not_a_complaint_that_says_stop() -> None:
    assert wants_to_cancel("취소") and wants_to_cancel("신고 안 할래요") and wants_to_cancel("그만할게요")
    assert not wants_to_cancel("윗집 그만하라고 해 주세요", "complaint", 0.9)
    assert not wants_to_cancel("공연 예약을 취소했는데 환불이 안 돼서 민원 넣고 싶어요")


REJECTED = {
    "event": "action_execution_rejected",
    "timestamp": None,
    "name": FORM,
    "policy": None,
    "confidence": None,
}


@pytest.mark.parametrize(
    ("text", "intent", "asked"),
    [("상담원 연결", "request_human", "complaint_photo"),
     ("내 민원", "check_ticket_status", "complaint_location"),
     ("기초연금 신청은 어떻게 해요?", "welfare", "complaint_contact_consent")],
)  # fmt: skip
async def test_another_request_steps_out_of_the_form(text: str, intent: str, asked: str) -> None:
    events, dispatcher = await validate(message(text, intent, 0.95), BEFORE_CONSENT, asked)
    assert events == [REJECTED]
    assert expected(dispatcher) == []  # a rule answers; the question comes (and is signalled) again after


@pytest.mark.parametrize(
    ("text", "intent", "asked"),
    [("쓰레기 언제 버려요", "info", "complaint_photo"),
     ("자동차세는 언제 내요?", "info", "complaint_confirm"),
     ("기초연금도 여기서 물어봐도 돼요?", "welfare", "complaint_contact_consent")],
)  # fmt: skip
async def test_a_question_the_bot_is_less_sure_of_still_steps_out_where_it_answers_nothing(
    text: str, intent: str, asked: str
) -> None:
    events, _ = await validate(message(text, intent, 0.6), BEFORE_CONSENT, asked)
    assert events == [REJECTED]


@pytest.mark.parametrize(
    ("text", "asked", "slot", "value"),
    [("사진은 없는데 그래도 되나요?", "complaint_photo", "complaint_photo", "none"),
     ("번호 안 남겨도 접수 되나요?", "complaint_contact_consent", "complaint_contact_consent", False)],
)  # fmt: skip
async def test_a_question_that_answers_the_question_asked_is_the_answer(
    text: str, asked: str, slot: str, value: Any
) -> None:
    events, _ = await validate(message(text, "info", 0.9), BEFORE_CONSENT, asked)
    assert REJECTED not in events
    assert slots_of(events)[slot] == value


async def test_back_in_the_form_after_the_answer_the_question_is_asked_again_and_nothing_read() -> None:
    latest = message("기초연금 신청은 어떻게 해요?", "welfare", 0.95)
    back = tracker(latest, BEFORE_CONSENT, active_loop=FORM, requested_slot="complaint_contact_consent")
    back.events += [
        {"event": "action", "name": FORM},
        REJECTED,
        {"event": "action", "name": "action_answer_with_links"},
        {"event": "bot", "text": "기초연금은 …"},
        {"event": "action", "name": FORM},
    ]
    dispatcher = CollectingDispatcher()
    events = await ValidateComplaintForm().run(dispatcher, back, domain())
    assert slots_of(events) == {"requested_slot": "complaint_contact_consent"}
    assert responses(dispatcher) == []
    assert expected(dispatcher) == ["complaint_contact_consent"]


async def test_a_question_where_a_description_is_asked_is_the_description() -> None:
    asked = {"complaint_category": "other", "complaint_location": "두정동"}
    text = "공원 화장실 운영 시간이 너무 짧아요"
    events, _ = await validate(message(text, "info", 0.9), asked, "complaint_description")
    assert slots_of(events)["complaint_description"] == text


async def test_changing_an_earlier_answer_at_any_question() -> None:
    events, _ = await validate(message("고칠게요", "deny", 0.9), BEFORE_CONSENT, "complaint_contact_consent")
    assert slots_of(events)["complaint_confirm"] == "fix"
    assert slots_of(events)["requested_slot"] == "complaint_field"
    events, _ = await validate(
        message("위치가 틀렸어요", "deny", 0.9), BEFORE_CONSENT, "complaint_contact_consent"
    )
    slots = slots_of(events)
    assert slots["complaint_location"] is None and slots["requested_slot"] == "complaint_location"


def test_the_summary_masks_the_middle_of_the_phone_number() -> None:
    assert mask_phone("010-1234-5678") == "010-****-5678"


# Filing.


async def submit(slots: dict[str, Any], sender_id: str = "web:citizen-1"):
    dispatcher = CollectingDispatcher()
    events = await ActionSubmitComplaint().run(
        dispatcher, tracker(message("접수해 주세요", "affirm"), slots, sender_id=sender_id), domain()
    )
    return events, dispatcher


@pytest.fixture
def database(database_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("DATABASE_URL", database_url)
    return database_url


async def test_filing_stores_the_ticket_routes_it_and_answers_with_its_number(
    database: str, sessions: sessionmaker[Session], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    events, dispatcher = await submit(FILLED)
    with sessions() as session:
        [ticket] = list_tickets(session)
    assert (ticket.category, ticket.department, ticket.district) == ("streetlight", "건설도로과", "쌍용동")
    assert (ticket.channel, ticket.sender, ticket.contact_phone) == ("web", "citizen-1", "010-1234-5678")
    assert [e.status for e in ticket.events] == ["received"]
    [sent] = [m for m in dispatcher.messages if not m.get("custom")]
    assert sent["response"] == "utter_ticket_filed" and sent["number"] == ticket.number
    assert sent["department"] == "건설도로과" and sent["phone"] == "1422-36"
    # The deadline: seven working days from today, told as the city's people read a day ("12월 15일(화)").
    assert ticket.due_at is not None and 9 <= (ticket.due_at - ticket.created_at).days <= 11
    assert re.fullmatch(r"\d{1,2}월 \d{1,2}일\([월화수목금]\)", sent["due"])
    assert slots_of(events) == {slot: None for slot in FORM_SLOTS}
    assert "1234-5678" not in caplog.text and RICH not in caplog.text


async def test_the_same_answers_confirmed_again_answer_with_the_ticket_already_filed(
    database: str, sessions: sessionmaker[Session]
) -> None:
    """Found by make bench-faults: the gateway carrying "접수해 주세요" died after the ticket was filed and
    before Rasa kept the turn; the citizen's second "접수해 주세요" filed a second ticket."""
    _, first = await submit(FILLED)
    _, again = await submit(FILLED)
    _, other_place = await submit(FILLED | {"complaint_location": "쌍용동 다른 골목"})
    with sessions() as session:
        tickets = list_tickets(session)
    numbers = [[m["number"] for m in d.messages if m.get("number")] for d in (first, again, other_place)]
    assert numbers[0] == numbers[1] and numbers[2] != numbers[0] and len(tickets) == 2


async def test_without_consent_no_phone_number_is_stored(
    database: str, sessions: sessionmaker[Session]
) -> None:
    await submit(FILLED | {"complaint_contact_consent": False})
    with sessions() as session:
        [ticket] = list_tickets(session)
    assert ticket.contact_phone is None


async def test_a_cancelled_form_files_nothing_and_clears_the_answers(
    database: str, sessions: sessionmaker[Session]
) -> None:
    events, dispatcher = await submit(FILLED | {"complaint_confirm": "cancel"})
    assert responses(dispatcher) == ["utter_complaint_cancelled"]
    assert slots_of(events) == {slot: None for slot in FORM_SLOTS}
    with sessions() as session:
        assert list_tickets(session) == []


async def test_a_database_outage_files_nothing_keeps_the_answers_and_retry_files_it_once(
    database: str, sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://postgres@127.0.0.1:9/down")
    events, dispatcher = await submit(FILLED)
    assert responses(dispatcher) == ["utter_ticket_not_filed_database_down"]
    assert events == []
    monkeypatch.setenv("DATABASE_URL", database)
    events, dispatcher = await submit(FILLED)
    assert responses(dispatcher) == ["utter_ticket_filed"]
    events, dispatcher = await submit({})
    assert responses(dispatcher) == ["utter_nothing_to_retry"]
    with sessions() as session:
        assert len(list_tickets(session)) == 1


async def test_sql_and_html_in_the_answers_are_stored_verbatim(
    database: str, sessions: sessionmaker[Session]
) -> None:
    hostile = "'); DROP TABLE tickets; -- <script>alert(1)</script>"
    await submit(FILLED | {"complaint_description": hostile, "complaint_location": hostile})
    with sessions() as session:
        [ticket] = list_tickets(session)
    assert ticket.description == hostile and ticket.location_text == hostile


# Tickets staff can act on: the whole place, every detail said, corrections and consent in one message.


@pytest.mark.parametrize(
    ("text", "found", "place"),
    [("불당동 갤러리아백화점 앞 사거리에 신호등이 꺼져 있어요", "불당동", "불당동 갤러리아백화점 앞 사거리"),
     ("두정동 대우푸르지오 뒷길 쓰레기가 며칠째 그대로예요", "두정동", "두정동 대우푸르지오 뒷길"),
     ("두정역 2번출구 앞 보도에 싱크홀처럼 땅이 꺼졌어요", "두정역", "두정역 2번출구 앞 보도")],
)  # fmt: skip
async def test_the_place_keeps_its_landmark_not_only_the_dong(text: str, found: str, place: str) -> None:
    entity = {"entity": "location", "start": 0, "end": len(found), "value": found}
    events, _ = await validate(
        message(text, "complaint", category="complaint/streetlight", entities=[entity])
    )
    slots = slots_of(events)
    assert slots["complaint_location"] == place
    assert slots["requested_slot"] == "complaint_photo"  # precise enough: no landmark question


async def test_a_long_message_gives_a_place_not_a_paragraph() -> None:
    """A 1,288-character Kakao message once gave 200 characters of its body as the place."""
    body = "작년부터 계속 말씀드리는 건데요 " * 40
    text = f"{body}불당동 갤러리아백화점 앞 사거리 신호등이 꺼져 있고 {body}봉명동 쪽도 그래요"
    spans = [
        {
            "entity": "location",
            "start": text.index("불당동"),
            "end": text.index("불당동") + 3,
            "value": "불당동",
        },
        {
            "entity": "location",
            "start": text.index("봉명동"),
            "end": text.index("봉명동") + 3,
            "value": "봉명동",
        },
    ]
    events, _ = await validate(message(text, "complaint", category="complaint/streetlight", entities=spans))
    assert slots_of(events)["complaint_location"] == "불당동 갤러리아백화점 앞 사거리"


@pytest.mark.parametrize("place", ["불당동", "서북구 쌍용동", "골목", "집 앞"])
async def test_a_place_that_is_only_a_dong_or_a_vague_word_gets_one_question_for_a_landmark(
    place: str,
) -> None:
    asked = {"complaint_category": "garbage"}
    events, dispatcher = await validate(
        message(f"{place}이요", "complaint", 0.6), asked, "complaint_location"
    )
    assert slots_of(events)["requested_slot"] == "complaint_location_detail"
    assert expected(dispatcher) == ["complaint_location_detail"]
    # The landmark joins the place; the form goes on and never asks it again.
    now = asked | slots_of(events)
    events, _ = await validate(
        message("갤러리아백화점 정문 앞이에요", "complaint", 0.5), now, "complaint_location_detail"
    )
    slots = slots_of(events)
    assert slots["complaint_location"] == f"{now['complaint_location']} 갤러리아백화점 정문 앞"
    assert slots["requested_slot"] == "complaint_description"


async def test_no_landmark_is_fine_and_a_shared_location_needs_none() -> None:
    asked = {"complaint_category": "garbage", "complaint_location": "불당동", "complaint_district": "불당동"}
    events, _ = await validate(message("더 자세히는 몰라요", "deny", 0.9), asked, "complaint_location_detail")
    slots = slots_of(events)
    assert (slots["complaint_location_detail"], slots["requested_slot"]) == ("-", "complaint_description")
    assert "complaint_location" not in slots  # kept as it was
    shared = asked | {"complaint_coordinates": [36.81, 127.11]}
    events, _ = await validate(
        message("사진 없어요", "deny"), shared | {"complaint_description": RICH}, "complaint_photo"
    )
    assert slots_of(events)["requested_slot"] == "complaint_contact_consent"


async def test_details_said_at_the_photo_question_join_the_description() -> None:
    before = BEFORE_CONSENT | {"complaint_photo": None, "complaint_location_detail": "-"}
    events, dispatcher = await validate(
        message("봉투 열댓개쯤 쌓여있어요", "complaint", 0.7), before, "complaint_photo"
    )
    slots = slots_of(events)
    assert slots["complaint_description"] == f"{RICH}\n봉투 열댓개쯤 쌓여있어요"
    assert slots["requested_slot"] == "complaint_photo"  # still no photo: asked again
    assert responses(dispatcher) == ["utter_added_to_description"]


async def test_consent_and_the_number_in_one_message() -> None:
    before = BEFORE_CONSENT | {"complaint_location_detail": "-"}
    text = "010-2345-6789로 연락주세요 동의함"
    events, _ = await validate(message(text, "affirm", 0.6), before, "complaint_contact_consent")
    slots = slots_of(events)
    assert (slots["complaint_contact_consent"], slots["complaint_contact_phone"]) == (True, "010-2345-6789")
    assert slots["requested_slot"] == "complaint_confirm"


async def test_a_correction_with_its_new_answer_changes_the_place_at_once() -> None:
    text = "위치 좀 고칠게요 불당동 갤러리아백화점 앞 사거리요"
    events, _ = await validate(message(text, "complaint", 0.6), SUMMARY, "complaint_confirm")
    slots = slots_of(events)
    assert slots["complaint_location"] == "불당동 갤러리아백화점 앞 사거리"
    assert slots["complaint_district"] == "불당동"
    assert slots["requested_slot"] == "complaint_confirm"  # the summary again, with the new place


async def test_a_corrected_place_that_names_no_dong_keeps_the_dong_known() -> None:
    before = SUMMARY | {"complaint_location": "불당동", "complaint_district": "불당동"}
    text = "위치 좀 고칠게요 갤러리아백화점 앞 사거리요"
    events, _ = await validate(message(text, "complaint", 0.6), before, "complaint_confirm")
    slots = slots_of(events)
    assert (slots["complaint_location"], slots["complaint_district"]) == (
        "갤러리아백화점 앞 사거리",
        "불당동",
    )


def test_giving_up_to_phone_the_city_cancels() -> None:
    assert wants_to_cancel("아 됐어요 그냥 제가 직접 전화할게요", "deny", 0.6)


async def test_a_report_like_an_open_one_is_filed_and_offered_to_join_it(
    database: str, sessions: sessionmaker[Session]
) -> None:
    """The same lamp reported by a second citizen: their ticket is filed, and they may join the first."""
    lamp = {
        **FILLED, "complaint_location": "쌍용동 주공2단지 정문", "complaint_contact_consent": False,
        "complaint_description": "주공2단지 정문 앞 가로등이 며칠째 꺼져 있어요",
    }  # fmt: skip
    await submit(lamp, sender_id="web:first-citizen")
    _, dispatcher = await submit(
        {
            **lamp,
            "complaint_location": "주공2단지 정문 앞",
            "complaint_description": "가로등 불이 안 들어와요",
        },
        sender_id="web:second-citizen",
    )
    with sessions() as session:
        second, first = list_tickets(session)
    filed, offer = [m for m in dispatcher.messages if not m.get("custom")]
    assert filed["response"] == "utter_ticket_filed" and filed["number"] == second.number
    assert offer["text"].startswith(
        f"같은 곳의 비슷한 신고가 이미 접수되어 있어요({first.number}, 지금 '접수')"
    )
    assert [b["payload"] for b in offer["buttons"]] == [
        f"merge:{second.number}:{first.number}", f"merge:{second.number}:keep"
    ]  # fmt: skip
    _, elsewhere = await submit(
        {
            **lamp,
            "complaint_location": "쌍용공원 산책로",
            "complaint_description": "산책로 가로등이 나갔어요",
        },
        sender_id="web:third-citizen",
    )
    assert [m.get("response") for m in elsewhere.messages if not m.get("custom")] == ["utter_ticket_filed"]
