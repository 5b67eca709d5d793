"""The web chat over its WebSocket, the page, the health check and the gateway's settings."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from starlette.websockets import WebSocketDisconnect

from bot.handoff import reception
from bot.profile import load_profile
from bot.settings import Settings, SettingsError, load_settings
from bot.store.models import Handoff, Message
from tests.bot.channels.helpers import FakeRasa, gateway, stored
from tests.bot.handoff.conftest import bot_answers
from tests.bot.test_photos import camera_photo

PROFILE = load_profile("cheonan")

SENDER = "3f2a9c1e-77aa-4c1b-9a51-0c8e2d1f4b6a"


def test_the_page_shows_the_bots_name(database_url: str) -> None:
    with gateway(database_url, FakeRasa()) as client:
        page = client.get("/")
    assert page.status_code == 200 and "<title>천안시 민원 챗봇</title>" in page.text


def test_a_message_over_the_socket_is_answered_with_text_and_buttons(
    database_url: str, sessions: sessionmaker[Session]
) -> None:
    rasa = FakeRasa(
        answers=lambda body: [
            {"text": "무엇을 도와드릴까요?", "buttons": [{"title": "민원 신고", "payload": "민원 신고"}]},
            {"text": "기초연금은…", "buttons": [{"title": "복지로", "url": "https://www.bokjiro.go.kr"}]},
        ]
    )
    with gateway(database_url, rasa) as client, client.websocket_connect("/web/ws") as socket:
        socket.send_text(json.dumps({"sender": SENDER, "text": "안녕하세요"}))
        answer = socket.receive_json()
    assert answer == {
        "type": "messages",
        "messages": [
            {"text": "무엇을 도와드릴까요?", "buttons": [{"title": "민원 신고", "payload": "민원 신고"}]},
            {"text": "기초연금은…", "buttons": [{"title": "복지로", "url": "https://www.bokjiro.go.kr"}]},
        ],
    }
    assert rasa.received[0]["sender"] == f"web:{SENDER}"
    with sessions() as session:
        stored = session.scalars(select(Message).order_by(Message.id))
        assert [m.direction for m in stored] == ["in", "out", "out"]


def test_a_pressed_chip_sends_its_payload_and_nothing_reaches_rasa_as_an_intent(database_url: str) -> None:
    rasa = FakeRasa()
    with gateway(database_url, rasa) as client, client.websocket_connect("/web/ws") as socket:
        for frame in (
            {"text": "복지", "payload": "복지 상담"},
            {"text": "/affirm"},
            {"text": "복지", "payload": "/welfare"},
        ):
            socket.send_text(json.dumps({"sender": SENDER, **frame}))
            while socket.receive_json()["type"] != "messages":
                pass
    assert [r["message"] for r in rasa.received] == ["복지 상담", "affirm", "welfare"]


@pytest.mark.parametrize(
    "frame",
    ["not json", "[]", json.dumps({"text": "안녕"}), json.dumps({"sender": "short", "text": "안녕"}),
     json.dumps({"sender": "../../etc/passwd", "text": "안녕"}),
     json.dumps({"sender": SENDER, "text": "   "}),
     json.dumps({"sender": SENDER, "text": "가" * 100_000})],
)  # fmt: skip
def test_a_bad_frame_gets_an_error_and_reaches_nobody(database_url: str, frame: str) -> None:
    rasa = FakeRasa()
    with gateway(database_url, rasa) as client, client.websocket_connect("/web/ws") as socket:
        socket.send_text(frame)
        answer = socket.receive_json()
        assert answer == {"type": "error", "text": load_profile("cheonan").messages["bad_request"]}
        # The socket stays usable.
        socket.send_text(json.dumps({"sender": SENDER, "text": "안녕하세요"}))
        assert socket.receive_json()["type"] == "messages"
    assert [r["message"] for r in rasa.received] == ["안녕하세요"]


def test_a_long_message_is_cut_before_it_reaches_rasa(database_url: str) -> None:
    rasa = FakeRasa()
    with gateway(database_url, rasa) as client, client.websocket_connect("/web/ws") as socket:
        socket.send_text(json.dumps({"sender": SENDER, "text": "가" * 10_000}))
        socket.receive_json()
    assert len(rasa.received[0]["message"]) == 4096


def test_rasa_down_gets_an_apology_with_the_phone_number(database_url: str) -> None:
    with gateway(database_url, FakeRasa(down=True)) as client, client.websocket_connect("/web/ws") as socket:
        socket.send_text(json.dumps({"sender": SENDER, "text": "안녕하세요"}))
        [message] = socket.receive_json()["messages"]
    assert "1422-36" in message["text"]


def test_the_gateway_can_push_to_an_open_page(database_url: str) -> None:
    from bot.messages import Outbound

    with gateway(database_url, FakeRasa()) as client, client.websocket_connect("/web/ws") as socket:
        socket.send_text(json.dumps({"sender": SENDER, "text": "안녕하세요"}))
        socket.receive_json()
        web = client.app.state.web  # type: ignore[attr-defined]
        assert client.portal.call(web.push, SENDER, [Outbound(text="상담원이에요")])  # type: ignore[union-attr]
        assert socket.receive_json()["messages"][0]["text"] == "상담원이에요"


def test_an_unknown_path_is_a_plain_404(database_url: str) -> None:
    with gateway(database_url, FakeRasa()) as client:
        assert client.post("/line/webhook", json={}).status_code == 404
        assert client.get("/kakao/skill").status_code == 405


def test_health_reports_rasa_and_the_database(database_url: str) -> None:
    with gateway(database_url, FakeRasa()) as client:
        assert client.get("/healthz").json() == {"rasa": True, "database": True}
    with gateway(database_url, FakeRasa(down=True)) as client:
        response = client.get("/healthz")
    assert response.status_code == 503 and response.json() == {"rasa": False, "database": True}


@pytest.mark.parametrize(
    "env",
    [{"KAKAO_SKILL_SECRET": "changeme"}, {"KAKAO_SKILL_SECRET": "short"},
     {"TELEGRAM_WEBHOOK_SECRET": "a-long-enough-secret-123"}, {"PORT": "eighty"}],
)  # fmt: skip
def test_the_gateway_refuses_to_start_on_a_placeholder_or_missing_secret(env: dict[str, str]) -> None:
    with pytest.raises(SettingsError):
        load_settings(env).check_channels()


def test_without_a_kakao_secret_there_is_no_kakao_route(database_url: str) -> None:
    from starlette.testclient import TestClient

    from bot.gateway import create_app

    with TestClient(create_app(Settings(database_url=database_url))) as client:
        assert client.post("/kakao/skill", json={}).status_code == 404


@pytest.mark.parametrize("path", ["/", "/agent", "/healthz", "/web/chat.js", "/agent/agent.js", "/nowhere"])
def test_every_answer_carries_the_security_headers(database_url: str, path: str) -> None:
    with gateway(database_url, FakeRasa()) as client:
        response = client.get(path)
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline' ;" not in csp
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize(("page", "script"), [("/", "/web/chat.js"), ("/agent", "/agent/agent.js")])
def test_pages_have_no_inline_script_and_their_scripts_are_served(
    database_url: str, page: str, script: str
) -> None:
    with gateway(database_url, FakeRasa()) as client:
        html, js = client.get(page).text, client.get(script)
    assert f'<script src="{script}"></script>' in html and "<script>" not in html
    assert js.status_code == 200 and js.headers["content-type"].startswith("text/javascript")
    assert js.text.startswith("(() => {")


def test_the_console_cookie_is_secure_unless_reached_on_this_machine(database_url: str) -> None:
    from bot.store.agents import add_agent
    from bot.store.db import session_factory

    with session_factory(database_url).begin() as session:
        add_agent(session, "김상담", "a-long-password")
    body = {"name": "김상담", "password": "a-long-password"}
    with gateway(database_url, FakeRasa(), agent_cookie_secure=None) as client:
        remote = client.post("/agent/api/login", json=body).headers["set-cookie"]
        local = client.post("http://127.0.0.1/agent/api/login", json=body).headers["set-cookie"]
    assert "secure" in remote.lower() and "secure" not in local.lower()


def test_a_conversation_is_taken_over_by_no_page_without_its_key(database_url: str) -> None:
    """The id is no bearer secret: a page that learnt it gets neither replies nor tickets."""
    rasa = FakeRasa()
    with gateway(database_url, rasa) as client:
        with client.websocket_connect("/web/ws") as first:
            first.send_text(json.dumps({"type": "hello", "sender": SENDER}))
            session = first.receive_json()
            assert (
                session["type"] == "session" and session["sender"] == SENDER and len(session["token"]) == 32
            )
            first.send_text(json.dumps({"sender": SENDER, "text": "안녕하세요"}))
            assert first.receive_json()["type"] == "messages"
        # Someone else with the id only: refused, by hello and by message, and Rasa hears nothing from them.
        with client.websocket_connect("/web/ws") as thief:
            thief.send_text(json.dumps({"type": "hello", "sender": SENDER}))
            refused = thief.receive_json()
            assert (refused["type"], refused["code"]) == ("error", "session")
            thief.send_text(json.dumps({"type": "hello", "sender": SENDER, "token": "0" * 32}))
            assert thief.receive_json()["code"] == "session"
            thief.send_text(json.dumps({"sender": SENDER, "text": "내 민원 조회"}))
            assert thief.receive_json()["code"] == "session"
        assert [r["message"] for r in rasa.received] == ["안녕하세요"]
        # The page with the key comes back to its conversation, with no new key.
        with client.websocket_connect("/web/ws") as again:
            again.send_text(json.dumps({"type": "hello", "sender": SENDER, "token": session["token"]}))
            again.send_text(json.dumps({"sender": SENDER, "text": "또 왔어요"}))
            assert again.receive_json()["type"] == "messages"


def test_the_page_makes_ids_from_the_cryptographic_generator_only() -> None:
    script = (Path(__file__).resolve().parents[3] / "bot" / "web" / "chat.js").read_text(encoding="utf-8")
    assert "crypto.getRandomValues" in script and "Math.random" not in script


def test_another_sites_page_cannot_open_the_socket(database_url: str) -> None:
    with gateway(database_url, FakeRasa()) as client:
        with pytest.raises(WebSocketDisconnect) as refused:
            with client.websocket_connect("/web/ws", headers={"Origin": "https://evil.example"}) as socket:
                socket.receive_json()
        assert refused.value.code == 4403
        with client.websocket_connect("/web/ws", headers={"Origin": "http://testserver"}) as socket:
            socket.send_text(json.dumps({"sender": SENDER, "text": "안녕하세요"}))
            assert socket.receive_json()["type"] == "messages"
    allowed = ("https://www.cheonan.go.kr",)
    with gateway(database_url, FakeRasa(), web_origins=allowed) as client:
        with client.websocket_connect("/web/ws", headers={"Origin": "https://www.cheonan.go.kr"}) as socket:
            socket.send_text(json.dumps({"sender": "another-page-0001", "text": "안녕하세요"}))
            assert socket.receive_json()["type"] == "messages"


def test_a_flood_is_slowed_and_fresh_ids_are_capped(
    database_url: str, sessions: sessionmaker[Session]
) -> None:
    rasa = FakeRasa()
    with gateway(database_url, rasa, web_limits=(1, 3, 100, 100, 2, 10)) as client:
        with client.websocket_connect("/web/ws") as socket:
            answers = []
            for i in range(6):
                socket.send_text(json.dumps({"sender": SENDER, "text": f"메시지 {i}"}))
                answers.append(socket.receive_json())
        assert [a["type"] for a in answers[:3]] == ["messages"] * 3
        assert answers[3] == {"type": "error", "code": "limit", "text": PROFILE.messages["web_too_fast"]}
        assert len(rasa.received) == 3
        assert client.app.state.web.per_socket.buckets == {}  # type: ignore[attr-defined]  # closed: forgotten
        # Fresh conversation ids from one address: two an hour here.
        frames = []
        for i in range(3):
            with client.websocket_connect("/web/ws") as socket:
                socket.send_text(json.dumps({"type": "hello", "sender": f"fresh-id-{i:04d}"}))
                frames.append(socket.receive_json())
        # (The first socket's id was the first of the two.)
        assert [f["type"] for f in frames] == ["session", "error", "error"]
        assert frames[1]["text"] == PROFILE.messages["web_too_many_chats"]
    assert len(stored(sessions)) == 6  # 3 messages taken, 3 answers (stored once the gateway has settled)


def test_one_address_opens_at_most_its_handoffs_an_hour(
    database_url: str, sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A script (or another site's page) crying from fresh ids buries no real crisis: past the address's
    limit the chat gets the emergency numbers and the call-us text, and no place in the agents' queue."""
    weekday_noon = dt.datetime(2026, 11, 25, 3, 0, tzinfo=dt.timezone.utc)  # 12:00 KST: agents at work
    monkeypatch.setattr(reception, "utcnow", lambda: weekday_noon)
    with gateway(database_url, FakeRasa(), web_limits=(100, 100, 100, 100, 100, 2)) as client:
        answers = []
        for i in range(3):
            with client.websocket_connect("/web/ws") as socket:
                socket.send_text(json.dumps({"sender": f"crying-id-{i:04d}", "text": "죽고 싶어요"}))
                answers.append([m["text"] for m in socket.receive_json()["messages"]])
    with sessions() as session:
        queued = session.scalars(select(Handoff.sender).order_by(Handoff.id)).all()
    assert queued == ["crying-id-0000", "crying-id-0001"]
    assert all(a[0] == PROFILE.messages["crisis"] for a in answers)
    assert PROFILE.messages["handoff_limit"] not in answers[1]
    assert answers[2][1:] == [PROFILE.messages["handoff_limit"]]


def test_one_address_has_at_most_its_open_handoffs_at_once_and_a_closed_one_frees_a_place(
    database_url: str, sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The hourly allowance aside, the chats of one address waiting for a person are capped: a night of
    unanswered requests from fresh ids cannot pile up in the queue; a crisis is queued whatever the others
    do (a school's or a carrier's shared address). The address is kept only as a keyed hash."""
    weekday_noon = dt.datetime(2026, 11, 25, 3, 0, tzinfo=dt.timezone.utc)
    monkeypatch.setattr(reception, "utcnow", lambda: weekday_noon)

    def ask(client: Any, sender: str, text: str = "상담원 연결") -> list[str]:
        with client.websocket_connect("/web/ws") as socket:
            socket.send_text(json.dumps({"sender": sender, "text": text}))
            return [m["text"] for m in socket.receive_json()["messages"]]

    rasa = FakeRasa(answers=bot_answers)
    with gateway(database_url, rasa, web_limits=(100, 100, 100, 100, 100, 100, 2)) as client:
        answers = [ask(client, f"open-cap-{i:04d}") for i in range(3)]
        with sessions.begin() as session:
            first = session.scalars(select(Handoff).order_by(Handoff.id)).first()
            assert first is not None
            first.status = "closed"  # an agent answered the first one
        answers.append(ask(client, "open-cap-0003"))
        answers.append(
            ask(client, "open-cap-0004", "죽고 싶어요")
        )  # the cap is full again; a crisis is queued
    with sessions() as session:
        rows = session.execute(select(Handoff.sender, Handoff.origin).order_by(Handoff.id)).all()
    assert [sender for sender, _ in rows] == [
        "open-cap-0000",
        "open-cap-0001",
        "open-cap-0003",
        "open-cap-0004",
    ]
    assert PROFILE.messages["handoff_limit"] not in answers[1] + answers[3] + answers[4]
    assert PROFILE.messages["handoff_limit"] in answers[2]
    [origin] = {origin for _, origin in rows}
    assert origin is not None and "testclient" not in origin and len(origin) == 32


def test_limits_that_are_not_six_numbers_stop_the_start() -> None:
    with pytest.raises(SettingsError, match="WEB_LIMITS"):
        load_settings({"WEB_LIMITS": "2,20,10,100,60"}).check_channels()


def _hello(socket: Any, sender: str = SENDER) -> str:
    socket.send_text(json.dumps({"type": "hello", "sender": sender}))
    return str(socket.receive_json()["token"])


def test_a_photo_uploaded_then_sent_reaches_rasa_and_its_place_only_with_consent(database_url: str) -> None:
    rasa = FakeRasa()
    with gateway(database_url, rasa) as client, client.websocket_connect("/web/ws") as socket:
        token = _hello(socket)
        headers = {"X-Chat-Sender": SENDER, "X-Chat-Token": token, "Content-Type": "image/jpeg"}
        declined = client.post("/web/upload", content=camera_photo(), headers=headers).json()
        agreed = client.post("/web/upload?location=1", content=camera_photo(), headers=headers).json()
        assert declined["location"] is None
        assert agreed["location"] == {"latitude": 36.8151, "longitude": 127.1139}
        socket.send_text(
            json.dumps(
                {"sender": SENDER, "text": "", "image": agreed["image"], "location": agreed["location"]}
            )
        )
        assert socket.receive_json()["type"] == "messages"
        # The page's own place ("내 위치"), without a photo.
        socket.send_text(
            json.dumps({"sender": SENDER, "text": "", "location": {"latitude": 36.8, "longitude": 127.15}})
        )
        assert socket.receive_json()["type"] == "messages"
    assert rasa.received[0]["metadata"] == {
        "channel": "web", "image_url": agreed["image"],
        "location": {"latitude": 36.8151, "longitude": 127.1139},
    }  # fmt: skip
    assert rasa.received[1]["metadata"] == {
        "channel": "web",
        "location": {"latitude": 36.8, "longitude": 127.15},
    }


def test_an_upload_needs_the_conversations_key_and_a_real_picture_of_a_size_taken(database_url: str) -> None:
    with gateway(database_url, FakeRasa(), photo_max_bytes=5000) as client:
        with client.websocket_connect("/web/ws") as socket:
            token = _hello(socket)
        headers = {"X-Chat-Sender": SENDER, "X-Chat-Token": token}
        no_key = client.post("/web/upload", content=camera_photo(), headers={"X-Chat-Sender": SENDER})
        wrong = client.post(
            "/web/upload", content=camera_photo(), headers={**headers, "X-Chat-Token": "0" * 32}
        )
        text = client.post("/web/upload", content=b"%PDF-1.7 not a photo", headers=headers)
        large = client.post("/web/upload", content=b"\xff" * 5001, headers=headers)
        assert (no_key.status_code, wrong.status_code, text.status_code, large.status_code) == (
            403,
            403,
            415,
            413,
        )
        assert text.json() == {"error": PROFILE.messages["web_photo_kind"]}
        assert large.json()["error"] == PROFILE.messages["web_photo_too_big"].replace(
            "{limit}", "0.00476837MB"
        )


def test_a_page_can_send_only_its_own_photo_and_a_real_place(database_url: str) -> None:
    rasa = FakeRasa()
    with gateway(database_url, rasa) as client:
        with client.websocket_connect("/web/ws") as other:
            token = _hello(other, "another-page-0001")
        theirs = client.post(
            "/web/upload",
            content=camera_photo(),
            headers={"X-Chat-Sender": "another-page-0001", "X-Chat-Token": token},
        ).json()["image"]
        with client.websocket_connect("/web/ws") as socket:
            _hello(socket)
            for frame in (
                {"image": theirs}, {"image": "upload:../../minwon.db"}, {"image": "https://evil.example/a.jpg"},
                {"location": {"latitude": 91, "longitude": 127}},
                {"location": {"latitude": "36.8", "longitude": 127}}, {"location": [36.8, 127.1]},
            ):  # fmt: skip
                socket.send_text(json.dumps({"sender": SENDER, "text": "여기요", **frame}))
                assert socket.receive_json()["type"] == "error"
    assert rasa.received == []


def test_the_page_offers_a_photo_and_a_place_in_the_citys_words(database_url: str) -> None:
    with gateway(database_url, FakeRasa()) as client:
        page = client.get("/").text
    assert PROFILE.messages["web_photo_button"] in page and PROFILE.messages["web_location_button"] in page
    assert "{{" not in page and 'data-photo-max="10485760"' in page


def test_messages_sent_while_rasa_was_down_are_answered_when_it_is_back(
    database_url: str, sessions: sessionmaker[Session]
) -> None:
    rasa = FakeRasa(down=True)
    with gateway(database_url, rasa) as client, client.websocket_connect("/web/ws") as socket:
        _hello(socket)
        for text in ("가로등이 꺼졌어요", "쌍용동이에요"):
            socket.send_text(json.dumps({"sender": SENDER, "text": text}))
            assert socket.receive_json()["messages"][0]["text"] == PROFILE.messages["rasa_down"]
        catch_up = client.app.state.router.catch_up  # type: ignore[attr-defined]
        assert client.portal.call(catch_up) == 0  # still down: nothing lost, nothing sent  # type: ignore[union-attr]
        rasa.down = False
        assert client.portal.call(catch_up) == 2  # type: ignore[union-attr]
        pushed = [m["text"] for m in socket.receive_json()["messages"]]
        assert pushed == [
            PROFILE.messages["rasa_back"],
            "받았어요: 가로등이 꺼졌어요",
            "받았어요: 쌍용동이에요",
        ]
        assert client.portal.call(catch_up) == 0  # once  # type: ignore[union-attr]
    assert [r["message"] for r in rasa.received] == ["가로등이 꺼졌어요", "쌍용동이에요"]
    assert all(answered for direction, _, answered in stored(sessions) if direction == "in")
