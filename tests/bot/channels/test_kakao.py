"""The KakaoTalk skill: real-shaped requests, authentication, Kakao's limits, the 5-second rule."""

from __future__ import annotations

import json
import string
import time
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.channels.kakao import KakaoError, parse, problems, render
from bot.messages import Outbound
from bot.nlu.taxonomy import CATEGORIES
from bot.profile import load_profile
from bot.store.models import Handoff
from tests.actions.helpers import domain
from tests.bot.channels.helpers import SECRET, FakeRasa, gateway, stored

PROFILE = load_profile("cheonan")
TEXTS = {"links_title": "바로가기", "more": "이어서 보여 드릴게요."}


def skill_request(utterance: str, user: str = "a1b2c3d4e5", **extra: Any) -> dict[str, Any]:
    """Return a skill request shaped like the ones the i 오픈빌더 sends (CHANNELS.md)."""
    body: dict[str, Any] = {
        "intent": {"id": "fallback-block", "name": "폴백 블록"},
        "userRequest": {
            "timezone": "Asia/Seoul",
            "utterance": utterance,
            "lang": "ko",
            "block": {"id": "fallback-block", "name": "폴백 블록"},
            "params": {"surface": "Kakaotalk.plusfriend"},
            "user": {
                "id": user,
                "type": "botUserKey",
                "properties": {"plusfriendUserKey": "pf", "isFriend": True},
            },
        },
        "bot": {"id": "bot-1", "name": "천안시 민원 챗봇"},
        "action": {"id": "act", "name": "skill", "params": {}, "detailParams": {}, "clientExtra": {}},
        "contexts": [],
        "flow": {"trigger": {"type": "TEXT_INPUT"}},
    }
    for key, value in extra.items():
        if key == "callbackUrl":
            body["userRequest"]["callbackUrl"] = value
        else:
            body[key] = value
    return body


# Parsing.


def test_a_real_shaped_request_becomes_the_citizens_message() -> None:
    message = parse(skill_request("집 앞 가로등이 꺼졌어요"))
    assert (message.channel, message.user_id, message.text) == (
        "kakao",
        "a1b2c3d4e5",
        "집 앞 가로등이 꺼졌어요",
    )
    assert message.conversation_id == "kakao:a1b2c3d4e5"


def test_a_pressed_quick_reply_is_a_press_whatever_its_text() -> None:
    """Kakao returns a quick reply's extra as action.clientExtra: the payload, never retyped text."""
    response, _ = render(
        [Outbound(text="골라 주세요", buttons=({"title": "없어요", "payload": "사진 없어요"},))], **TEXTS
    )
    [reply] = response["template"]["quickReplies"]
    assert reply == {
        "label": "없어요",
        "action": "message",
        "messageText": "없어요",
        "extra": {"payload": "사진 없어요"},
    }
    action = {"id": "act", "name": "skill", "params": {}, "detailParams": {}, "clientExtra": reply["extra"]}
    pressed = parse(
        skill_request(
            reply["messageText"], action=action, flow={"trigger": {"type": "QUICKREPLY_BUTTON_MESSAGE"}}
        )
    )
    typed = parse(skill_request("없어요"))
    assert (pressed.payload, pressed.message_text()) == ("사진 없어요", "사진 없어요")
    assert (typed.payload, typed.message_text()) == (None, "없어요")


def test_a_press_whose_title_reads_like_a_cry_is_a_press_not_a_crisis(
    sessions: sessionmaker[Session], database_url: str
) -> None:
    """A button's title ("그만할래요" on a cancel, a category named like a cry) is the citizen's press, not
    their words: it goes to Rasa as its payload and opens no urgent handoff; the same words typed do."""
    rasa = FakeRasa()
    action = {
        "id": "act",
        "name": "skill",
        "params": {},
        "detailParams": {},
        "clientExtra": {"payload": "취소"},
    }
    with gateway(database_url, rasa) as client:
        pressed = client.post(
            "/kakao/skill", json=skill_request("죽고 싶어요", user="press-1", action=action),
            headers={"X-Kakao-Skill-Secret": SECRET},
        ).json()  # fmt: skip
        typed = client.post(
            "/kakao/skill",
            json=skill_request("죽고 싶어요", user="typed-1"),
            headers={"X-Kakao-Skill-Secret": SECRET},
        ).json()
    with sessions() as session:
        urgent = session.scalars(select(Handoff.sender).where(Handoff.priority == "urgent")).all()
    assert [r["message"] for r in rasa.received] == ["취소"]
    assert urgent == ["typed-1"]
    assert pressed["template"]["outputs"][0]["simpleText"]["text"] == "받았어요: 취소"
    assert PROFILE.messages["crisis"][:10] in json.dumps(typed, ensure_ascii=False)


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_a_photo_comes_through_the_secure_image_plugin(scheme: str) -> None:
    """The plugin's block parameter holds JSON whose secureUrls is "List(url, …)" (../shared/CHANNELS.md)."""
    urls = f"List({scheme}://talk.kakaocdn.net/dn/a/1.jpg, {scheme}://talk.kakaocdn.net/dn/a/2.jpg)"
    value = json.dumps(
        {"privacyAgreement": "Y", "imageQuantity": "2", "secureUrls": urls, "expire": "2026-12-06T18:10:00"}
    )
    action = {
        "id": "act", "name": "skill", "clientExtra": {},
        "params": {"photo": value},
        "detailParams": {"photo": {"origin": value, "value": value, "groupName": ""}},
    }  # fmt: skip
    message = parse(skill_request("사진 보내기", action=action))
    assert message.metadata() == {"channel": "kakao", "image_url": f"{scheme}://talk.kakaocdn.net/dn/a/1.jpg"}


def test_place_fields_that_kakao_does_not_send_are_not_read() -> None:
    """No action.params.latitude/longitude exist in Kakao's protocol: a place is typed (docs/channels.md)."""
    params = {"latitude": "36.8151", "longitude": "127.1139", "address": "천안시 서북구 쌍용동"}
    action = {"id": "act", "name": "skill", "clientExtra": {}, "detailParams": {}, "params": params}
    assert parse(skill_request("쌍용동 사거리요", action=action)).metadata() == {"channel": "kakao"}


def test_the_photo_question_leads_to_the_photo_block() -> None:
    question = Outbound(
        text=PROFILE.messages["photo"],
        buttons=({"title": "사진 없어요", "payload": "사진 없어요"},),
        expects="complaint_photo",
    )
    response, _ = render([question], **TEXTS, photo_block="block-photo-1", photo_button="사진 보내기")
    assert problems(response) == []
    assert response["template"]["quickReplies"][0] == {
        "label": "사진 보내기",
        "action": "block",
        "blockId": "block-photo-1",
    }
    assert response["template"]["quickReplies"][1]["extra"] == {"payload": "사진 없어요"}
    # Without the block set up, or at another question, no button leads anywhere Kakao cannot go.
    unset, _ = render([question], **TEXTS)
    other, _ = render(
        [Outbound(text="어디인가요?", expects="complaint_location")], **TEXTS, photo_block="block-photo-1"
    )
    assert all(r["action"] == "message" for r in unset["template"]["quickReplies"])
    assert "quickReplies" not in other["template"]


def test_kakaos_own_operator_button_is_a_card_button() -> None:
    response, _ = render(
        [Outbound(text="상담직원과 대화하세요", buttons=({"title": "상담직원 연결", "operator": "kakao"},))],
        **TEXTS,
    )
    assert problems(response) == []
    assert response["template"]["outputs"][1]["textCard"]["buttons"] == [
        {"label": "상담직원 연결", "action": "operator"}
    ]


@pytest.mark.parametrize(
    "body",
    [[], {"userRequest": None}, {"userRequest": {"utterance": "x"}},
     {"userRequest": {"utterance": "x", "user": {"id": "u" * 71}}}, {"userRequest": {"user": {"id": "u1"}}}],
)  # fmt: skip
def test_a_request_that_is_not_a_skill_request_is_refused(body: Any) -> None:
    with pytest.raises(KakaoError):
        parse(body)


# Kakao's limits.


def test_long_text_is_split_at_word_ends_within_three_outputs_and_nothing_is_dropped() -> None:
    text = ("가로등이 꺼져서 밤에 너무 어두워요. " * 120).strip()  # about 2,400 characters
    response, overflow = render([Outbound(text=text)], **TEXTS)
    assert problems(response) == [] and overflow == []
    pieces = [o["simpleText"]["text"] for o in response["template"]["outputs"]]
    assert len(pieces) == 3 and all(p.endswith(("요.", "요")) for p in pieces[:-1])
    assert " ".join(pieces).split() == text.split()


def test_text_beyond_three_outputs_waits_for_the_next_message_and_the_citizen_is_told() -> None:
    text = "민원 처리 안내 " * 500  # about 4,500 characters
    response, overflow = render([Outbound(text=text)], **TEXTS)
    assert problems(response) == []
    outputs = response["template"]["outputs"]
    assert outputs[-1] == {"simpleText": {"text": TEXTS["more"]}}
    shown = " ".join(o["simpleText"]["text"] for o in outputs[:-1])
    assert (shown + " " + overflow[0].text).split() == text.split()


def test_links_become_card_buttons_and_more_than_three_a_carousel() -> None:
    links = tuple({"title": f"링크 {i}", "url": f"https://example.org/{i}"} for i in range(7))
    response, _ = render(
        [Outbound(text="안내예요", buttons=links + ({"title": "129", "phone": "129"},))], **TEXTS
    )
    assert problems(response) == []
    carousel = response["template"]["outputs"][-1]["carousel"]
    assert carousel["type"] == "textCard" and [len(i["buttons"]) for i in carousel["items"]] == [3, 3, 2]
    assert carousel["items"][2]["buttons"][1] == {"label": "129", "action": "phone", "phoneNumber": "129"}


def test_the_crisis_block_shows_every_number_without_swiping() -> None:
    """Four emergency numbers (five at night) are more than one card holds: two cards, one under the other."""
    emergency = PROFILE.handoff.emergency + PROFILE.handoff.on_call
    go_on = {"title": "신고 이어서 하기", "payload": "신고 이어서 하기"}
    response, _ = render(
        [Outbound(text=PROFILE.messages["crisis_after_hours"], buttons=(*emergency, go_on))], **TEXTS
    )
    assert problems(response) == []
    outputs = response["template"]["outputs"]
    assert [next(iter(o)) for o in outputs] == ["simpleText", "textCard", "textCard"]  # no carousel
    numbers = [b["phoneNumber"] for o in outputs[1:] for b in o["textCard"]["buttons"]]
    assert numbers == ["112", "119", "109", "129", "1577-0199"]
    assert response["template"]["quickReplies"] == [
        {"label": "신고 이어서 하기", "action": "message", "messageText": "신고 이어서 하기",
         "extra": {"payload": "신고 이어서 하기"}}
    ]  # fmt: skip


def test_quick_replies_are_at_most_ten_with_short_labels() -> None:
    buttons = tuple({"title": f"아주 긴 버튼 이름입니다 {i}번", "payload": f"p{i}"} for i in range(12))
    response, _ = render([Outbound(text="골라 주세요", buttons=buttons)], **TEXTS)
    assert problems(response) == []
    replies = response["template"]["quickReplies"]
    assert len(replies) == 10 and replies[0]["extra"] == {"payload": "p0"} and len(replies[0]["label"]) == 14


def _every_response_the_bot_can_send() -> list[tuple[str, list[Outbound]]]:
    """Each domain response (variables filled with long values), and what the actions add to them."""
    filler = {
        "category": PROFILE.label("complaint", "facility_damage"), "location": "서북구 쌍용동 " * 20,
        "description": "가" * 81, "photo": "없음", "contact": "010-****-5678", "limit": "2,000",
        "number": "2026-000123", "department": "맑은물사업본부 관리과", "phone": "041-521-3132",
        "status": "처리 중", "timeline": "\n".join(["· 11월 25일 14:02 처리 중: 현장 확인 중이에요"] * 20),
        "tickets": "\n".join(["· 2026-000123 가로등·신호등 고장 신고: 처리 중"] * 5),
        "time": "11월 25일 14:02", "due": "12월 4일(금)",
        "note": "현장 확인 중이에요", "guess_1": PROFILE.label("complaint", "water_leak"),
        "guess_2": PROFILE.label("welfare", "housing_youth"), "guess_3": PROFILE.label("info", "local_tax"),
        "answer": "가" * 220,
    }  # fmt: skip
    cases = []
    for name, variants in domain()["responses"].items():
        for variant in variants:
            text = variant.get("text", "")
            fields = {f for _, f, _, _ in string.Formatter().parse(text) if f}
            buttons = tuple(
                {"title": b["title"].format(**filler), "payload": b["payload"].format(**filler)}
                for b in variant.get("buttons", [])
            )
            extra: tuple[dict[str, str], ...] = ()
            intent, _, category = name.removeprefix("utter_").partition("/")
            if intent in ("welfare", "info") and category:
                extra = tuple(PROFILE.answer_buttons(intent, category))
            if name == "utter_which_category":
                labels = [PROFILE.label("complaint", c) for c in CATEGORIES["complaint"]][:10]
                extra = tuple({"title": t, "payload": t} for t in labels)
            cases.append(
                (
                    name,
                    [Outbound(text=text.format(**{f: filler[f] for f in fields}), buttons=buttons + extra)],
                )
            )
    return cases


@pytest.mark.parametrize(("name", "messages"), _every_response_the_bot_can_send())
def test_every_response_the_bot_can_send_fits_kakao(name: str, messages: list[Outbound]) -> None:
    response, overflow = render(messages, **TEXTS)
    assert problems(response) == [], name
    assert overflow == [], name


# The endpoint.


@pytest.fixture
def rasa() -> FakeRasa:
    return FakeRasa()


def test_the_secret_is_required_in_the_header_or_the_query(
    database_url: str, sessions: sessionmaker[Session], rasa: FakeRasa
) -> None:
    with gateway(database_url, rasa) as client:
        body = skill_request("안녕하세요")
        assert client.post("/kakao/skill", json=body).status_code == 401
        assert (
            client.post("/kakao/skill", json=body, headers={"X-Kakao-Skill-Secret": "wrong"}).status_code
            == 401
        )
        assert stored(sessions) == [] and rasa.received == []
        assert (
            client.post("/kakao/skill", json=body, headers={"X-Kakao-Skill-Secret": SECRET}).status_code
            == 200
        )
        assert client.post(f"/kakao/skill?secret={SECRET}", json=body).status_code == 200


def test_an_unknown_bot_id_is_refused(
    database_url: str, sessions: sessionmaker[Session], rasa: FakeRasa
) -> None:
    with gateway(database_url, rasa, kakao_bot_ids=("bot-9",)) as client:
        response = client.post(f"/kakao/skill?secret={SECRET}", json=skill_request("안녕하세요"))
    assert response.status_code == 403 and stored(sessions) == []


def test_a_message_goes_to_rasa_and_both_sides_are_stored(
    database_url: str, sessions: sessionmaker[Session], rasa: FakeRasa
) -> None:
    rasa.answers = lambda body: [
        {"text": "가로등·신호등 고장 신고를 도와드릴게요."},
        {
            "text": "사진이 있으면 보내 주세요.",
            "buttons": [{"title": "사진 없어요", "payload": "사진 없어요"}],
        },
        {"custom": {"expects": "complaint_photo"}},
    ]
    with gateway(database_url, rasa, kakao_photo_block="photo-block") as client:
        response = client.post(f"/kakao/skill?secret={SECRET}", json=skill_request("가로등이 꺼졌어요"))
    assert response.status_code == 200
    answer = response.json()
    assert problems(answer) == []
    assert answer["template"]["outputs"] == [
        {"simpleText": {"text": "가로등·신호등 고장 신고를 도와드릴게요.\n\n사진이 있으면 보내 주세요."}}
    ]
    assert answer["template"]["quickReplies"] == [
        {"label": "사진 보내기", "action": "block", "blockId": "photo-block"},
        {
            "label": "사진 없어요",
            "action": "message",
            "messageText": "사진 없어요",
            "extra": {"payload": "사진 없어요"},
        },
    ]
    assert rasa.received[0]["sender"] == "kakao:a1b2c3d4e5"
    assert rasa.received[0]["metadata"] == {"channel": "kakao"}
    assert [d for d, _, _ in stored(sessions)] == ["in", "out"] and stored(sessions)[0][2] is True


@pytest.mark.parametrize(
    "raw", [b"{not json", b"[]", json.dumps({"userRequest": {}}).encode(), b"x" * 70_000]
)
def test_a_malformed_request_gets_a_valid_skill_answer_and_reaches_nobody(
    database_url: str, sessions: sessionmaker[Session], rasa: FakeRasa, raw: bytes
) -> None:
    with gateway(database_url, rasa) as client:
        response = client.post(
            f"/kakao/skill?secret={SECRET}", content=raw, headers={"Content-Type": "application/json"}
        )
    assert response.status_code == 200 and problems(response.json()) == []
    assert response.json()["template"]["outputs"][0]["simpleText"]["text"] == PROFILE.messages["bad_request"]
    assert rasa.received == [] and stored(sessions) == []


def test_when_rasa_is_down_the_citizen_gets_an_apology_with_a_phone_number_and_the_message_is_kept(
    database_url: str, sessions: sessionmaker[Session], rasa: FakeRasa
) -> None:
    rasa.down = True
    with gateway(database_url, rasa) as client:
        response = client.post(f"/kakao/skill?secret={SECRET}", json=skill_request("쓰레기 신고할게요"))
    text = response.json()["template"]["outputs"][0]["simpleText"]["text"]
    assert response.status_code == 200 and PROFILE.phone in text
    assert stored(sessions) == [("in", "쓰레기 신고할게요", False)]


def test_a_late_answer_goes_through_the_callback_url(
    database_url: str, sessions: sessionmaker[Session], rasa: FakeRasa
) -> None:
    rasa.delay = 0.6
    with gateway(database_url, rasa, kakao_budget=0.2) as client:
        body = skill_request("기초연금 신청 방법", callbackUrl="https://callback.kakao.com/cb/1")
        started = time.monotonic()
        response = client.post(f"/kakao/skill?secret={SECRET}", json=body)
        assert time.monotonic() - started < 5
        assert response.json() == {
            "version": "2.0",
            "useCallback": True,
            "data": {"text": PROFILE.messages["kakao_wait"]},
        }
    # TestClient runs background tasks before it returns: the callback has been posted.
    [posted] = rasa.callbacks
    assert problems(posted) == []
    assert posted["template"]["outputs"][0]["simpleText"]["text"] == "받았어요: 기초연금 신청 방법"


@pytest.mark.parametrize(
    "url",
    ["https://169.254.169.254/latest/meta-data", "http://callback.kakao.com/cb/1", "https://kakao.com.evil.example/cb",
     "https://user@callback.kakao.com/cb", "https://callback.kakao.com:8443/cb"],
)  # fmt: skip
def test_a_callback_url_off_kakaos_hosts_is_never_posted_to(
    database_url: str, rasa: FakeRasa, url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A forged request must not make the gateway post a citizen's answer anywhere (SSRF)."""
    rasa.delay = 0.6
    with gateway(database_url, rasa, kakao_budget=0.2) as client:
        body = skill_request("기초연금 신청 방법", callbackUrl=url)
        response = client.post("/kakao/skill", json=body, headers={"X-Kakao-Skill-Secret": SECRET})
        assert "useCallback" not in response.json()
        rasa.delay = 0
        later = client.post(
            "/kakao/skill", json=skill_request("네"), headers={"X-Kakao-Skill-Secret": SECRET}
        )
    assert rasa.callbacks == []
    assert "받았어요: 기초연금 신청 방법" in later.json()["template"]["outputs"][0]["simpleText"]["text"]
    assert "?secret=" not in caplog.text  # the header form draws no warning


def test_the_secret_in_the_address_still_works_but_is_warned_about_once(
    database_url: str, rasa: FakeRasa, caplog: pytest.LogCaptureFixture
) -> None:
    with gateway(database_url, rasa) as client:
        for _ in range(2):
            assert client.post(f"/kakao/skill?secret={SECRET}", json=skill_request("안녕")).status_code == 200
    assert caplog.text.count("?secret=") == 1


def test_a_late_answer_without_a_callback_comes_with_the_next_message(
    database_url: str, sessions: sessionmaker[Session], rasa: FakeRasa
) -> None:
    rasa.delay = 0.6
    rasa.answers = lambda body: [
        {
            "text": f"받았어요: {body['message']}",
            "buttons": [
                {"title": "네", "payload": "네"},
                {"title": "복지로", "url": "https://www.bokjiro.go.kr"},
            ],
        }
    ]
    with gateway(database_url, rasa, kakao_budget=0.2) as client:
        first = client.post(f"/kakao/skill?secret={SECRET}", json=skill_request("기초연금 신청 방법"))
        assert first.json()["template"]["outputs"][0]["simpleText"]["text"] == PROFILE.messages["kakao_wait"]
        rasa.delay = 0
        second = client.post(f"/kakao/skill?secret={SECRET}", json=skill_request("네"))
    template = second.json()["template"]
    assert template["outputs"][0]["simpleText"]["text"] == "받았어요: 기초연금 신청 방법\n\n받았어요: 네"
    # The links stay (once each); only the newest answer's quick replies are offered.
    assert [b["label"] for b in template["outputs"][1]["textCard"]["buttons"]] == ["복지로"]
    assert template["quickReplies"] == [
        {"label": "네", "action": "message", "messageText": "네", "extra": {"payload": "네"}}
    ]


def test_a_late_answer_that_turned_into_a_handoff_posts_no_more_text(
    database_url: str, rasa: FakeRasa
) -> None:
    """The chat went to an agent while the callback waited: "상담원에게 전달했어요", not "내용이 길어서…"."""
    rasa.delay = 0.6
    rasa.answers = lambda body: []
    with gateway(database_url, rasa, kakao_budget=0.2) as client:
        body = skill_request("여보세요", callbackUrl="https://callback.kakao.com/cb/2")
        assert client.post(f"/kakao/skill?secret={SECRET}", json=body).json()["useCallback"] is True
    [posted] = rasa.callbacks
    assert posted["template"]["outputs"] == [{"simpleText": {"text": PROFILE.messages["handoff_sent"]}}]


def test_a_kakao_message_missed_while_rasa_was_down_is_answered_with_the_next_one(
    database_url: str, rasa: FakeRasa
) -> None:
    """Kakao cannot push: the late answer waits in the outbox and comes first with the next message."""
    rasa.down = True
    with gateway(database_url, rasa) as client:
        down = client.post(f"/kakao/skill?secret={SECRET}", json=skill_request("불법주차 신고요"))
        assert down.json()["template"]["outputs"][0]["simpleText"]["text"] == PROFILE.messages["rasa_down"]
        rasa.down = False
        assert client.portal.call(client.app.state.router.catch_up) == 1  # type: ignore[attr-defined,union-attr]
        later = client.post(f"/kakao/skill?secret={SECRET}", json=skill_request("아직이에요?"))
    shown = later.json()["template"]["outputs"][0]["simpleText"]["text"]
    assert shown == "\n\n".join(
        [PROFILE.messages["rasa_back"], "받았어요: 불법주차 신고요", "받았어요: 아직이에요?"]
    )


def test_a_message_rasa_missed_goes_to_it_before_the_next_one(database_url: str, rasa: FakeRasa) -> None:
    """The citizen wrote again before the catch-up: the missed message is not dropped, it goes first."""
    rasa.down = True
    with gateway(database_url, rasa) as client:
        client.post(f"/kakao/skill?secret={SECRET}", json=skill_request("불법주차 신고요"))
        rasa.down = False
        later = client.post(f"/kakao/skill?secret={SECRET}", json=skill_request("쌍용동 사거리요"))
        assert client.portal.call(client.app.state.router.catch_up) == 0  # type: ignore[attr-defined,union-attr]
    assert [r["message"] for r in rasa.received] == ["불법주차 신고요", "쌍용동 사거리요"]
    shown = later.json()["template"]["outputs"][0]["simpleText"]["text"]
    assert shown == "\n\n".join(
        [PROFILE.messages["rasa_back"], "받았어요: 불법주차 신고요", "받았어요: 쌍용동 사거리요"]
    )


def _post_card(
    n: int, image: bool = True, text: str = "12월 3일(목) · 이번 주말 천안에서 즐길 거리예요."
) -> dict[str, str]:
    card = {"title": f"천안시 소식 {n}번째 " + "제목이 길어요 " * 8, "text": text, "button": "자세히 보기",
            "url": f"https://blog.cheonan.example/posts/{n}"}  # fmt: skip
    return {**card, "image": f"https://blog.cheonan.example/img/{n}.jpg"} if image else card


def test_the_citys_posts_are_a_carousel_of_basic_cards_under_the_line_within_kakaos_limits() -> None:
    long = "12월 3일(목) · " + "긴 요약이에요. " * 40
    cards = tuple(_post_card(n, text=long) for n in range(12))
    response, overflow = render([Outbound(text="천안시의 최근 소식이에요."), Outbound(cards=cards)], **TEXTS)
    assert problems(response) == [] and overflow == []
    first, second = response["template"]["outputs"]
    assert first == {"simpleText": {"text": "천안시의 최근 소식이에요."}}
    carousel = second["carousel"]
    assert carousel["type"] == "basicCard" and len(carousel["items"]) == 10
    item = carousel["items"][0]
    assert item["thumbnail"] == {"imageUrl": "https://blog.cheonan.example/img/0.jpg"}
    assert len(item["description"]) == 76 and item["description"].endswith("…")
    assert len(item["title"]) <= 50
    assert item["buttons"] == [
        {"label": "자세히 보기", "action": "webLink", "webLinkUrl": "https://blog.cheonan.example/posts/0"}
    ]


def test_posts_without_a_picture_are_text_cards_and_one_post_is_one_card() -> None:
    response, _ = render([Outbound(cards=(_post_card(1), _post_card(2, image=False)))], **TEXTS)
    assert problems(response) == []
    [output] = response["template"]["outputs"]
    assert output["carousel"]["type"] == "textCard"
    assert "thumbnail" not in output["carousel"]["items"][0]
    single, _ = render([Outbound(cards=(_post_card(3, text="요약 " * 200),))], **TEXTS)
    assert problems(single) == []
    [card] = single["template"]["outputs"]
    assert len(card["basicCard"]["description"]) == 230


def test_the_limit_checker_sees_a_post_card_over_kakaos_limits() -> None:
    response, _ = render([Outbound(cards=(_post_card(1), _post_card(2)))], **TEXTS)
    item = response["template"]["outputs"][0]["carousel"]["items"][0]
    item["description"] = "가" * 77
    del response["template"]["outputs"][0]["carousel"]["items"][1]["thumbnail"]
    assert problems(response) == ["basicCard description of 77 characters", "basicCard without a thumbnail"]
