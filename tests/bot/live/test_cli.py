"""python -m bot.live: a session added in the city's time, its questions ranked as JSON, hiding, answering."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy.orm import Session, sessionmaker

from bot.live.__main__ import main
from bot.store import live

KST = dt.timezone(dt.timedelta(hours=9))


@pytest.fixture
def database(database_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("DATABASE_URL", database_url)
    return database_url


def test_a_session_is_added_its_questions_ranked_hidden_and_answered(
    database: str, sessions: sessionmaker[Session], capsys: pytest.CaptureFixture[str]
) -> None:
    times = ["--opens", "2026-12-01 09:00", "--closes", "2026-12-09 18:00", "--airs", "2026-12-10 19:00"]
    url = ["--url", "https://www.youtube.com/@cheonan/live"]
    assert main(["add", "--title", "2026 겨울 소통라이브", *times, *url]) == 0
    assert (
        main(
            ["add", "--title", "거꾸로", *times[:2], "--closes", "2026-11-01 09:00", times[4], times[5], *url]
        )
        == 2
    )
    assert main(["add", "--title", "x", *times[:4], "--airs", "내일 저녁", *url]) == 2
    assert capsys.readouterr().out.startswith("소통라이브 ")
    assert main(["list", "--json"]) == 0
    [made] = json.loads(capsys.readouterr().out)
    assert made["opens_at"] == "2026-12-01T00:00:00+00:00"  # 09:00 in the city is 00:00 UTC
    sid = made["id"]
    inside = dt.datetime(2026, 12, 5, 12, 0, tzinfo=KST)
    with sessions.begin() as s:
        ids = []
        for sender, text in (("a", "불당동 도서관 주말에도 열어 주세요"), ("b", "욕설이 섞인 질문이에요")):
            added = live.add_question(
                s, session_id=sid, channel="web", sender=sender, text=text, district=None, topic="culture",
                most=3, now=inside,
            )  # fmt: skip
            assert added is not None
            ids.append(added[0].id)
        live.vote(s, question_id=ids[0], channel="web", sender="c", now=inside)
    assert main(["hide", str(ids[1])]) == 2  # no reason
    assert main(["hide", str(ids[1]), "--reason", "욕설이 들어 있어요"]) == 0
    assert main(["answer", str(ids[0]), "--text", "주말에도 열어요.", "--url", "http://plain.example"]) == 2
    assert main(["answer", str(ids[0]), "--text", "내년부터 주말에도 열어요."]) == 0
    assert main(["answer", "999999", "--text", "없는 질문"]) == 1
    assert main(["questions", "999999"]) == 1
    capsys.readouterr()
    assert main(["questions", str(sid), "--json"]) == 0
    ranked = json.loads(capsys.readouterr().out)
    assert [(g["supporters"], g["topic_title"], g["answer"]) for g in ranked] == [
        (2, "문화·관광·체육", "내년부터 주말에도 열어요.")
    ]
    assert "sender" not in json.dumps(ranked)
