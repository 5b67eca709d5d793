"""Card news in the console: who may publish and send, what a bad request gets, and a broadcast's record."""

from __future__ import annotations

import time

from sqlalchemy.orm import Session, sessionmaker

from bot.store.agents import add_agent
from bot.store.broadcasts import broadcast_report, latest_card_sets, subscribe
from bot.store.models import OutboxItem
from tests.bot.channels.helpers import FakeRasa, gateway
from tests.bot.handoff.test_console import login

CARD = {"image": "https://blog.cheonan.example/img/2330.jpg", "caption": "겨울빛 정원\n5시 반부터 켜져요."}


def test_staff_publish_and_send_agents_only_look_and_bad_sets_are_refused(
    sessions: sessionmaker[Session], database_url: str
) -> None:
    with sessions.begin() as session:
        add_agent(session, "홍보담당", "a-long-password", "staff", "홍보담당관")
        add_agent(session, "김상담", "a-long-password", "agent")
        subscribe(session, channel="web", sender="page-closed-0001", topic="weekend_guide")
    with gateway(database_url, FakeRasa()) as client:
        assert client.get("/agent/api/news").status_code == 401
        agent = login(client, "김상담")
        assert client.get("/agent/api/news").json()["can_publish"] is False
        set_ = {"topic": "weekend_guide", "title": "천안주말사용설명서 12월 둘째 주", "cards": [CARD]}
        assert client.post("/agent/api/news/cards", json=set_, headers=agent).status_code == 403
        client.post("/agent/api/logout", headers=agent)

        staff = login(client, "홍보담당")
        bad = [
            {**set_, "topic": "lottery"},
            {**set_, "topic": "district_notices"},  # each 읍·면·동 is sent its posts, not a card set
            {**set_, "title": ""},
            {**set_, "cards": []},
            {**set_, "cards": [CARD] * 11},
            {**set_, "cards": [{**CARD, "image": "javascript:alert(1)"}]},
            {**set_, "cards": [{**CARD, "link": "http://plain.example"}]},
            {**set_, "cards": ["그림"]},
            [1, 2],
        ]
        for body in bad:
            response = client.post("/agent/api/news/cards", json=body, headers=staff)
            assert response.status_code == 400, body
            assert response.json()["error"]
        assert client.post("/agent/api/news/cards", content=b"{", headers=staff).status_code == 400
        # Read like every console body: capped before it is read, nesting bounded, NUL cleaned.
        huge = client.post("/agent/api/news/cards", content=b"[" * (2 << 20), headers=staff)
        assert huge.status_code == 413
        deep = client.post("/agent/api/news/cards", content=b"[" * 5000 + b"]" * 5000, headers=staff)
        assert deep.status_code == 400
        nul = {
            **set_,
            "topic": "city_news",
            "title": "천안\u0000소식",
            "cards": [{**CARD, "caption": "빛\u0000정원"}],
        }
        assert client.post("/agent/api/news/cards", json=nul, headers=staff).status_code == 201
        with sessions() as session:
            assert [(c.title, c.cards[0]["caption"]) for c in latest_card_sets(session)] == [
                ("천안소식", "빛정원")
            ]
        assert (
            client.post("/agent/api/news/send/weekend_guide", headers=staff).status_code == 409
        )  # nothing yet
        made = client.post("/agent/api/news/cards", json=set_, headers=staff)
        assert made.status_code == 201
        sent = client.post("/agent/api/news/send/weekend_guide", headers=staff)
        assert sent.status_code == 202 and sent.json()["card_set"] == made.json()["id"]
        assert (
            client.post("/agent/api/news/send/weekend_guide", headers=staff).status_code == 409
        )  # sent once
        for _ in range(100):
            overview = client.get("/agent/api/news").json()
            if overview["broadcasts"][0]["finished_at"]:
                break
            time.sleep(0.05)
    [row] = overview["broadcasts"]
    assert (row["recipients"], row["queued"], row["pending"]) == (1, 1, 0)  # a closed page: its outbox
    assert overview["sets"][0]["title"] == "천안주말사용설명서 12월 둘째 주"
    with sessions() as session:
        [report] = broadcast_report(session)
        assert session.query(OutboxItem).filter_by(sender="page-closed-0001").count() == 1
    assert report["id"] == row["id"]
