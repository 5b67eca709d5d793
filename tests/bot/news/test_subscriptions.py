"""Subscribing in the chat, and broadcasts of card news: on schedule, to every channel, resumed after a stop,
never twice to anyone."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.delivery import Blocked
from bot.messages import Outbound
from bot.news.broadcast import Broadcaster
from bot.privacy import sign
from bot.profile import load_profile
from bot.store.broadcasts import add_card_set, broadcast_report, subscribe, subscribed
from bot.store.models import BroadcastDelivery, OutboxItem, Subscription
from tests.bot.channels.helpers import SECRET, FakeRasa, gateway
from tests.bot.channels.test_kakao import skill_request

CITY = load_profile("cheonan")
KST = dt.timezone(dt.timedelta(hours=9))
CITIZEN = "subscriber-page-0001"
GUIDE = [
    {"image": "https://blog.cheonan.example/img/2330.jpg",
     "caption": "삼거리공원 겨울빛 정원\n5시 반부터 불이 켜져요.", "link": "https://blog.cheonan.example/posts/2330"},
    {"image": "https://blog.cheonan.example/img/2331.jpg", "caption": "아우내장터 장날\n11일 장이 서요."},
]  # fmt: skip


def say(socket: Any, text: str, payload: str | None = None) -> list[dict[str, Any]]:
    socket.send_text(
        json.dumps({"sender": CITIZEN, "text": text} | ({"payload": payload} if payload else {}))
    )
    while True:
        frame = socket.receive_json()
        if frame["type"] == "messages":
            return list(frame["messages"])


def topics(sessions: sessionmaker[Session], channel: str = "web", sender: str = CITIZEN) -> list[str]:
    with sessions() as session:
        return subscribed(session, channel=channel, sender=sender)


def test_a_citizen_subscribes_from_the_menu_and_stops_everything_in_one_step(
    sessions: sessionmaker[Session], database_url: str
) -> None:
    rasa = FakeRasa()
    with gateway(database_url, rasa) as client, client.websocket_connect("/web/ws") as socket:
        socket.send_text(json.dumps({"type": "hello", "sender": CITIZEN, "token": sign(CITIZEN)}))
        [menu] = say(socket, "주말 소식 받아볼래요")
        assert "· 천안주말사용설명서: 매주 목요일 오후 4시쯤" in menu["text"]
        assert [b["payload"] for b in menu["buttons"]] == ["subscribe:weekend_guide", "subscribe:city_news"]
        [done] = say(socket, "천안주말사용설명서 받기", "subscribe:weekend_guide")
        assert done["text"].startswith("'천안주말사용설명서' 구독을 시작했어요. 매주 목요일")
        assert topics(sessions) == ["weekend_guide"]
        [menu] = say(socket, "구독")
        assert [b["title"] for b in menu["buttons"]] == ["천안주말사용설명서 그만 받기", "천안시 소식 받기"]
        say(socket, "천안시 소식 받기", "subscribe:city_news")
        assert topics(sessions) == ["city_news", "weekend_guide"]
        [stopped] = say(socket, "구독 해지")
        assert stopped["text"] == CITY.messages["unsubscribed_all"]
        assert topics(sessions) == []
        [again] = say(socket, "구독 해지할게요")
        assert again["text"] == CITY.messages["nothing_subscribed"]
        # A longer sentence that says 구독 is about something else: Rasa answers it.
        say(socket, "아파트 관리비에 신문 구독료가 들어가 있는데 이거 시에 민원 넣을 수 있나요")
    assert [r["message"] for r in rasa.received] == [
        "아파트 관리비에 신문 구독료가 들어가 있는데 이거 시에 민원 넣을 수 있나요"
    ]


def test_the_weekend_guide_is_due_on_thursday_at_four_in_the_citys_time(
    sessions: sessionmaker[Session], database_url: str
) -> None:
    with gateway(database_url, FakeRasa()) as client:
        broadcaster: Broadcaster = client.app.state.broadcaster  # type: ignore[attr-defined]
        job = broadcaster.scheduler().get_job("broadcast-weekend_guide")
        wednesday = dt.datetime(2026, 12, 9, 10, 0, tzinfo=KST)
        assert job.trigger.get_next_fire_time(None, wednesday) == dt.datetime(2026, 12, 10, 16, 0, tzinfo=KST)
        after = dt.datetime(2026, 12, 10, 16, 0, 1, tzinfo=KST)
        assert job.trigger.get_next_fire_time(None, after) == dt.datetime(2026, 12, 17, 16, 0, tzinfo=KST)
        # The job the scheduler runs at that time: with nothing new to send, nothing is sent.
        assert client.portal.call(broadcaster.send, "weekend_guide") is None
        with sessions.begin() as session:
            add_card_set(
                session,
                topic="weekend_guide",
                title="천안주말사용설명서 12월 둘째 주",
                cards=GUIDE,
                by="홍보팀",
            )
            subscribe(session, channel="kakao", sender="kakao-user-1", topic="weekend_guide")
            subscribe(session, channel="kakao", sender="kakao-user-2", topic="city_news")
        client.portal.call(job.func, *job.args)
        # Kakao cannot push: the cards wait for the citizen's next message.
        response = client.post(
            "/kakao/skill",
            json=skill_request("안녕하세요", user="kakao-user-1"),
            headers={"X-Kakao-Skill-Secret": SECRET},
        ).json()
        # Sent once: the next Thursday's round has no new set.
        assert client.portal.call(broadcaster.send, "weekend_guide") is None
    outputs = response["template"]["outputs"]
    assert outputs[0]["simpleText"]["text"].startswith(
        "천안주말사용설명서 12월 둘째 주\n\n받았어요: 안녕하세요"
    )
    [carousel] = [o["carousel"] for o in outputs if "carousel" in o and o["carousel"]["type"] == "basicCard"]
    assert [i["title"] for i in carousel["items"]] == ["삼거리공원 겨울빛 정원", "아우내장터 장날"]
    assert carousel["items"][1]["buttons"] == []  # no link
    with sessions() as session:
        [report] = broadcast_report(session)
        waiting = session.scalars(select(OutboxItem).where(OutboxItem.sender == "kakao-user-2")).all()
    assert (report["recipients"], report["queued"], report["pending"]) == (1, 1, 0)
    assert waiting == []  # another topic's subscriber got nothing


def test_a_broadcast_stopped_half_way_goes_on_where_it_stopped_and_nobody_gets_it_twice(
    sessions: sessionmaker[Session], database_url: str
) -> None:
    sent: Counter[str] = Counter()
    with sessions.begin() as session:
        add_card_set(session, topic="weekend_guide", title="천안주말사용설명서", cards=GUIDE, by="홍보팀")
        for n in range(25):
            subscribe(session, channel="telegram", sender=str(1000 + n), topic="weekend_guide")
    with gateway(database_url, FakeRasa()) as client:
        broadcaster: Broadcaster = client.app.state.broadcaster  # type: ignore[attr-defined]
        broadcaster.batch = 4

        async def telegram(sender: str, messages: list[Outbound]) -> bool:
            sent[sender] += 1
            if sender == "1003":
                raise Blocked(sender)
            if sender == "1004":
                return False  # Telegram refused for now: kept in the outbox
            if len(sent) == 10:
                broadcaster.stopping = True  # the gateway is stopping
            return True

        client.app.state.router.delivery.register("telegram", telegram)  # type: ignore[attr-defined]
        assert client.portal.call(broadcaster.send, "weekend_guide") is not None
        with sessions() as session:
            [halfway] = broadcast_report(session)
        assert 0 < halfway["pending"] < 25 - 10 + 4 and halfway["finished_at"] is None  # at most a batch more
        broadcaster.stopping = False  # started again
        client.portal.call(broadcaster.resume)
    assert len(sent) == 25 and set(sent.values()) == {1}
    with sessions() as session:
        [report] = broadcast_report(session)
        statuses = Counter(session.scalars(select(BroadcastDelivery.status)))
        still = set(session.scalars(select(Subscription.sender)))
    assert statuses == {"sent": 23, "blocked": 1, "queued": 1}
    assert report["finished_at"] is not None and report["seconds"] is not None
    assert "1003" not in still and len(still) == 24  # who blocked the bot is unsubscribed
