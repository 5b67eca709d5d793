"""Subscribing in the chat, and broadcasts of card news: on schedule, to every channel, resumed after a stop,
never twice to anyone."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections import Counter
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.delivery import Blocked
from bot.messages import Outbound, fill
from bot.news.broadcast import Broadcaster, start_topic
from bot.privacy import sign
from bot.profile import load_profile
from bot.store.broadcasts import add_card_set, broadcast_report, subscribe, subscribed
from bot.store.models import BroadcastDelivery, OutboxItem, Subscription
from bot.store.posts import NewPost, save_posts
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
        assert [b["payload"] for b in menu["buttons"]] == [
            "subscribe:weekend_guide", "subscribe:city_news", "subscribe:district_notices"
        ]  # fmt: skip
        [done] = say(socket, "천안주말사용설명서 받기", "subscribe:weekend_guide")
        assert done["text"].startswith("'천안주말사용설명서' 구독을 시작했어요. 매주 목요일")
        assert topics(sessions) == ["weekend_guide"]
        [menu] = say(socket, "구독")
        assert [b["title"] for b in menu["buttons"]] == [
            "천안주말사용설명서 그만 받기", "천안시 소식 받기", "우리 동네 소식 받기"
        ]  # fmt: skip
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
        assert client.portal.call(broadcaster.send, "weekend_guide") == []
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
        assert client.portal.call(broadcaster.send, "weekend_guide") == []
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
        assert client.portal.call(broadcaster.send, "weekend_guide")
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


def test_a_citizen_subscribes_to_a_dong_by_naming_it_and_can_stop_that_one_alone(
    sessions: sessionmaker[Session], database_url: str
) -> None:
    rasa = FakeRasa()
    with gateway(database_url, rasa) as client, client.websocket_connect("/web/ws") as socket:
        socket.send_text(json.dumps({"type": "hello", "sender": CITIZEN, "token": sign(CITIZEN)}))
        # The menu's button asks which 읍·면·동; naming one subscribes to it at once.
        [which] = say(socket, "우리 동네 소식 받기", "subscribe:district_notices")
        assert which["text"] == fill(CITY.messages["district_which"], example="신안동")
        assert topics(sessions) == []
        [done] = say(socket, "성정1동 소식 받아볼래요")
        assert done["text"].startswith("'우리 동네 소식(성정1동)' 구독을 시작했어요. 매주 금요일")
        say(socket, "두정동 구독")  # a 법정동 name people use is taken too
        say(socket, "천안주말사용설명서 받기", "subscribe:weekend_guide")
        assert topics(sessions) == ["district_notices:두정동", "district_notices:성정1동", "weekend_guide"]
        [menu] = say(socket, "소식 구독", "구독")  # the main menu's button
        assert [(b["title"], b["payload"]) for b in menu["buttons"]][2:] == [
            ("우리 동네 소식(두정동) 그만 받기", "unsubscribe:district_notices:두정동"),
            ("우리 동네 소식(성정1동) 그만 받기", "unsubscribe:district_notices:성정1동"),
            ("우리 동네 소식 받기", "subscribe:district_notices"),
        ]
        [stopped] = say(socket, "우리 동네 소식(두정동) 그만 받기", "unsubscribe:district_notices:두정동")
        assert stopped["text"] == "'우리 동네 소식(두정동)' 구독을 해지했어요. 더는 보내 드리지 않아요."
        # Naming the 읍·면·동 in "그만" ends that one alone; "구독 해지" alone still ends everything.
        say(socket, "성정1동 소식 그만 받을래요")
        assert topics(sessions) == ["weekend_guide"]
        [not_mine] = say(socket, "신안동 소식 그만 받을래요")  # not subscribed to: nothing else ends
        assert not_mine["text"].startswith("'우리 동네 소식(신안동)' 구독은 하고 계시지 않아요.")
        assert topics(sessions) == ["weekend_guide"]
        # A 구 is no 읍·면·동, and a made-up one is no press: neither subscribes to anything.
        [menu] = say(socket, "서북구 소식 받을래요")
        assert menu["text"].startswith("받아 보실 소식을 골라 주세요.")
        say(socket, "강남1동 받기", "subscribe:district_notices:강남1동")
        assert topics(sessions) == ["weekend_guide"]
    assert [r["message"] for r in rasa.received] == ["subscribe:district_notices:강남1동"]


def _post(guid: str, title: str, days_ago: float, summary: str = "", image: str | None = None) -> NewPost:
    published = dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=days_ago)
    return NewPost(guid, title, f"https://www.cheonan.example/notice/{guid}", published, "공지", (), summary,
                   image, "")  # fmt: skip


def test_each_dong_is_sent_the_weeks_posts_that_name_it_once_and_an_empty_week_sends_nothing(
    sessions: sessionmaker[Session], database_url: str
) -> None:
    with sessions.begin() as session:
        save_posts(session, "notices", [
            _post("1", "성정1동 행정복지센터 12월 주민자치 프로그램 수강생 모집", 2,
                  "요가와 서예 강좌 수강생을 모집해요.", "https://www.cheonan.example/img/1.jpg"),
            _post("2", "동절기 제설 작업 안내", 1, "성정1동과 쌍용2동 이면도로 제설함 위치를 알려 드려요."),
            _post("3", "성정1동 가을 축제 결과", 10),  # older than a week
            _post("4", "백석동 주민센터 휴관", 3),
        ])  # fmt: skip
        for sender, dong in (("kakao-a", "성정1동"), ("kakao-b", "쌍용2동"), ("kakao-c", "불당1동")):
            subscribe(session, channel="kakao", sender=sender, topic=f"district_notices:{dong}")
        subscribe(session, channel="kakao", sender="kakao-d", topic="weekend_guide")
    with gateway(database_url, FakeRasa()) as client:
        broadcaster: Broadcaster = client.app.state.broadcaster  # type: ignore[attr-defined]
        assert broadcaster.scheduler().get_job("broadcast-district_notices") is not None
        assert len(client.portal.call(broadcaster.send, "district_notices")) == 2
        # Sent again the same week (staff pressed "send now"): nothing new, nothing sent twice.
        assert client.portal.call(broadcaster.send, "district_notices") == []
    with sessions() as session:
        waiting = {
            item.sender: json.loads(item.data)
            for item in session.scalars(select(OutboxItem).order_by(OutboxItem.id))
        }
        report = broadcast_report(session)
    assert set(waiting) == {"kakao-a", "kakao-b"}  # 불당1동 had no news; another topic's subscriber none
    [to_a] = waiting["kakao-a"]
    today = dt.datetime.now(CITY.timezone)
    week_ago = today - dt.timedelta(days=7)
    assert to_a["text"] == f"성정1동 소식 ({week_ago.month}월 {week_ago.day}일~{today.month}월 {today.day}일)"
    assert [(c["title"], c.get("image")) for c in to_a["cards"]] == [
        ("동절기 제설 작업 안내", None),
        ("성정1동 행정복지센터 12월 주민자치 프로그램 수강생 모집", "https://www.cheonan.example/img/1.jpg"),
    ]
    assert to_a["cards"][1]["text"] == "요가와 서예 강좌 수강생을 모집해요."
    assert [c["title"] for c in waiting["kakao-b"][0]["cards"]] == ["동절기 제설 작업 안내"]
    assert sorted(r["topic"] for r in report) == ["district_notices:성정1동", "district_notices:쌍용2동"]


def test_a_digests_week_is_counted_in_utc_so_its_first_hours_are_not_lost(
    sessions: sessionmaker[Session],
) -> None:
    """SQLite keeps no zone: the week's start in the city's time was compared as if it were UTC, and posts of
    the week's first nine hours were left out."""
    friday = dt.datetime(2026, 12, 11, 10, 0, tzinfo=KST)
    published = (friday - dt.timedelta(days=7) + dt.timedelta(hours=2)).astimezone(dt.timezone.utc)
    with sessions.begin() as session:
        post = _post("9", "성정1동 주민자치회 회의 안내", 0)
        save_posts(session, "notices", [dataclasses.replace(post, published_at=published)])
        subscribe(session, channel="kakao", sender="kakao-a", topic="district_notices:성정1동")
        [(_, card_set)] = start_topic(session, profile=CITY, topic="district_notices", now=friday)
    assert card_set.title == "성정1동 소식 (12월 4일~12월 11일)"
    assert [c["caption"].split("\n")[0] for c in card_set.cards] == ["성정1동 주민자치회 회의 안내"]
