"""소통라이브 in the database: the window, one vote per citizen, questions alike grouped so that their
support adds up, moderation, and reminders and answers claimed once."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.orm import Session, sessionmaker

from bot.store import live

UTC = dt.timezone.utc
NOW = dt.datetime(2026, 12, 7, 3, 0, tzinfo=UTC)


def _session(s: Session, **times: dt.datetime) -> int:
    when = {
        "opens_at": NOW - dt.timedelta(days=1), "closes_at": NOW + dt.timedelta(days=1),
        "airs_at": NOW + dt.timedelta(days=2), **times,
    }  # fmt: skip
    return live.add_session(
        s,
        title="2026 겨울 소통라이브",
        stream_url="https://www.youtube.com/@cheonan/live",
        by="홍보팀",
        **when,
    )


def _ask(s: Session, session_id: int, sender: str, text: str, topic: str = "traffic") -> live.QuestionView:
    added = live.add_question(
        s, session_id=session_id, channel="web", sender=sender, text=text, district=None, topic=topic,
        most=3, now=NOW,
    )  # fmt: skip
    assert added is not None
    return added[0]


def test_a_session_is_checked_when_added(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as s:
        with pytest.raises(ValueError, match="close"):
            _session(s, closes_at=NOW - dt.timedelta(days=2))
        with pytest.raises(ValueError, match="https"):
            live.add_session(
                s, title="소통라이브", opens_at=NOW, closes_at=NOW + dt.timedelta(hours=1),
                airs_at=NOW + dt.timedelta(hours=2), stream_url="javascript:alert(1)", by="홍보팀",
            )  # fmt: skip
        with pytest.raises(ValueError, match="zone"):
            _session(s, airs_at=dt.datetime(2026, 12, 10, 19, 0))


def test_questions_alike_are_one_group_whose_support_adds_up_and_each_citizen_counts_once(
    sessions: sessionmaker[Session],
) -> None:
    with sessions.begin() as s:
        sid = _session(s)
        bus = _ask(s, sid, "a", "성정동에서 시청 가는 버스 배차 간격이 너무 길어요. 늘려 주실 수 있나요?")
        same = _ask(s, sid, "b", "시청 가는 버스 배차 간격이 너무 길어서 불편해요 늘려 주세요")
        other = _ask(s, sid, "c", "쌍용동 도서관 주말 운영 시간을 늘려 주세요", topic="culture")
        assert (same.group, other.group) == (bus.id, other.id)
        # One vote per citizen per question; agreeing with both wordings counts the citizen once.
        assert live.vote(s, question_id=bus.id, channel="web", sender="d", now=NOW) == (True, 3)
        assert live.vote(s, question_id=bus.id, channel="web", sender="d", now=NOW) == (False, 3)
        assert live.vote(s, question_id=same.id, channel="web", sender="d", now=NOW) == (True, 3)
        assert live.vote(s, question_id=other.id, channel="web", sender="c", now=NOW) is None  # one's own
        ranked = live.ranking(s, session_id=sid)
        assert [(g["group"], g["supporters"], g["votes"]) for g in ranked] == [
            (bus.id, 3, 2),
            (other.id, 1, 0),
        ]
        assert [q["id"] for q in ranked[0]["questions"]] == [bus.id, same.id]
        # Shown to agree with: not one's own group, nor one agreed with already.
        assert [q.id for q in live.open_questions_for(s, session_id=sid, channel="web", sender="d")] == [
            other.id
        ]
        assert [q.id for q in live.open_questions_for(s, session_id=sid, channel="web", sender="c")] == [
            bus.id
        ]


def test_the_window_the_limit_withdrawing_and_hiding(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as s:
        sid = _session(s)
        closed = _session(s, opens_at=NOW - dt.timedelta(days=3), closes_at=NOW - dt.timedelta(hours=1))
        with pytest.raises(live.Closed):
            _ask(s, closed, "a", "마감된 뒤에 남기는 질문이에요")
        texts = [
            "공원 화장실을 밤에도 열어 주세요",
            "어린이집 대기가 너무 길어요",
            "전통시장 주차장은 언제 생기나요",
        ]
        asked = [_ask(s, sid, "a", text) for text in texts]
        assert len({q.group for q in asked}) == 3
        assert (
            live.add_question(
                s,
                session_id=sid,
                channel="web",
                sender="a",
                text="네 번째 질문",
                district=None,
                topic="other",
                most=3,
                now=NOW,
            )  # fmt: skip
            is None
        )
        assert live.withdraw(s, question_id=asked[0].id, channel="web", sender="b") is False  # not theirs
        assert live.withdraw(s, question_id=asked[0].id, channel="web", sender="a") is True
        with pytest.raises(ValueError, match="why"):
            live.hide(s, question_id=asked[1].id, reason=" ", by="staff:홍보팀")
        assert live.hide(s, question_id=asked[1].id, reason="욕설이 들어 있어요", by="staff:홍보팀")
        assert [g["group"] for g in live.ranking(s, session_id=sid)] == [asked[2].id]
        staff_view = {
            q["id"]: q for g in live.ranking(s, session_id=sid, hidden=True) for q in g["questions"]
        }
        assert staff_view[asked[1].id]["hidden_reason"] == "욕설이 들어 있어요"
        assert staff_view[asked[0].id]["status"] == "withdrawn"
        assert live.vote(s, question_id=asked[1].id, channel="web", sender="z", now=NOW) is None  # hidden
        with pytest.raises(live.Closed):
            live.vote(s, question_id=asked[2].id, channel="web", sender="z", now=NOW + dt.timedelta(days=5))


def test_the_reminder_and_each_answer_are_claimed_once_and_go_to_those_who_said_yes(
    sessions: sessionmaker[Session],
) -> None:
    airs = NOW + dt.timedelta(minutes=20)
    with sessions.begin() as s:
        sid = _session(s, closes_at=NOW + dt.timedelta(minutes=1), airs_at=airs)
        bus = _ask(s, sid, "asker", "버스 배차 간격을 줄여 주세요 너무 오래 기다려요", topic="traffic")
        live.add_question(
            s, session_id=sid, channel="web", sender="silent", text="버스 배차 간격 줄여 주세요",
            district=None, topic="traffic", most=3, now=NOW - dt.timedelta(hours=1),
        )  # fmt: skip
        live.vote(s, question_id=bus.id, channel="kakao", sender="agreer", now=NOW - dt.timedelta(hours=1))
        for channel, sender in (("web", "asker"), ("kakao", "agreer"), ("web", "bystander")):
            live.follow(s, session_id=sid, channel=channel, sender=sender)
        assert live.remind_due(s, before=dt.timedelta(minutes=10), now=NOW) == []  # not yet
        [(view, people)] = live.remind_due(s, before=dt.timedelta(minutes=30), now=NOW)
        assert view.id == sid and set(people) == {("web", "asker"), ("kakao", "agreer"), ("web", "bystander")}
        assert live.remind_due(s, before=dt.timedelta(minutes=30), now=NOW) == []  # once
        assert live.answer(
            s, question_id=bus.id, text="내년 1월부터 배차를 12분으로 줄여요.", url=None, by="홍보팀"
        )
        assert live.answers_due(s, now=NOW) == []  # before the broadcast
        assert live.answers_due(s, now=airs + dt.timedelta(hours=1)) == []  # on air: not over yet
        [due] = live.answers_due(s, now=airs + dt.timedelta(hours=2))
        # The silent asker said no to messages; the bystander neither asked nor agreed.
        assert due["recipients"] == [("kakao", "agreer"), ("web", "asker")]
        assert live.mark_answer_sent(s, group=due["group"]) is True
        assert live.mark_answer_sent(s, group=due["group"]) is False
        assert live.answers_due(s, now=airs + dt.timedelta(hours=2)) == []


def test_agreement_stays_with_the_group_when_its_first_question_goes_and_the_answer_quotes_an_open_one(
    sessions: sessionmaker[Session],
) -> None:
    with sessions.begin() as s:
        sid = _session(s, closes_at=NOW + dt.timedelta(minutes=1), airs_at=NOW + dt.timedelta(minutes=2))
        first = _ask(s, sid, "a", "김철수예요 시청 가는 버스 배차 간격이 너무 길어요 늘려 주세요")
        second = _ask(s, sid, "e", "시청 가는 버스 배차 간격이 너무 길어요 늘려 주세요")
        other_topic = _ask(s, sid, "f", "시청 가는 버스 축제 간격이 너무 길어요", topic="culture")
        assert second.group == first.id and other_topic.group == other_topic.id  # alike only in one topic
        for voter in ("b", "c", "d"):
            live.vote(s, question_id=first.id, channel="web", sender=voter, now=NOW)
            live.follow(s, session_id=sid, channel="web", sender=voter)
        live.follow(s, session_id=sid, channel="web", sender="e")
        assert live.withdraw(s, question_id=first.id, channel="web", sender="a")
        [group] = [g for g in live.ranking(s, session_id=sid) if g["group"] == first.id]
        assert (group["supporters"], [q["id"] for q in group["questions"]]) == (4, [second.id])
        live.answer(s, question_id=second.id, text="배차를 줄여요.", url=None, by="홍보팀")
        [due] = live.answers_due(s, now=NOW + dt.timedelta(hours=3))
    assert due["question"] == second.text  # never the withdrawn one's words
    assert due["recipients"] == [("web", "b"), ("web", "c"), ("web", "d"), ("web", "e")]
