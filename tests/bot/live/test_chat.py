"""소통라이브 in the chat, through the gateway: asking (masked), agreeing on cards, one's own questions, the
window closing, the main menu's button, and the reminder and the answer reaching those who said yes."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from bot.live import chat
from bot.messages import Inbound, Outbound
from bot.privacy import sign
from bot.profile import load_profile
from bot.store import live
from bot.store.models import LiveQuestion, LiveSession, Message, OutboxItem
from tests.bot.channels.helpers import FakeRasa, gateway

CITY = load_profile("cheonan")
TEXTS = CITY.messages
UTC = dt.timezone.utc


def _session(sessions: sessionmaker[Session], **shift: dt.timedelta) -> int:
    now = dt.datetime.now(UTC)
    with sessions.begin() as s:
        return live.add_session(
            s, title="2026 겨울 소통라이브", opens_at=now - shift.get("opened", dt.timedelta(days=1)),
            closes_at=now + shift.get("closes", dt.timedelta(days=1)),
            airs_at=now + shift.get("airs", dt.timedelta(days=2)),
            stream_url="https://www.youtube.com/@cheonan/live", by="홍보팀",
        )  # fmt: skip


class Citizen:
    """A web-chat page with its socket."""

    def __init__(self, client: Any, sender: str, stack: contextlib.ExitStack) -> None:
        self.sender = sender
        self.socket = stack.enter_context(client.websocket_connect("/web/ws"))
        self.socket.send_text(json.dumps({"type": "hello", "sender": sender, "token": sign(sender)}))

    def say(self, text: str, payload: str | None = None) -> list[dict[str, Any]]:
        frame = {"sender": self.sender, "text": text} | ({"payload": payload} if payload else {})
        self.socket.send_text(json.dumps(frame))
        return self.next()

    def next(self) -> list[dict[str, Any]]:
        while True:
            frame = self.socket.receive_json()
            if frame["type"] == "messages":
                return list(frame["messages"])


def payloads(message: dict[str, Any]) -> list[str]:
    return [b["payload"] for b in message.get("buttons", [])]


def test_citizens_ask_agree_and_see_their_questions_while_the_window_is_open(
    sessions: sessionmaker[Session], database_url: str
) -> None:
    sid = _session(sessions)
    rasa = FakeRasa()
    with gateway(database_url, rasa) as client, contextlib.ExitStack() as stack:
        a, b = Citizen(client, "live-page-a001", stack), Citizen(client, "live-page-b001", stack)
        [menu] = a.say("소통라이브 질문 남길게요")
        assert menu["text"].startswith("'2026 겨울 소통라이브' 질문을 받고 있어요.")
        assert payloads(menu) == ["live:ask", "live:browse", "live:mine"]
        [prompt] = a.say("질문 남기기", "live:ask")
        assert prompt["text"] == TEXTS["live_ask"].format(length=300)
        asked, offer = a.say(
            "성정1동에서 시청 가는 버스 배차 간격이 너무 길어요. 제 번호 010-2345-6789로 연락 주세요"
        )
        assert asked["text"] == " ".join(
            [TEXTS["live_asked"].format(topic="교통·주차"), TEXTS["live_masked"]]
        )
        assert payloads(offer) == [f"live:follow:{sid}"]
        [followed] = a.say("네, 알려 주세요", f"live:follow:{sid}")
        assert followed["text"] == TEXTS["live_followed"]

        # Another citizen sees it as a card with a 공감 button; one vote each, however often pressed.
        [menu] = b.say("시장님께 질문")
        [browse] = b.say("다른 질문에 공감하기", "live:browse")
        [card] = browse["cards"]
        with sessions() as s:
            question = s.scalars(select(LiveQuestion)).one()
        assert card == {
            "title": "1명이 함께하는 질문 · 교통·주차", "text": question.text, "button": "공감",
            "payload": f"live:vote:{question.id}",
        }  # fmt: skip
        voted, offer = b.say("공감", card["payload"])
        assert voted["text"] == TEXTS["live_voted"].format(count=2)
        again, _ = b.say("공감", card["payload"])
        assert again["text"] == TEXTS["live_voted_again"].format(count=2)
        [nothing] = b.say("다른 질문에 공감하기", "live:browse")
        assert nothing["text"] == TEXTS["live_browse_none"]  # agreed already: nothing more to show

        [mine] = a.say("내 질문 보기", "live:mine")
        assert mine["text"] == f"남기신 질문이에요.\n1. {question.text} (공감 1)"
        assert payloads(mine) == [f"live:withdraw:{question.id}"]
        assert (
            b.say("1번 질문 취소", f"live:withdraw:{question.id}")[0]["text"] == TEXTS["live_withdraw_gone"]
        )  # not theirs

        # A typed question after "질문 남기기" is a question; a press of anything else ends the asking.
        a.say("질문 남기기", "live:ask")
        a.say("민원 신고", "민원 신고")
        a.say("가로등이 꺼졌어요")
        # A question may name the mayor or 소통라이브 itself: it is still the question.
        a.say("질문 남기기", "live:ask")
        [second] = a.say("시장님께 질문드려요. 경로당 난방비 지원을 늘려 주세요")
        assert second["text"].startswith("질문을 남겼어요. '복지·보건' 분야로")
    with sessions() as s:
        stored = s.scalars(select(LiveQuestion)).all()
        texts = " ".join(s.scalars(select(Message.text)))
    assert [(q.district, q.topic) for q in stored] == [("성정1동", "traffic"), (None, "welfare")]
    assert "010-2345-6789" not in stored[0].text and "010-2345-6789" not in texts
    assert [r["message"] for r in rasa.received] == ["민원 신고", "가로등이 꺼졌어요"]


def test_a_late_question_is_told_so_and_the_main_menu_offers_live_only_while_it_takes_questions(
    sessions: sessionmaker[Session], database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(chat, "CACHE_FOR", 0.0)  # the gateway checks the window every 30 s
    sid = _session(sessions)
    menu_button = {"title": "민원 신고", "payload": "민원 신고"}
    rasa = FakeRasa(answers=lambda body: [{"text": "무엇을 도와드릴까요?", "buttons": [menu_button]}])
    with gateway(database_url, rasa) as client, contextlib.ExitStack() as stack:
        c = Citizen(client, "live-page-c001", stack)
        [greeting] = c.say("안녕하세요")
        assert payloads(greeting) == ["민원 신고", "live:menu"]
        c.say("질문 남기기", "live:ask")
        with sessions.begin() as s:  # the window closes while the citizen writes
            s.execute(update(LiveSession).values(closes_at=dt.datetime.now(UTC) - dt.timedelta(minutes=1)))
        [late] = c.say("경로당 난방비 지원을 늘려 주세요")
        assert late["text"].startswith("질문 접수가 ") and "마감돼서 남기지 못했어요" in late["text"]
        [closed] = c.say("소통라이브")
        assert closed["text"].startswith("'2026 겨울 소통라이브' 질문 접수는 ")
        [greeting] = c.say("안녕하세요")
        assert payloads(greeting) == ["민원 신고"]
    with sessions() as s:
        assert s.scalars(select(LiveQuestion)).all() == [] and sid


def test_the_reminder_and_then_the_answer_reach_those_who_asked_or_agreed_and_said_yes(
    sessions: sessionmaker[Session], database_url: str
) -> None:
    sid = _session(sessions, closes=dt.timedelta(minutes=10), airs=dt.timedelta(minutes=20))
    with sessions.begin() as s:
        question, _ = live.add_question(
            s, session_id=sid, channel="kakao", sender="kakao-asker", text="시내버스 막차 시간을 늦춰 주세요",
            district=None, topic="traffic", most=3,
        ) or (None, False)  # fmt: skip
        assert question is not None
        live.vote(s, question_id=question.id, channel="web", sender="live-page-d001")
        live.vote(s, question_id=question.id, channel="web", sender="live-page-e001")  # said no
        live.follow(s, session_id=sid, channel="kakao", sender="kakao-asker")
        live.follow(s, session_id=sid, channel="web", sender="live-page-d001")
    with gateway(database_url, FakeRasa()) as client, contextlib.ExitStack() as stack:
        notifier = client.app.state.live_notifier  # type: ignore[attr-defined]
        d = Citizen(client, "live-page-d001", stack)
        d.say("안녕하세요")
        assert client.portal.call(notifier.round) == {"reminders": 2, "answers": 0}
        [reminder] = d.next()
        assert (
            reminder["text"].startswith("곧 ") and "https://www.youtube.com/@cheonan/live" in reminder["text"]
        )
        with sessions.begin() as s:
            live.answer(
                s, question_id=question.id, text="내년 3월부터 막차를 30분 늦춰요.",
                url="https://youtu.be/cheonanlive?t=1820", by="staff:홍보팀",
            )  # fmt: skip
            s.execute(update(LiveSession).values(airs_at=dt.datetime.now(UTC) - dt.timedelta(hours=1)))
        assert client.portal.call(notifier.round) == {"reminders": 0, "answers": 0}  # still on air
        with sessions.begin() as s:
            s.execute(update(LiveSession).values(airs_at=dt.datetime.now(UTC) - dt.timedelta(hours=2)))
        assert client.portal.call(notifier.round) == {"reminders": 0, "answers": 2}
        assert client.portal.call(notifier.round) == {"reminders": 0, "answers": 0}  # once
        [answer] = d.next()
    assert answer["text"] == (
        "'2026 겨울 소통라이브'에서 남기시거나 공감하신 질문의 답변이에요.\n"
        "질문: 시내버스 막차 시간을 늦춰 주세요\n답변: 내년 3월부터 막차를 30분 늦춰요."
    )
    assert answer["buttons"] == [
        {"title": "방송에서 답변 보기", "url": "https://youtu.be/cheonanlive?t=1820"}
    ]
    with sessions() as s:
        waiting = [
            json.loads(i.data)
            for i in s.scalars(select(OutboxItem).where(OutboxItem.sender == "kakao-asker"))
        ]
        others = s.scalars(select(OutboxItem).where(OutboxItem.sender == "live-page-e001")).all()
    assert [m[0]["text"][:2] for m in waiting] == ["곧 ", "'2"]  # Kakao: with the next message
    assert others == []


def test_a_card_press_is_a_press_on_kakao_and_telegram() -> None:
    from bot.channels.kakao import render

    card = {
        "title": "공감 3명 · 교통·주차",
        "text": "버스 막차를 늦춰 주세요",
        "button": "공감",
        "payload": "live:vote:7",
    }
    rendered, _ = render(
        [Outbound(text="다른 분들이 남긴 질문이에요.", cards=(card,))], links_title="", more=""
    )
    [output] = [o for o in rendered["template"]["outputs"] if "textCard" in o]
    assert output["textCard"]["buttons"] == [
        {"label": "공감", "action": "message", "messageText": "공감", "extra": {"payload": "live:vote:7"}}
    ]
    assert Outbound.from_json(Outbound(text="", cards=(card,)).as_json()).cards == (card,)
    assert (
        Inbound(channel="kakao", user_id="u", text="공감", payload="live:vote:7").message_text()
        == "live:vote:7"
    )
