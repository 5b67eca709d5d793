"""The whole handoff through the gateway (a fake Rasa): queue, console API, delivery on every channel."""

from __future__ import annotations

import io
import json
import threading
import time
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from bot.handoff import console as console_module
from bot.handoff import reception as reception_module
from bot.handoff import throttle as throttle_module
from bot.privacy import sign
from bot.profile import load_profile
from bot.store.agents import add_agent, disable_agent
from bot.store.models import AccessLog, CrisisLabel, Handoff, Label, Message, Survey, Ticket
from bot.store.tickets import update_status
from tests.bot.channels.helpers import SECRET, FakeRasa, gateway
from tests.bot.channels.test_kakao import skill_request
from tests.bot.test_photos import camera_photo

PROFILE = load_profile("cheonan")
SENDER = "c0ffee00-1234-4bcd-9a51-0c8e2d1f4b6a"
WEEKDAY_NOON = reception_module.utcnow().replace(year=2026, month=11, day=25, hour=3, minute=0)  # 12:00 KST
SUNDAY_NIGHT = WEEKDAY_NOON.replace(day=29, hour=13)  # 22:00 KST, Sunday


@pytest.fixture(autouse=True)
def office_hours(monkeypatch: pytest.MonkeyPatch) -> None:
    """Handoffs happen at noon on a weekday unless a test says otherwise."""
    monkeypatch.setattr(reception_module, "utcnow", lambda: WEEKDAY_NOON)


def login(client: TestClient, name: str = "김상담", password: str = "a-long-password") -> dict[str, str]:
    """Log in; return the headers a state-changing request needs."""
    response = client.post("/agent/api/login", json={"name": name, "password": password})
    assert response.status_code == 200, response.text
    return {"X-CSRF-Token": response.json()["csrf"]}


def say(socket: Any, text: str, payload: str | None = None) -> list[dict[str, Any]]:
    socket.send_text(json.dumps({"sender": SENDER, "text": text} | ({"payload": payload} if payload else {})))
    while True:
        frame = socket.receive_json()
        if frame["type"] == "messages":  # (a first hello got the conversation's key before)
            return list(frame["messages"])


def handoff_row(sessions: sessionmaker[Session]) -> Handoff:
    with sessions() as session:
        return session.scalars(select(Handoff).order_by(Handoff.id.desc())).first()


def test_web_chat_to_an_agent_and_back_to_the_bot(
    client: TestClient, rasa: FakeRasa, sessions: sessionmaker[Session]
) -> None:
    with client.websocket_connect("/web/ws") as citizen:
        citizen.send_text(json.dumps({"type": "hello", "sender": SENDER, "token": sign(SENDER)}))
        answers = say(citizen, "상담원 연결")
        assert answers[0]["text"] == "상담원에게 연결해 드릴게요."
        assert "대기 순서는 1번째" in answers[1]["text"]
        assert answers[1]["buttons"] == [{"title": "상담 취소", "payload": "상담 취소"}]
        row = handoff_row(sessions)
        assert (row.channel, row.sender, row.status, row.priority, row.reason) == (
            "web",
            SENDER,
            "waiting",
            "normal",
            "requested",
        )
        # While waiting, messages go to the queue, not to Rasa.
        assert say(citizen, "소음 때문에요. 제 번호는 010-1234-5678이에요")[0]["text"].startswith(
            "상담원에게 전달했어요"
        )
        assert [b["message"] for b in rasa.received] == ["상담원 연결"]

        headers = login(client)
        queue = client.get("/agent/api/queue").json()["handoffs"]
        assert [(h["id"], h["status"], h["reason"]) for h in queue] == [(row.id, "waiting", "requested")]
        assert queue[0]["guesses"][0]["category"] == "noise"
        detail = client.get(f"/agent/api/handoffs/{row.id}").json()
        citizen_said = [m for m in detail["messages"] if m["from"] == "citizen"]
        assert citizen_said[1]["text"] == "소음 때문에요. 제 번호는 ***-****-****이에요"  # masked for agents
        assert citizen_said[0]["understood"] == {
            "intent": "nlu_fallback",
            "category": None,
            "confidence": 0.31,
        }

        assert client.post(f"/agent/api/handoffs/{row.id}/claim", headers=headers).status_code == 200
        pushed = citizen.receive_json()["messages"][0]
        assert (
            pushed["text"] == "상담원이 연결되었어요. 편하게 말씀해 주세요." and pushed["author"] == "상담원"
        )
        reply = client.post(
            f"/agent/api/handoffs/{row.id}/reply", json={"text": "어느 동인가요?"}, headers=headers
        )
        assert reply.json() == {"ok": True, "delivered": "now"}
        assert citizen.receive_json()["messages"] == [
            {"text": "어느 동인가요?", "buttons": [], "author": "상담원"}
        ]
        assert say(citizen, "쌍용동이요") == []  # the agent reads it in the console

        assert client.post(f"/agent/api/handoffs/{row.id}/close", headers=headers).status_code == 200
        assert citizen.receive_json()["messages"][0]["text"].startswith("상담을 마쳤어요")
        assert rasa.events == [(f"web:{SENDER}", "resume")]
        assert say(citizen, "기초연금 알려주세요")[0]["text"] == "챗봇: 기초연금 알려주세요"
    row = handoff_row(sessions)
    assert row.status == "closed" and row.resumed and row.closed_at is not None
    with sessions() as session:  # the citizen will be asked, once, in the daytime, how the chat went
        survey = session.scalars(select(Survey)).one()
    assert (survey.kind, survey.ref, survey.sender, survey.agent_id) == (
        "handoff",
        str(row.id),
        SENDER,
        row.agent_id,
    )


def test_a_second_agent_cannot_take_a_claimed_chat(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    with client.websocket_connect("/web/ws") as citizen:
        say(citizen, "상담원 연결")
    handoff_id = handoff_row(sessions).id
    first = login(client)
    assert client.post(f"/agent/api/handoffs/{handoff_id}/claim", headers=first).status_code == 200
    second = login(client, "박상담", "another-password")
    assert client.post(f"/agent/api/handoffs/{handoff_id}/claim", headers=second).status_code == 409
    answer = client.post(
        f"/agent/api/handoffs/{handoff_id}/reply", json={"text": "제가 할게요"}, headers=second
    )
    assert answer.status_code == 409
    assert client.post(f"/agent/api/handoffs/{handoff_id}/close", headers=second).status_code == 409


def test_kakao_replies_wait_for_the_next_utterance(
    client: TestClient, rasa: FakeRasa, sessions: sessionmaker[Session]
) -> None:
    def skill(text: str) -> dict[str, Any]:
        response = client.post(
            "/kakao/skill", json=skill_request(text), headers={"X-Kakao-Skill-Secret": SECRET}
        )
        return response.json()["template"]

    asked = " ".join(o["simpleText"]["text"] for o in skill("상담원 연결")["outputs"] if "simpleText" in o)
    assert "대기 순서는 1번째" in asked and "카카오톡에서는 상담원의 답이 늦으면 다음에" in asked
    handoff_id = handoff_row(sessions).id
    headers = login(client)
    client.post(f"/agent/api/handoffs/{handoff_id}/claim", headers=headers)
    reply = client.post(
        f"/agent/api/handoffs/{handoff_id}/reply", json={"text": "무엇을 도와드릴까요?"}, headers=headers
    )
    assert reply.json()["delivered"] == "with the citizen's next message"
    shown = [o["simpleText"]["text"] for o in skill("여보세요")["outputs"]]
    assert shown == ["[상담원] 상담원이 연결되었어요. 편하게 말씀해 주세요.\n\n[상담원] 무엇을 도와드릴까요?"]
    assert [o["simpleText"]["text"] for o in skill("가로등이요")["outputs"]] == ["상담원에게 전달했어요."]
    assert [b["message"] for b in rasa.received] == ["상담원 연결"]


def test_an_agent_reaches_a_kakao_citizen_at_once_through_the_open_callback(
    database_url: str, rasa: FakeRasa, sessions: sessionmaker[Session]
) -> None:
    """A message to an agent is answered with useCallback; the agent's answer within the minute goes to
    Kakao's callback URL at once, and without one the callback is closed with a plain word."""
    with sessions.begin() as session:
        add_agent(session, "김상담", "a-long-password")
    with gateway(database_url, rasa, kakao_operator=True) as client:
        kakao = client.app.state.kakao  # type: ignore[attr-defined]

        def skill(text: str, callback: str | None = None) -> dict[str, Any]:
            body = skill_request(text, **({"callbackUrl": callback} if callback else {}))
            return client.post("/kakao/skill", json=body, headers={"X-Kakao-Skill-Secret": SECRET}).json()

        # The request that queues the chat holds its callback for the agent's first word (the claim's).
        queue_text = PROFILE.messages["handoff_queued"].format(position=1)
        assert skill("상담원 연결", "https://callback.kakao.com/cb/1") == {
            "version": "2.0", "useCallback": True, "data": {"text": PROFILE.messages["kakao_queue_wait"]},
        }  # fmt: skip
        assert rasa.callbacks == []
        handoff_id = handoff_row(sessions).id
        headers = login(client)
        client.post(f"/agent/api/handoffs/{handoff_id}/claim", headers=headers)
        queued = rasa.callbacks[-1]["template"]
        said = queued["outputs"][0]["simpleText"]["text"]
        claimed = "[상담원] " + PROFILE.messages["handoff_claimed"]
        assert (
            said.index(queue_text)
            < said.index(PROFILE.messages["handoff_kakao_operator"])
            < said.index(claimed)
        )
        assert queued["outputs"][1]["textCard"]["buttons"] == [
            {"label": "상담직원 연결", "action": "operator"}
        ]
        assert skill("가로등이 또 꺼졌어요", "https://callback.kakao.com/cb/3") == {
            "version": "2.0", "useCallback": True, "data": {"text": PROFILE.messages["kakao_agent_wait"]},
        }  # fmt: skip
        reply = client.post(
            f"/agent/api/handoffs/{handoff_id}/reply", json={"text": "어느 동인가요?"}, headers=headers
        )
        assert reply.json()["delivered"] == "now"
        assert [o["simpleText"]["text"] for o in rasa.callbacks[-1]["template"]["outputs"]] == [
            "[상담원] 어느 동인가요?"
        ]
        # No answer within the callback's time: the callback is closed with a word, the reply waits.
        kakao.agent_wait = 0.05
        skill("쌍용동이요", "https://callback.kakao.com/cb/4")
        time.sleep(0.5)
        assert rasa.callbacks[-1]["template"]["outputs"] == [
            {"simpleText": {"text": PROFILE.messages["kakao_agent_late"]}}
        ]
        later = client.post(
            f"/agent/api/handoffs/{handoff_id}/reply", json={"text": "확인할게요"}, headers=headers
        )
        assert later.json()["delivered"] == "with the citizen's next message"
        assert len(rasa.callbacks) == 3  # the queue's answer with the claim, the reply, the closing word
        # Queued with no agent's word within the callback's time: the queue's answer comes alone, buttons
        # and all, and says that a late answer comes with the next message.
        other = skill_request(
            "상담원 연결", user="kakao-waits-1", callbackUrl="https://callback.kakao.com/cb/5"
        )
        assert client.post("/kakao/skill", json=other, headers={"X-Kakao-Skill-Secret": SECRET}).json()[
            "useCallback"
        ]
        time.sleep(0.5)
        closing = rasa.callbacks[-1]["template"]
        assert (
            PROFILE.messages["handoff_queued"].format(position=1)
            in closing["outputs"][0]["simpleText"]["text"]
        )
        assert [q["label"] for q in closing["quickReplies"]] == [PROFILE.messages["cancel_handoff_button"]]
        # A citizen who writes again before the callback's time is up gets the held answer at once, first.
        kakao.agent_wait = 30
        moving = skill_request(
            "상담원 연결", user="kakao-moves-on", callbackUrl="https://callback.kakao.com/cb/6"
        )
        client.post("/kakao/skill", json=moving, headers={"X-Kakao-Skill-Secret": SECRET})
        before = len(rasa.callbacks)
        client.post(
            "/kakao/skill",
            json=skill_request("상담 취소", user="kakao-moves-on"),
            headers={"X-Kakao-Skill-Secret": SECRET},
        )
        assert len(rasa.callbacks) == before + 1
        held = rasa.callbacks[-1]["template"]["outputs"][0]["simpleText"]["text"]
        assert PROFILE.messages["handoff_queued"].format(position=2) in held


def test_the_console_shows_a_citizens_photo_through_the_gateway_only(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    with client.websocket_connect("/web/ws") as citizen:
        citizen.send_text(json.dumps({"type": "hello", "sender": SENDER, "token": sign(SENDER)}))
        headers = {"X-Chat-Sender": SENDER, "X-Chat-Token": sign(SENDER)}
        image = client.post("/web/upload", content=camera_photo(), headers=headers).json()["image"]
        citizen.send_text(json.dumps({"sender": SENDER, "text": "여기예요", "image": image}))
        citizen.receive_json()
        say(citizen, "상담원 연결")
    handoff_id = handoff_row(sessions).id
    assert client.get("/agent/api/photo", params={"ref": image}).status_code == 401  # not logged in
    login(client)
    shown = client.get(f"/agent/api/handoffs/{handoff_id}").json()["messages"]
    assert [m["photo"] for m in shown if m["from"] == "citizen"] == [image, None]
    photo = client.get("/agent/api/photo", params={"ref": image})
    assert photo.status_code == 200 and photo.headers["content-type"] == "image/jpeg"
    assert Image.open(io.BytesIO(photo.content)).getexif() == {}  # the camera's place is not in it
    for missing in (
        "upload:0123456789ab/" + "0" * 32 + ".jpg",
        "telegram:AgAD",
        "https://evil.example/a.jpg",
    ):
        assert client.get("/agent/api/photo", params={"ref": missing}).status_code == 404


def test_a_crisis_message_gets_the_emergency_numbers_and_an_urgent_handoff_even_with_rasa_down(
    client: TestClient, rasa: FakeRasa, sessions: sessionmaker[Session]
) -> None:
    rasa.down = True
    with client.websocket_connect("/web/ws") as citizen:
        answers = say(citizen, "가로등 신고하려다가요.. 그냥 다 끝내고 싶어요 죽고싶다")
    assert "자살예방 상담 109" in answers[0]["text"]
    assert [b["phone"] for b in answers[0]["buttons"]] == ["112", "119", "109", "129"]
    assert "대기 순서는 1번째" in answers[1]["text"]
    row = handoff_row(sessions)
    assert (row.priority, row.reason, row.status) == ("urgent", "crisis:suicide", "waiting")
    assert rasa.received == []


def test_a_crisis_goes_ahead_of_the_queue_and_pauses_rasa(client: TestClient, rasa: FakeRasa) -> None:
    with client.websocket_connect("/web/ws") as citizen:
        say(citizen, "상담원 연결")
    with client.websocket_connect("/web/ws") as other:
        other.send_text(
            json.dumps(
                {"sender": "d00d0000-1234-4bcd-9a51-0c8e2d1f4b6a", "text": "아빠가 또 때려요 무서워요"}
            )
        )
        assert "대기 순서는 1번째" in other.receive_json()["messages"][1]["text"]
    login(client)
    queue = client.get("/agent/api/queue").json()["handoffs"]
    assert [(h["priority"], h["reason"]) for h in queue] == [
        ("urgent", "crisis:abuse"),
        ("normal", "requested"),
    ]
    assert rasa.events == [("web:d00d0000-1234-4bcd-9a51-0c8e2d1f4b6a", "pause")]


def test_after_hours_the_citizen_is_told_when_agents_are_back_and_can_leave_a_callback_request(
    client: TestClient, rasa: FakeRasa, sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(reception_module, "utcnow", lambda: SUNDAY_NIGHT)
    with client.websocket_connect("/web/ws") as citizen:
        answers = say(citizen, "상담원 연결")
        assert (
            "지금은 상담 시간이 아니에요" in answers[1]["text"] and "월요일 09:00부터" in answers[1]["text"]
        )
        assert answers[1]["buttons"][0]["title"] == "연락 요청 남기기"
        say(citizen, "집 앞 하수구가 막혀서 물이 넘쳐요 010-2222-3333")
        filed = say(citizen, "연락 요청 남기기", payload="연락 요청 남기기")[0]["text"]
        assert "연락 요청을 민원" in filed
        assert say(citizen, "고마워요")[0]["text"] == "챗봇: 고마워요"
    row = handoff_row(sessions)
    assert row.status == "abandoned" and row.ticket_number and row.ticket_number in filed and row.resumed
    with sessions() as session:
        ticket = session.scalars(select(Ticket)).one()
    assert (ticket.channel, ticket.sender, ticket.department) == ("web", SENDER, "천안시 콜센터")
    assert ticket.description == "집 앞 하수구가 막혀서 물이 넘쳐요 ***-****-****"
    assert rasa.events == [(f"web:{SENDER}", "resume")]


def test_a_waiting_citizen_can_cancel(
    client: TestClient, rasa: FakeRasa, sessions: sessionmaker[Session]
) -> None:
    with client.websocket_connect("/web/ws") as citizen:
        say(citizen, "상담원 연결")
        assert (
            say(citizen, "상담 취소", payload="상담 취소")[0]["text"]
            == "상담원 연결을 취소했어요. 다시 챗봇이 도와드릴게요."
        )
    assert handoff_row(sessions).status == "abandoned" and rasa.events == [(f"web:{SENDER}", "resume")]


def test_a_long_wait_is_offered_a_callback_by_the_sweep(client: TestClient) -> None:
    with client.websocket_connect("/web/ws") as citizen:
        citizen.send_text(json.dumps({"type": "hello", "sender": SENDER, "token": sign(SENDER)}))
        say(citizen, "상담원 연결")
        client.portal.call(client.app.state.desk.sweep)
        offer = citizen.receive_json()["messages"][0]
    assert (
        offer["text"].startswith("기다리게 해서 죄송해요")
        and offer["buttons"][0]["title"] == "연락 요청 남기기"
    )


def test_an_agent_who_leaves_gives_the_chat_back(client: TestClient, sessions: sessionmaker[Session]) -> None:
    with client.websocket_connect("/web/ws") as citizen:
        citizen.send_text(json.dumps({"type": "hello", "sender": SENDER, "token": sign(SENDER)}))
        say(citizen, "상담원 연결")
        handoff_id = handoff_row(sessions).id
        headers = login(client)
        with client.websocket_connect("/agent/ws"):
            client.post(f"/agent/api/handoffs/{handoff_id}/claim", headers=headers)
            citizen.receive_json()  # connected
        assert citizen.receive_json()["messages"][0]["text"].startswith("상담원 연결이 끊겨서")
    row = handoff_row(sessions)
    assert (row.status, row.agent_id) == ("waiting", None)


def test_the_console_hears_about_new_chats_live(client: TestClient) -> None:
    login(client)
    with client.websocket_connect("/agent/ws") as console, client.websocket_connect("/web/ws") as citizen:
        say(citizen, "상담원 연결")
        assert console.receive_json() == {"type": "queue"}
        say(citizen, "여보세요")
        assert console.receive_json()["type"] == "message"


def test_personal_data_is_opened_only_with_a_reason_and_that_is_logged(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    with client.websocket_connect("/web/ws") as citizen:
        say(citizen, "상담원 연결")
        say(citizen, "제 차 12가3456 이고 번호는 010-9876-5432 예요")
    handoff_id = handoff_row(sessions).id
    reveal = f"/agent/api/handoffs/{handoff_id}/reveal"
    headers = login(client)
    shown = client.get(f"/agent/api/handoffs/{handoff_id}").json()["messages"]
    assert "12가3456" not in json.dumps(shown, ensure_ascii=False) and "9876" not in json.dumps(shown)
    # Not the chat's holder: another agent may read it masked, not open it.
    assert client.post(reveal, json={"reason": "궁금해서"}, headers=headers).status_code == 403
    assert client.post(f"/agent/api/handoffs/{handoff_id}/claim", headers=headers).status_code == 200
    assert client.post(reveal, json={}, headers=headers).status_code == 400
    opened = client.post(reveal, json={"reason": "콜백 요청"}, headers=headers)
    assert "010-9876-5432" in json.dumps(opened.json()["messages"], ensure_ascii=False)
    # A supervisor may open any chat, with a reason, logged as well.
    boss = login(client, "최팀장", "supervisor-password")
    assert client.get("/agent/api/me").json()["role"] == "supervisor"
    assert client.post(reveal, json={"reason": "민원 감사"}, headers=boss).status_code == 200
    with sessions() as session:
        logs = [
            (log.handoff_id, log.reason) for log in session.scalars(select(AccessLog).order_by(AccessLog.id))
        ]
    assert logs == [(handoff_id, "콜백 요청"), (handoff_id, "민원 감사")]


def test_logging_out_closes_the_console_and_its_chats_go_back_to_the_queue(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    with client.websocket_connect("/web/ws") as citizen:
        say(citizen, "상담원 연결")
        handoff_id = handoff_row(sessions).id
        headers = login(client)
        with client.websocket_connect("/agent/ws") as console:
            client.post(f"/agent/api/handoffs/{handoff_id}/claim", headers=headers)
            citizen.receive_json()  # connected
            assert console.receive_json() == {"type": "queue"}
            assert client.post("/agent/api/logout", headers=headers).status_code == 200
            with pytest.raises(WebSocketDisconnect) as closed:
                while True:
                    console.receive_json()
            assert closed.value.code == 4401
        assert citizen.receive_json()["messages"][0]["text"].startswith("상담원 연결이 끊겨서")
    row = handoff_row(sessions)
    assert (row.status, row.agent_id) == ("waiting", None)


def test_a_disabled_agents_console_closes_at_its_next_check(
    client: TestClient, sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(console_module, "SESSION_CHECK", 0.2)
    client.app.state.desk.grace = 0.1  # type: ignore[attr-defined]  # (a reload's grace period)
    headers = login(client)
    with client.websocket_connect("/web/ws") as citizen:
        citizen.send_text(json.dumps({"type": "hello", "sender": SENDER, "token": sign(SENDER)}))
        say(citizen, "상담원 연결")
        handoff_id = handoff_row(sessions).id
        with client.websocket_connect("/agent/ws") as console:
            assert client.post(f"/agent/api/handoffs/{handoff_id}/claim", headers=headers).status_code == 200
            assert handoff_row(sessions).status == "assigned"
            with sessions.begin() as session:
                assert disable_agent(session, "김상담")
            with pytest.raises(WebSocketDisconnect) as closed:
                while True:
                    console.receive_json()
            assert closed.value.code == 4401
        # The chat the disabled agent held goes back to the queue, and the citizen hears so.
        told = []
        while PROFILE.messages["handoff_released"] not in told:
            told += [m["text"] for m in citizen.receive_json().get("messages", [])]
    row = handoff_row(sessions)
    assert (row.status, row.agent_id) == ("waiting", None)


def test_labels_and_a_ticket_filed_for_the_citizen(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    with client.websocket_connect("/web/ws") as citizen:
        citizen.send_text(json.dumps({"type": "hello", "sender": SENDER, "token": sign(SENDER)}))
        say(citizen, "상담원 연결")
        say(citizen, "밤마다 윗집이 쿵쿵거려요")
        handoff_id = handoff_row(sessions).id
        headers = login(client)
        client.post(f"/agent/api/handoffs/{handoff_id}/claim", headers=headers)
        citizen.receive_json()
        message_id = [m for m in client.get(f"/agent/api/handoffs/{handoff_id}").json()["messages"]
                      if m["text"] == "밤마다 윗집이 쿵쿵거려요"][0]["id"]  # fmt: skip
        url = f"/agent/api/messages/{message_id}/label"
        assert (
            client.post(url, json={"intent": "complaint", "category": "noise"}, headers=headers).status_code
            == 200
        )
        assert client.post(url, json={"intent": "complaint"}, headers=headers).status_code == 400
        assert client.post(url, json={"intent": "nonsense"}, headers=headers).status_code == 400
        assert (
            client.post(
                "/agent/api/messages/999999/label", json={"intent": "greet"}, headers=headers
            ).status_code
            == 404
        )
        filed = client.post(
            f"/agent/api/handoffs/{handoff_id}/ticket", headers=headers,
            json={"category": "noise", "description": "밤마다 층간소음", "location": "쌍용동 ○○아파트"},
        )  # fmt: skip
        number = filed.json()["number"]
        assert number in citizen.receive_json()["messages"][0]["text"]
    with sessions() as session:
        label = session.scalars(select(Label)).one()
        ticket = session.scalars(select(Ticket)).one()
    assert (label.message_id, label.intent, label.category) == (message_id, "complaint", "noise")
    assert (ticket.sender, ticket.category, ticket.district, ticket.department) == (
        SENDER,
        "noise",
        "쌍용동",
        "환경정책과",
    )


def test_a_staff_status_change_reaches_the_citizen(
    client: TestClient, sessions: sessionmaker[Session], database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.store.tickets import file_ticket
    from bot.tickets import __main__ as tickets_cli

    with sessions.begin() as session:
        number = file_ticket(
            session, category="streetlight", department="건설도로과", description="가로등 꺼짐",
            channel="web",
            sender=SENDER, note="",
        ).number  # fmt: skip
    monkeypatch.setenv("DATABASE_URL", database_url)
    assert tickets_cli.main(["update", number, "--status", "in_progress", "--note", "내일 수리해요"]) == 0
    with client.websocket_connect("/web/ws") as citizen:
        citizen.send_text(json.dumps({"type": "hello", "sender": SENDER, "token": sign(SENDER)}))
        text = citizen.receive_json()["messages"][0]["text"]
    assert text == f"민원 {number}의 처리 상태가 '처리 중'으로 바뀌었어요. 내일 수리해요"
    with sessions.begin() as session:
        update_status(session, number=number, status="resolved", note="", actor="t")


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/agent/api/me"), ("GET", "/agent/api/queue"), ("GET", "/agent/api/handoffs/1"),
     ("POST", "/agent/api/handoffs/1/claim"), ("POST", "/agent/api/handoffs/1/reply"),
     ("POST", "/agent/api/handoffs/1/close"), ("POST", "/agent/api/handoffs/1/reveal"),
     ("POST", "/agent/api/handoffs/1/ticket"), ("POST", "/agent/api/messages/1/label"),
     ("POST", "/agent/api/logout")],
)  # fmt: skip
def test_every_console_route_needs_a_login_and_every_change_a_csrf_token(
    client: TestClient, method: str, path: str
) -> None:
    assert client.request(method, path, json={}).status_code == 401
    login(client)
    if method == "POST":
        assert client.request(method, path, json={}).status_code == 403
        assert client.request(method, path, json={}, headers={"X-CSRF-Token": "forged"}).status_code == 403


def test_passwords_are_hashed_in_threads_of_their_own_and_refused_guesses_never_hashed(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    threads: list[str] = []
    real = throttle_module.verify_password

    def spy(password: str, stored: str) -> bool:
        threads.append(threading.current_thread().name)
        return real(password, stored)

    monkeypatch.setattr(throttle_module, "verify_password", spy)
    codes = [
        client.post("/agent/api/login", json={"name": "김상담", "password": "wrong"}).status_code
        for _ in range(8)
    ]
    assert codes == [401] * 5 + [429] * 3
    assert len(threads) == 5 and all(name.startswith("login-hash") for name in threads)
    # An unknown name is hashed against a hash no password matches, with no hash made on the way.
    assert client.post("/agent/api/login", json={"name": "nobody", "password": "x"}).status_code == 401
    assert len(threads) == 6


def test_logins_are_json_only_and_slowed_after_failures(client: TestClient) -> None:
    form = client.post("/agent/api/login", data={"name": "김상담", "password": "a-long-password"})
    assert form.status_code == 415
    for _ in range(5):
        assert (
            client.post("/agent/api/login", json={"name": "김상담", "password": "wrong"}).status_code == 401
        )
    assert (
        client.post("/agent/api/login", json={"name": "김상담", "password": "a-long-password"}).status_code
        == 429
    )
    assert (
        client.post(
            "/agent/api/login", content=b"{not json", headers={"Content-Type": "application/json"}
        ).status_code
        == 400
    )


def test_the_cookie_is_httponly_and_samesite_and_logout_ends_it(client: TestClient) -> None:
    response = client.post("/agent/api/login", json={"name": "김상담", "password": "a-long-password"})
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "path=/agent" in cookie
    assert (
        client.post("/agent/api/logout", headers={"X-CSRF-Token": response.json()["csrf"]}).status_code == 200
    )
    assert client.get("/agent/api/me").status_code == 401


def test_the_console_socket_needs_a_login_and_the_same_origin(client: TestClient) -> None:
    with pytest.raises(WebSocketDisconnect) as refused, client.websocket_connect("/agent/ws") as socket:
        socket.receive_json()
    assert refused.value.code == 4401
    login(client)
    with (
        pytest.raises(WebSocketDisconnect) as foreign,
        client.websocket_connect("/agent/ws", headers={"Origin": "https://evil.example"}) as socket,
    ):
        socket.receive_json()
    assert foreign.value.code == 4403


def test_unknown_chats_and_bad_bodies_get_clear_errors(client: TestClient) -> None:
    headers = login(client)
    assert client.get("/agent/api/handoffs/424242").status_code == 404
    assert client.post("/agent/api/handoffs/424242/claim", headers=headers).status_code == 404
    assert client.post("/agent/api/handoffs/1/dance", headers=headers).status_code == 404
    bad = client.post(
        "/agent/api/handoffs/1/reply", content=b"[", headers=headers | {"Content-Type": "application/json"}
    )
    assert bad.status_code == 400
    huge = client.post("/agent/api/handoffs/1/reply", json={"text": "가" * 20000}, headers=headers)
    assert huge.status_code == 413


def test_if_rasa_is_down_at_closing_the_bot_resumes_with_the_next_message(
    client: TestClient, rasa: FakeRasa, sessions: sessionmaker[Session]
) -> None:
    with client.websocket_connect("/web/ws") as citizen:
        say(citizen, "상담원 연결")
        handoff_id = handoff_row(sessions).id
        headers = login(client)
        client.post(f"/agent/api/handoffs/{handoff_id}/claim", headers=headers)
        citizen.receive_json()  # connected
        rasa.down = True
        assert client.post(f"/agent/api/handoffs/{handoff_id}/close", headers=headers).status_code == 200
        assert citizen.receive_json()["messages"][0]["text"].startswith("상담을 마쳤어요")
        assert not handoff_row(sessions).resumed
        rasa.down = False
        assert say(citizen, "안녕하세요")[0]["text"] == "챗봇: 안녕하세요"
    assert rasa.events == [(f"web:{SENDER}", "resume")] and handoff_row(sessions).resumed


def test_the_message_log_keeps_both_sides(client: TestClient, sessions: sessionmaker[Session]) -> None:
    with client.websocket_connect("/web/ws") as citizen:
        say(citizen, "상담원 연결")
        say(citizen, "여보세요")
    assert client.portal is not None
    client.portal.call(client.app.state.transcript.settled)  # type: ignore[attr-defined]
    with sessions() as session:
        rows = [(m.direction, m.text[:8]) for m in session.scalars(select(Message).order_by(Message.id))]
    assert rows[0] == ("in", "상담원 연결") and ("in", "여보세요") in rows and rows[-1][0] == "out"


def test_an_agent_marks_a_false_alarm_and_the_citizen_goes_on_where_they_were(
    client: TestClient, rasa: FakeRasa, sessions: sessionmaker[Session]
) -> None:
    question = "현장 사진이 있으면 보내 주세요."
    rasa.answers = lambda body: [
        {"text": question, "buttons": [{"title": "사진 없어요", "payload": "사진 없어요"}]},
        {"custom": {"expects": "complaint_photo"}},
    ]
    with client.websocket_connect("/web/ws") as citizen:
        citizen.send_text(json.dumps({"type": "hello", "sender": SENDER, "token": sign(SENDER)}))
        say(citizen, "가로등 고장 신고할게요")
        block = say(citizen, "다이어트 한다고 며칠째 굶었더니 살 빠졌어요 010-1234-5678")[0]
        assert block["buttons"][-1] == {"title": "신고 이어서 하기", "payload": "신고 이어서 하기"}
        row = handoff_row(sessions)
        assert (row.priority, row.reason) == ("urgent", "crisis:hunger")

        headers = login(client, "박상담", "another-password")  # any agent, without claiming it first
        marked = client.post(f"/agent/api/handoffs/{row.id}/false_alarm", headers=headers)
        assert marked.status_code == 200, marked.text
        back = citizen.receive_json()["messages"]
        assert [m["text"] for m in back] == [
            "상담원이 대화를 확인했어요. 이제 다시 챗봇이 이어서 도와드릴게요.",
            question,
        ]
        assert back[1]["buttons"] == [{"title": "사진 없어요", "payload": "사진 없어요"}]
        assert rasa.events[-1] == (f"web:{SENDER}", "resume")
        say(citizen, "사진 없어요")
    assert [b["message"] for b in rasa.received] == ["가로등 고장 신고할게요", "사진 없어요"]
    row = handoff_row(sessions)
    assert (row.status, row.priority, row.reason) == ("closed", "normal", "false_alarm")
    with sessions() as session:
        [label] = session.scalars(select(CrisisLabel)).all()
    # A labelled ordinary example for the detector's next training, without the phone number.
    assert (label.text, label.kind, label.crisis) == (
        "다이어트 한다고 며칠째 굶었더니 살 빠졌어요 ***-****-****",
        "hunger",
        False,
    )
    queue = client.get("/agent/api/queue").json()["handoffs"]
    assert [(h["priority"], h["reason"], h["status"]) for h in queue] == [("normal", "false_alarm", "closed")]
    again = client.post(f"/agent/api/handoffs/{row.id}/false_alarm", headers=headers)
    assert again.status_code == 409


def test_only_a_crisis_alarm_can_be_marked_false(client: TestClient, sessions: sessionmaker[Session]) -> None:
    with client.websocket_connect("/web/ws") as citizen:
        say(citizen, "상담원 연결")
    headers = login(client)
    response = client.post(f"/agent/api/handoffs/{handoff_row(sessions).id}/false_alarm", headers=headers)
    assert response.status_code == 409 and "crisis" in response.json()["error"]
    assert handoff_row(sessions).status == "waiting"


@pytest.mark.parametrize("number", ["9223372036854775808", "2147483648", "0"])
def test_an_id_no_row_could_have_is_a_404_not_a_server_error(client: TestClient, number: str) -> None:
    """Found by make fuzz: ids past 64 bits overflowed SQLite (500), past 32 bits PostgreSQL (503)."""
    headers = login(client)
    assert client.get(f"/agent/api/handoffs/{number}").status_code == 404
    assert client.post(f"/agent/api/handoffs/{number}/claim", headers=headers, json={}).status_code == 404
    assert client.post(f"/agent/api/messages/{number}/label", headers=headers, json={}).status_code == 404
