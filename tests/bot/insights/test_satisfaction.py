"""만족도 조사: asked once after a resolved ticket or a closed chat, in the daytime; answered with a button
and perhaps a comment, which never reach Rasa."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from bot.insights import satisfaction as satisfaction_module
from bot.privacy import sign
from bot.store.agents import add_agent
from bot.store.models import OutboxItem, Survey
from bot.store.surveys import answer_survey, due_surveys, plan_survey, scores
from bot.store.tickets import file_ticket
from tests.bot.channels.helpers import SECRET, FakeRasa, gateway
from tests.bot.channels.test_kakao import skill_request
from tests.bot.handoff.test_console import login

CITIZEN = "survey-page-0001"
KST = dt.timezone(dt.timedelta(hours=9))
# Tomorrow (surveys are asked from half an hour after they are planned, every day of the week).
TOMORROW = dt.datetime.now(KST).date() + dt.timedelta(days=1)
NOON = dt.datetime.combine(TOMORROW, dt.time(12), tzinfo=KST)
NIGHT = dt.datetime.combine(TOMORROW, dt.time(23), tzinfo=KST)


@pytest.fixture
def resolved(sessions: sessionmaker[Session], database_url: str) -> tuple[TestClient, FakeRasa, str]:
    """A web citizen's ticket, resolved by 건설도로과's staff through the workspace."""
    with sessions.begin() as session:
        add_agent(session, "도로담당", "a-long-password", "staff", "건설도로과")
        number = file_ticket(
            session, category="streetlight", department="건설도로과", description="가로등이 꺼졌어요",
            channel="web", sender=CITIZEN, note="접수했어요.",
        ).number  # fmt: skip
    rasa = FakeRasa()
    with gateway(database_url, rasa) as client:
        csrf = login(client, "도로담당")
        done = {"status": "resolved", "note": "전구를 교체했어요."}
        for _ in range(2):  # resolved twice: asked once
            client.post(f"/agent/api/tickets/{number}/status", json=done, headers=csrf)
        yield client, rasa, number


def ask(client: TestClient, at: dt.datetime, monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setattr(satisfaction_module, "utcnow", lambda: at)
    return int(client.portal.call(client.app.state.satisfaction.ask_due))  # type: ignore[attr-defined]


def survey_rows(sessions: sessionmaker[Session]) -> list[Survey]:
    with sessions() as session:
        return list(session.scalars(select(Survey)))


def press(socket: Any, text: str, payload: str | None = None) -> list[dict[str, Any]]:
    socket.send_text(
        json.dumps({"sender": CITIZEN, "text": text, **({"payload": payload} if payload else {})})
    )
    while True:
        frame = socket.receive_json()
        if frame["type"] == "messages":
            return list(frame["messages"])


def test_a_resolved_ticket_is_asked_about_once_in_the_daytime_and_the_answer_is_kept(
    resolved: tuple[TestClient, FakeRasa, str],
    sessions: sessionmaker[Session],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    client, rasa, number = resolved
    [survey] = survey_rows(sessions)
    assert (survey.kind, survey.ref, survey.department, survey.asked_at) == (
        "ticket",
        number,
        "건설도로과",
        None,
    )
    assert ask(client, NIGHT.astimezone(dt.timezone.utc), monkeypatch) == 0  # none at night
    assert ask(client, NOON.astimezone(dt.timezone.utc), monkeypatch) == 1
    assert ask(client, NOON.astimezone(dt.timezone.utc), monkeypatch) == 0  # never twice
    with sessions() as session:  # no page open: the question waits in the outbox with the news
        waiting = [
            json.loads(o.data)[0]
            for o in session.scalars(select(OutboxItem).where(OutboxItem.sender == CITIZEN))
        ]
    question = waiting[-1]
    assert question["text"].startswith(f"민원 {number} 처리는 만족스러우셨나요?")
    assert [b["payload"] for b in question["buttons"]] == [f"survey:{survey.id}:{n}" for n in (5, 4, 3, 2, 1)]

    before = len(rasa.received)
    with client.websocket_connect("/web/ws") as socket:
        socket.send_text(json.dumps({"type": "hello", "sender": CITIZEN, "token": sign(CITIZEN)}))
        kept = socket.receive_json()["messages"]  # the page opens: what waited comes first
        assert [m["text"] for m in kept][-1] == question["text"]
        thanks = press(socket, "4점", f"survey:{survey.id}:4")
        assert thanks[-1]["text"].startswith("4점, 고마워요.")
        assert thanks[-1]["buttons"] == [{"title": "괜찮아요", "payload": f"survey:{survey.id}:none"}]
        said = press(socket, "밤에도 밝아서 좋아요. 연락은 010-1234-5678로 주세요")
        assert said[-1]["text"] == "의견 고마워요. 더 나은 서비스에 꼭 반영할게요."
        again = press(socket, "5점", f"survey:{survey.id}:5")
        assert again[-1]["text"] == "이미 답해 주셨어요. 고마워요."
        press(socket, "가로등 또 고장났어요")  # the next message is the bot's again
    assert [m["message"] for m in rasa.received[before:]] == ["가로등 또 고장났어요"]
    [survey] = survey_rows(sessions)
    assert survey.score == 4 and survey.comment is not None
    assert "1234-5678" not in survey.comment and survey.comment.startswith("밤에도 밝아서 좋아요.")


def test_someone_elses_survey_cannot_be_answered(
    resolved: tuple[TestClient, FakeRasa, str],
    sessions: sessionmaker[Session],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    client, _, _ = resolved
    ask(client, NOON.astimezone(dt.timezone.utc), monkeypatch)
    [survey] = survey_rows(sessions)
    other = "survey-page-0002"
    with client.websocket_connect("/web/ws") as socket:
        socket.send_text(json.dumps({"type": "hello", "sender": other}))
        socket.receive_json()  # its session key
        socket.send_text(json.dumps({"sender": other, "text": "1점", "payload": f"survey:{survey.id}:1"}))
        frame = socket.receive_json()
    assert frame["messages"][-1]["text"] == "이미 답해 주셨어요. 고마워요."
    assert survey_rows(sessions)[0].score is None


def test_scores_are_averaged_per_department_and_per_agent(sessions: sessionmaker[Session]) -> None:
    answers = {"2026-000001": 5, "2026-000002": 2, "7": 4}  # two tickets of 건설도로과, one chat of 김상담
    with sessions.begin() as session:
        agent = add_agent(session, "김상담", "a-long-password")
        for ref in answers:
            chat = ref == "7"
            plan_survey(
                session, kind="handoff" if chat else "ticket", ref=ref, channel="kakao", sender="k1",
                department=None if chat else "건설도로과", agent_id=agent if chat else None,
            )  # fmt: skip
        for survey in session.scalars(select(Survey)):
            survey.asked_at = dt.datetime.now(dt.timezone.utc)
            session.flush()
            kept = answer_survey(
                session, survey_id=survey.id, channel="kakao", sender="k1", score=answers[survey.ref]
            )
            assert kept
        assert not plan_survey(session, kind="ticket", ref="2026-000001", channel="kakao", sender="k1")
    now = dt.datetime.now(dt.timezone.utc)
    with sessions() as session:
        found = scores(session, since=now - dt.timedelta(days=1), until=now + dt.timedelta(minutes=1))
    assert found == {
        "by_department": [{"department": "건설도로과", "mean": 3.5, "answers": 2}],
        "by_agent": [{"agent": "김상담", "mean": 4.0, "answers": 1}],
    }


def test_on_kakao_the_question_comes_with_the_next_answer_and_a_press_is_kept(
    sessions: sessionmaker[Session], database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = "kakao-user-77"
    with sessions.begin() as session:
        plan_survey(
            session, kind="ticket", ref="2026-000009", channel="kakao", sender=user, department="건설도로과"
        )
    rasa = FakeRasa()
    with gateway(database_url, rasa) as client:
        assert ask(client, NOON.astimezone(dt.timezone.utc), monkeypatch) == 1
        url = f"/kakao/skill?secret={SECRET}"
        answer = client.post(url, json=skill_request("안녕하세요", user=user)).json()["template"]
        [reply] = [r for r in answer["quickReplies"] if r["label"] == "4점"]
        assert reply["extra"]["payload"].endswith(":4")
        action = {
            "id": "act",
            "name": "skill",
            "params": {},
            "detailParams": {},
            "clientExtra": reply["extra"],
        }
        pressed = skill_request(reply["messageText"], user=user, action=action)
        thanks = client.post(url, json=pressed).json()["template"]["outputs"][0]["simpleText"]["text"]
    assert thanks.startswith("4점, 고마워요.")
    assert [survey.score for survey in survey_rows(sessions)] == [4]
    assert [m["message"] for m in rasa.received] == ["안녕하세요"]  # the press never reached Rasa


def test_a_survey_is_not_asked_on_the_heels_of_the_news(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        plan_survey(session, kind="handoff", ref="9", channel="web", sender="w1")
        planned = session.scalars(select(Survey)).one().created_at
    planned = planned if planned.tzinfo else planned.replace(tzinfo=dt.timezone.utc)
    with sessions() as session:
        assert due_surveys(session, now=planned + dt.timedelta(minutes=5)) == []
        assert [s.ref for s in due_surveys(session, now=planned + dt.timedelta(minutes=31))] == ["9"]
        assert due_surveys(session, now=planned + dt.timedelta(days=4)) == []  # too late: dropped
