"""What no client may do: make the gateway answer 5xx, drop a socket, or lose a message it said it kept.

Each case comes from a fuzz run: Kakao `action.params` that is not an object, JSON nested past Python's
recursion limit, lone surrogates and NUL characters (unstorable as UTF-8 and on PostgreSQL), binary
web-socket frames; and a citizen told "저장해 두었어요" while the database was down.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from bot.bodies import MAX_DEPTH, clean_text, parse_json
from tests.bot.channels.helpers import SECRET, FakeRasa, gateway, stored

SENDER = "3f2a9c1e-77aa-4c1b-9a51-0c8e2d1f4b6a"


def kakao(utterance: str, **action: Any) -> dict[str, Any]:
    return {
        "userRequest": {"utterance": utterance, "user": {"id": "kakao-user-1"}},
        "action": {"params": {}, **action},
        "bot": {"id": "bot"},
    }


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.mark.parametrize(
    "body",
    [
        json.dumps(kakao("가로등", params=["not", "a", "dict"])),
        json.dumps(kakao("가로등", params="latitude")),
        json.dumps(kakao("가로등", params={"latitude": [], "longitude": {}})),
        '{"userRequest": ' + nested(5000) + "}",
        json.dumps(kakao("가로등 \ud800 고장 \x00")),  # a lone surrogate and a NUL, as JSON escapes
        b"\xff\xfe not utf-8",
    ],
)
def test_kakao_gets_an_answer_never_a_server_error(
    database_url: str, sessions: sessionmaker[Session], body: str | bytes
) -> None:
    with gateway(database_url, FakeRasa()) as client:
        response = client.post(
            "/kakao/skill",
            content=body,
            headers={"X-Kakao-Skill-Secret": SECRET, "Content-Type": "application/json"},
        )
    assert response.status_code == 200, response.text
    assert response.json()["version"] == "2.0"
    for _, text, _ in stored(sessions):
        assert "\x00" not in text and "\ud800" not in text


def test_a_surrogate_and_a_nul_are_stored_replaced_and_answered(
    database_url: str, sessions: sessionmaker[Session]
) -> None:
    rasa = FakeRasa()
    with gateway(database_url, rasa) as client, client.websocket_connect("/web/ws") as socket:
        socket.send_text(json.dumps({"sender": SENDER, "text": "가로등 \ud800 고장\x00이요"}))
        assert socket.receive_json()["type"] == "messages"
    assert rasa.received[0]["message"] == "가로등 \ufffd 고장이요"
    assert ("in", "가로등 \ufffd 고장이요", True) in stored(sessions)


def test_binary_frames_and_deep_nesting_keep_the_socket_open(database_url: str) -> None:
    with gateway(database_url, FakeRasa()) as client, client.websocket_connect("/web/ws") as socket:
        socket.send_bytes(b"\x00\x01binary")
        assert socket.receive_json()["type"] == "error"
        socket.send_text(nested(5000))
        assert socket.receive_json()["type"] == "error"
        socket.send_text(json.dumps({"sender": SENDER, "text": "안녕하세요"}))
        assert socket.receive_json()["type"] == "messages"  # the same socket still answers


def test_the_console_refuses_deep_nesting_with_400(database_url: str) -> None:
    with gateway(database_url, FakeRasa()) as client:
        response = client.post(
            "/agent/api/login", content=nested(5000), headers={"Content-Type": "application/json"}
        )
    assert response.status_code == 400


def test_json_is_read_clean_and_bounded() -> None:
    assert parse_json('{"a\\ud800": ["\\u0000x\\udfff"]}') == {"a\ufffd": ["x\ufffd"]}
    assert parse_json(nested(MAX_DEPTH)) is not None
    with pytest.raises(ValueError):
        parse_json(nested(MAX_DEPTH + 2))
    with pytest.raises(ValueError):
        parse_json(nested(100_000))
    assert clean_text("줄\n바꿈\t탭") == "줄\n바꿈\t탭"
    for constant in ("NaN", "Infinity", "-Infinity"):
        with pytest.raises(ValueError):
            parse_json('{"date": ' + constant + "}")


def test_a_citizen_is_not_told_a_message_was_kept_when_it_was_not(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot import transcript as transcript_module

    def broken(*args: Any, **kwargs: Any) -> int:
        from sqlalchemy.exc import OperationalError

        raise OperationalError("INSERT", {}, Exception("database down"))

    monkeypatch.setattr(transcript_module, "record_message", broken)
    with gateway(database_url, FakeRasa(down=True)) as client, client.websocket_connect("/web/ws") as socket:
        socket.send_text(json.dumps({"sender": SENDER, "text": "안녕하세요"}))
        [message] = socket.receive_json()["messages"]
    assert "저장해 두었어요" not in message["text"] and "다시 보내 주세요" in message["text"]
