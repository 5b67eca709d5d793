"""소통라이브 in the console: sessions, the ranking, moderation, answers, the CSV and the public page."""

from __future__ import annotations

import csv
import datetime as dt
import io
import logging
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from bot.store import live
from bot.store.agents import add_agent
from bot.store.models import utcnow
from tests.bot.channels.helpers import FakeRasa, gateway
from tests.bot.handoff.test_console import login

DAY = dt.timedelta(days=1)
SESSION = {
    "title": "2026 겨울 소통라이브", "opens_at": "2026-12-01T09:00", "closes_at": "2026-12-09T18:00",
    "airs_at": "2026-12-10T19:00+09:00", "stream_url": "https://www.youtube.com/@cheonan/live",
}  # fmt: skip
QUESTIONS = [  # (who asks, what, 읍·면·동, topic)
    ("web-asker-0001", "33번 버스 배차 간격이 너무 길어요. 출퇴근 때 늘려 주세요.", "성정1동", "traffic"),
    ("web-asker-0002", "쌍용동 공원에 밤에 가로등이 꺼져 있어 무서워요.", "쌍용2동", "environment"),
    ("web-asker-0003", '=HYPERLINK("https://x.example") 도서관 <b>주말</b> 운영', None, "culture"),
    ("web-asker-0004", "전통시장 주차장이 부족해서 장 보기가 힘들어요.", "중앙동", "economy"),
]  # fmt: skip


def _session(sessions: sessionmaker[Session], *, aired: bool) -> tuple[int, list[int]]:
    """Store a session with QUESTIONS (asked while it was open) and 공감: the second question is agreed
    with most; return its id and the questions' ids."""
    now = utcnow()
    opens, closes, airs = (
        (now - 3 * DAY, now - 2 * DAY, now - DAY) if aired else (now - DAY, now + DAY, now + 2 * DAY)
    )
    asked = opens + dt.timedelta(hours=1)
    with sessions.begin() as session:
        made = live.add_session(
            session, title="천안시장과 함께하는 소통라이브", opens_at=opens, closes_at=closes, airs_at=airs,
            stream_url="https://www.youtube.com/@cheonan/live", by="staff:test",
        )  # fmt: skip
        ids = []
        for sender, text, district, topic in QUESTIONS:
            found = live.add_question(
                session, session_id=made, channel="web", sender=sender, text=text, district=district,
                topic=topic, most=3, now=asked,
            )  # fmt: skip
            assert found is not None and not found[1]  # none alike: each its own group
            ids.append(found[0].id)
        for voter in ("web-voter-0001", "web-voter-0002"):
            live.vote(session, question_id=ids[1], channel="web", sender=voter, now=asked)
        live.vote(session, question_id=ids[0], channel="web", sender="web-voter-0001", now=asked)
    return made, ids


@pytest.fixture
def staff(sessions: sessionmaker[Session], database_url: str) -> Any:
    with sessions.begin() as session:
        add_agent(session, "소통담당", "a-long-password", "staff", "홍보담당관")
        add_agent(session, "김상담", "a-long-password", "agent")
    with gateway(database_url, FakeRasa()) as client:
        yield client


def test_staff_make_sessions_agents_only_look_and_bad_ones_are_refused(staff: TestClient) -> None:
    client = staff
    assert client.get("/agent/api/live").status_code == 401
    agent = login(client, "김상담")
    assert client.get("/agent/api/live").json() == {"sessions": [], "can_manage": False}
    assert client.post("/agent/api/live/sessions", json=SESSION, headers=agent).status_code == 403
    assert (
        client.post("/agent/api/live/questions/1/hide", json={"reason": "욕설"}, headers=agent).status_code
        == 403
    )
    client.post("/agent/api/logout", headers=agent)

    headers = login(client, "소통담당")
    bad = [
        {**SESSION, "title": ""},
        {**SESSION, "title": ["제목"]},
        {**SESSION, "opens_at": "내일 아침"},
        {**SESSION, "opens_at": None},
        {**SESSION, "closes_at": "2026-11-30T18:00"},  # closes before it opens
        {**SESSION, "airs_at": "9999-12-31T23:59-23:00"},  # no such time in UTC
        {**SESSION, "stream_url": "http://www.youtube.com/@cheonan/live"},
        {**SESSION, "stream_url": "javascript:alert(1)"},
        [1, 2],
    ]
    for body in bad:
        response = client.post("/agent/api/live/sessions", json=body, headers=headers)
        assert response.status_code == 400, body
        assert response.json()["error"]
    assert client.post("/agent/api/live/sessions", content=b"{", headers=headers).status_code == 400
    # Read like every console body: capped before it is read, nesting bounded.
    huge = client.post("/agent/api/live/sessions", content=b"[" * (2 << 20), headers=headers)
    assert huge.status_code == 413
    deep = client.post("/agent/api/live/sessions", content=b"[" * 5000 + b"]" * 5000, headers=headers)
    assert deep.status_code == 400
    made = client.post("/agent/api/live/sessions", json=SESSION, headers=headers)
    assert made.status_code == 201
    overview = client.get("/agent/api/live").json()
    assert overview["can_manage"] is True
    [found] = overview["sessions"]
    # A datetime-local time is the city's (Seoul), a time with a zone keeps it.
    assert (found["id"], found["title"]) == (made.json()["id"], "2026 겨울 소통라이브")
    assert dt.datetime.fromisoformat(found["opens_at"]) == dt.datetime(2026, 12, 1, tzinfo=dt.timezone.utc)
    assert dt.datetime.fromisoformat(found["airs_at"]) == dt.datetime(
        2026, 12, 10, 10, tzinfo=dt.timezone.utc
    )


def test_staff_rank_hide_group_and_answer_and_each_change_is_audited(
    staff: TestClient, sessions: sessionmaker[Session], caplog: pytest.LogCaptureFixture
) -> None:
    client = staff
    made, ids = _session(sessions, aired=False)
    agent = login(client, "김상담")
    ranked = client.get(f"/agent/api/live/{made}/questions")  # agents look
    assert ranked.status_code == 200
    groups = ranked.json()["groups"]
    assert [g["group"] for g in groups[:2]] == [ids[1], ids[0]]  # 3 supporters, then 2
    assert (groups[0]["supporters"], groups[0]["votes"], groups[0]["topic_title"]) == (3, 2, "환경·안전")
    assert groups[0]["questions"][0]["topic_title"] == "환경·안전" and groups[0]["district"] == "쌍용2동"
    assert "web-asker" not in ranked.text and "web-voter" not in ranked.text
    assert (
        client.post(
            f"/agent/api/live/questions/{ids[0]}/answer", json={"text": "네"}, headers=agent
        ).status_code
        == 403
    )
    client.post("/agent/api/logout", headers=agent)

    headers = login(client, "소통담당")

    def post(question: int | str, action: str, body: Any) -> Any:
        return client.post(f"/agent/api/live/questions/{question}/{action}", json=body, headers=headers)

    caplog.set_level(logging.INFO, logger="bot.live.console")
    assert post(ids[2], "hide", {}).status_code == 400  # say why
    assert post(ids[2], "hide", {"reason": "   "}).status_code == 400
    assert post(ids[2], "hide", {"reason": "개인정보가 들어 있어요"}).status_code == 200
    assert post(ids[3], "hide", {"reason": "욕설"}).status_code == 200
    assert post(ids[3], "show", {}).status_code == 200
    by_id = {
        q["id"]: q
        for g in client.get(f"/agent/api/live/{made}/questions").json()["groups"]
        for q in g["questions"]
    }
    assert (by_id[ids[2]]["status"], by_id[ids[2]]["hidden_reason"]) == ("hidden", "개인정보가 들어 있어요")
    assert (by_id[ids[3]]["status"], by_id[ids[3]]["hidden_reason"]) == ("open", None)

    # 묶기: the fourth question joins the first one's group; 따로 두기 takes it out again.
    assert post(ids[3], "regroup", {"into": ids[0]}).status_code == 200
    groups = client.get(f"/agent/api/live/{made}/questions").json()["groups"]
    first = next(g for g in groups if g["group"] == ids[0])
    assert [q["id"] for q in first["questions"]] == [ids[0], ids[3]] and first["supporters"] == 3
    for into in ("3", 0, -1, 2**40, True, ids[3]):
        assert post(ids[3], "regroup", {"into": into}).status_code == 400, into
    assert post(ids[3], "regroup", {}).status_code == 400  # say into what (or null)
    assert post(ids[3], "regroup", {"into": None}).status_code == 200
    assert post(ids[3], "regroup", {"into": ids[0]}).status_code == 200

    # 답변: a question's answer is its group's.
    assert post(ids[3], "answer", {"text": ""}).status_code == 400
    assert post(ids[3], "answer", {"text": "늘려요", "url": "http://youtu.be/x"}).status_code == 400
    link = "https://youtu.be/cheonan-live?t=1234"
    answered = post(ids[3], "answer", {"text": "출퇴근 시간에 33번을 두 대 늘려요.", "url": link})
    assert answered.status_code == 200
    first = next(
        g for g in client.get(f"/agent/api/live/{made}/questions").json()["groups"] if g["group"] == ids[0]
    )
    assert (first["answer"], first["answer_url"]) == ("출퇴근 시간에 33번을 두 대 늘려요.", link)

    # No such question, action or session; ids no row could have.
    assert post(999999, "hide", {"reason": "욕설"}).status_code == 404
    assert post(999999, "regroup", {"into": ids[0]}).status_code == 404
    assert post(999999, "answer", {"text": "네"}).status_code == 404
    assert post(2**40, "hide", {"reason": "욕설"}).status_code == 404
    assert post(ids[0], "delete", {}).status_code == 404
    for bad in ("x", "9" * 5000, "-1", "²"):
        assert post(bad, "hide", {"reason": "욕설"}).status_code == 404, bad
    assert client.get("/agent/api/live/999999/questions").status_code == 404
    assert client.get(f"/agent/api/live/{2**40}/questions").status_code == 404
    assert client.get(f"/agent/api/live/{'9' * 5000}/questions.csv").status_code == 404
    huge = client.post(
        f"/agent/api/live/questions/{ids[0]}/answer", content=b"[" * (2 << 20), headers=headers
    )
    assert huge.status_code == 413
    deep = client.post(
        f"/agent/api/live/questions/{ids[0]}/answer", content=b"[" * 5000 + b"]" * 5000, headers=headers
    )
    assert deep.status_code == 400

    audit = [r.getMessage() for r in caplog.records if r.name == "bot.live.console"]
    assert f"live question {ids[2]}: hide by staff:소통담당" in audit
    assert f"live question {ids[3]}: answer by staff:소통담당" in audit
    assert not any(text[:10] in line for line in audit for _, text, _, _ in QUESTIONS)
    assert not any("개인정보가" in line for line in audit)  # nor the reason


def test_the_csv_is_the_ranking_for_the_broadcast_without_hidden_questions(
    staff: TestClient, sessions: sessionmaker[Session]
) -> None:
    client = staff
    made, ids = _session(sessions, aired=False)
    with sessions.begin() as session:
        live.regroup(session, question_id=ids[3], into=ids[0])
        live.hide(session, question_id=ids[1], reason="개인정보", by="staff:test")
        live.answer(
            session, question_id=ids[0], text="두 대 늘려요.", url="https://youtu.be/x?t=9", by="staff:test"
        )
    assert client.get(f"/agent/api/live/{made}/questions.csv").status_code == 401
    login(client, "김상담")  # agents take the list too
    response = client.get(f"/agent/api/live/{made}/questions.csv")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"] == f'attachment; filename="live-{made}-questions.csv"'
    assert response.content.startswith(b"\xef\xbb\xbf")  # Excel reads it as UTF-8
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == [
        "순위",
        "공감한 사람",
        "공감",
        "분야",
        "읍·면·동",
        "질문",
        "같이 묶인 질문",
        "답변",
        "답변 링크",
    ]
    assert rows[1] == [
        "1", "3", "1", "교통·주차", "성정1동", QUESTIONS[0][1], QUESTIONS[3][1], "두 대 늘려요.", "https://youtu.be/x?t=9",
    ]  # fmt: skip
    # A question that reads like a formula stays text in a spreadsheet.
    assert rows[2][:7] == ["2", "1", "0", "문화·관광·체육", "", "'" + QUESTIONS[2][1], ""]
    assert len(rows) == 3 and QUESTIONS[1][1] not in response.text
    assert client.get("/agent/api/live/999999/questions.csv").status_code == 404


def test_the_public_page_shows_open_questions_and_answers_once_aired(
    staff: TestClient, sessions: sessionmaker[Session]
) -> None:
    client = staff
    aired, ids = _session(sessions, aired=True)
    coming, later = _session(sessions, aired=False)
    with sessions.begin() as session:
        live.hide(session, question_id=ids[3], reason="욕설", by="staff:test")
        live.regroup(session, question_id=ids[2], into=ids[1])  # shown under it, its asker adds up
        for question in (ids[1], later[1]):
            live.answer(
                session,
                question_id=question,
                text="가로등을 LED로 바꿔요.",
                url="https://youtu.be/x?t=9&a=1",
                by="s",
            )
        live.withdraw(session, question_id=ids[0], channel="web", sender="web-asker-0001")
    page = client.get(f"/live/{aired}")  # no login
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    text = page.text
    assert "천안시장과 함께하는 소통라이브" in text and 'href="https://www.youtube.com/@cheonan/live"' in text
    assert QUESTIONS[1][1] in text and "4명이 함께하는 질문 · 환경·안전 · 쌍용2동" in text
    assert "<summary>비슷한 질문</summary><ul><li>=HYPERLINK(&quot;" in text
    assert "가로등을 LED로 바꿔요." in text and 'href="https://youtu.be/x?t=9&amp;a=1"' in text
    assert QUESTIONS[3][1] not in text and "욕설" not in text  # hidden
    assert QUESTIONS[0][1] not in text  # withdrawn
    assert "web-asker" not in text and "web-voter" not in text
    assert "&lt;b&gt;주말&lt;/b&gt;" in text and "<b>" not in text
    assert "<script" not in text  # the gateway's CSP allows no inline script
    # While it takes questions none is public yet (staff review them once the window has closed).
    before = client.get(f"/live/{coming}").text
    assert QUESTIONS[1][1] not in before and "가로등을 LED로 바꿔요." not in before
    assert "지금 질문을 받고 있어요." in before
    for missing in ("/live/999999", f"/live/{2**40}", "/live/" + "9" * 5000, "/live/x", "/live/²"):
        gone = client.get(missing)
        assert gone.status_code == 404 and "찾으시는 소통라이브가 없어요." in gone.text
