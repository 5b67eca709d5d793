"""The staff workspace's API: who sees and moves which tickets, the filters, and the citizen told."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from bot.privacy import sign
from bot.store.agents import AgentError, add_agent
from bot.store.models import OutboxItem, Ticket, TicketEvent
from bot.store.tickets import file_ticket, list_tickets
from tests.bot.channels.helpers import FakeRasa, gateway
from tests.bot.handoff.test_console import SENDER as CITIZEN
from tests.bot.handoff.test_console import login, say

PASSWORD = "a-long-password"
ROADS, CLEANING = "건설도로과", "청소행정과"


def filed(session: Session, *, category: str, department: str, district: str, description: str,
          sender: str = "page-0001", due_in: dt.timedelta | None = dt.timedelta(days=7),
          created: dt.datetime | None = None, place: str | None = None) -> str:  # fmt: skip
    ticket = file_ticket(
        session, category=category, department=department, description=description, channel="web",
        sender=sender, note="접수했어요.", district=district, location_text=place or f"{district} 어딘가",
        due_at=dt.datetime.now(dt.timezone.utc) + due_in if due_in is not None else None,
    )  # fmt: skip
    if created is not None:
        row = session.get(Ticket, int(ticket.number.split("-")[1]))
        row.created_at = created
    return ticket.number


@pytest.fixture
def numbers(sessions: sessionmaker[Session]) -> dict[str, str]:
    """Four tickets: two of 건설도로과 (one overdue), two of 청소행정과; and a staff member of each, an agent
    and a supervisor."""
    with sessions.begin() as session:
        add_agent(session, "도로담당", PASSWORD, "staff", ROADS)
        add_agent(session, "청소담당", PASSWORD, "staff", CLEANING)
        add_agent(session, "김상담", PASSWORD, "agent")
        add_agent(session, "박팀장", PASSWORD, "supervisor")
        return {
            "lamp": filed(session, category="streetlight", department=ROADS, district="쌍용동",
                          description="가로등이 꺼졌어요"),
            "pothole": filed(session, category="road_damage", department=ROADS, district="불당동",
                             description="도로에 구멍이 패였어요", due_in=-dt.timedelta(days=1),
                             created=dt.datetime(2026, 11, 2, 3, tzinfo=dt.timezone.utc)),
            "trash": filed(session, category="garbage", department=CLEANING, district="쌍용동",
                           description="쓰레기가 쌓여 있어요", sender="page-0002"),
            "trash2": filed(session, category="garbage", department=CLEANING, district="두정동",
                            description="무단투기 쓰레기 50% 넘게 방치", sender="page-0003"),
        }  # fmt: skip


@pytest.fixture
def client(database_url: str) -> TestClient:
    with gateway(database_url, FakeRasa()) as client:
        yield client


def numbers_of(response: object) -> list[str]:
    body = response.json()  # type: ignore[attr-defined]
    return [t["number"] for t in body["tickets"]]


def test_staff_see_and_move_their_departments_tickets_only(
    client: TestClient, numbers: dict[str, str], sessions: sessionmaker[Session]
) -> None:
    csrf = login(client, "도로담당")
    listed = client.get("/agent/api/tickets", params={"department": CLEANING})  # asked for another's
    assert sorted(numbers_of(listed)) == sorted([numbers["lamp"], numbers["pothole"]])
    assert client.get(f"/agent/api/tickets/{numbers['trash']}").status_code == 403
    change = {"status": "resolved", "note": "치웠어요"}
    assert (
        client.post(f"/agent/api/tickets/{numbers['trash']}/status", json=change, headers=csrf).status_code
        == 403
    )
    moved = client.post(
        f"/agent/api/tickets/{numbers['lamp']}/status",
        json={"status": "in_progress", "note": "내일 오전에 교체할 예정이에요."}, headers=csrf,
    )  # fmt: skip
    assert moved.status_code == 200 and moved.json()["status"] == "in_progress"
    with sessions() as session:
        step = session.scalars(select(TicketEvent).order_by(TicketEvent.id.desc())).first()
        assert step is not None and (step.status, step.actor) == ("in_progress", "staff:도로담당")
        (told,) = session.scalars(select(OutboxItem).where(OutboxItem.sender == "page-0001")).all()
        text = json.loads(told.data)[0]["text"]
    assert numbers["lamp"] in text and "'처리 중'으로" in text and "내일 오전에 교체할 예정이에요." in text


def test_agents_read_tickets_and_supervisors_reassign_them(
    database_url: str, numbers: dict[str, str], sessions: sessionmaker[Session]
) -> None:
    with gateway(database_url, FakeRasa()) as agent, gateway(database_url, FakeRasa()) as supervisor:
        csrf = login(agent, "김상담")
        assert len(numbers_of(agent.get("/agent/api/tickets"))) == 4
        detail = agent.get(f"/agent/api/tickets/{numbers['trash']}").json()
        assert detail["can_move"] is False and detail["events"][0]["actor"] == "citizen"
        to_roads = {"department": ROADS}
        assert (
            agent.post(
                f"/agent/api/tickets/{numbers['trash']}/reassign", json=to_roads, headers=csrf
            ).status_code
            == 403
        )
        csrf = login(supervisor, "박팀장")
        moved = supervisor.post(
            f"/agent/api/tickets/{numbers['trash']}/reassign", json=to_roads, headers=csrf
        )
        assert moved.status_code == 200 and moved.json()["department"] == ROADS
        again = supervisor.post(
            f"/agent/api/tickets/{numbers['trash']}/reassign", json=to_roads, headers=csrf
        )
        assert again.status_code == 409
        nowhere = {"department": "없는과"}
        assert (
            supervisor.post(
                f"/agent/api/tickets/{numbers['trash']}/reassign", json=nowhere, headers=csrf
            ).status_code
            == 400
        )
    with sessions() as session:
        step = session.scalars(select(TicketEvent).order_by(TicketEvent.id.desc())).first()
        assert step is not None and (step.kind, step.actor, step.note) == (
            "reassign",
            "supervisor:박팀장",
            f"{CLEANING} → {ROADS}",
        )
        (told,) = session.scalars(select(OutboxItem).where(OutboxItem.sender == "page-0002")).all()
    # The third ticket ends in 3 (삼), which takes 을.
    assert (
        json.loads(told.data)[0]["text"]
        == f"민원 {numbers['trash']}을 더 알맞은 부서로 옮겼어요. 이제 {ROADS}에서 처리해요."
    )


def test_the_filters_narrow_the_list_and_pages_count_them(
    client: TestClient, numbers: dict[str, str]
) -> None:
    login(client, "박팀장")

    def found(**params: str) -> list[str]:
        response = client.get("/agent/api/tickets", params=params)
        assert response.status_code == 200, response.text
        return sorted(numbers_of(response))

    assert found(district="쌍용동") == sorted([numbers["lamp"], numbers["trash"]])
    assert found(category="garbage", district="두정동") == [numbers["trash2"]]
    assert found(due="overdue") == [numbers["pothole"]]
    assert found(until="2026-11-02") == [numbers["pothole"]]  # the city's day: 12:00 KST on 11-02
    assert numbers["pothole"] not in found(since="2026-11-03")
    assert found(q="구멍") == [numbers["pothole"]]
    assert found(q=numbers["lamp"]) == [numbers["lamp"]]
    assert found(q="50%") == [numbers["trash2"]]  # a wildcard typed is a character searched
    assert found(status="resolved") == []
    first = client.get("/agent/api/tickets", params={"page": "1"}).json()
    assert (first["total"], first["page"]) == (4, 1) and numbers_of_page(client, 2) == []


def numbers_of_page(client: TestClient, page: int) -> list[str]:
    return numbers_of(client.get("/agent/api/tickets", params={"page": str(page)}))


@pytest.mark.parametrize(
    ("path", "params", "status"),
    [
        ("/agent/api/tickets", {"status": "closed"}, 400),
        ("/agent/api/tickets", {"page": "abc"}, 400),
        ("/agent/api/tickets", {"page": "0"}, 400),
        ("/agent/api/tickets", {"since": "11월 1일"}, 400),
        ("/agent/api/tickets", {"due": "tomorrow"}, 400),
        ("/agent/api/tickets/2026-999999", {}, 404),
        ("/agent/api/tickets/../../etc", {}, 404),
        ("/agent/api/tickets/not-a-number", {}, 404),
    ],
)
def test_bad_requests_get_clear_errors(
    client: TestClient, numbers: dict[str, str], path: str, params: dict[str, str], status: int
) -> None:
    login(client, "박팀장")
    response = client.get(path, params=params)
    assert response.status_code == status
    if status != 404 or path.count("/") == 4:
        assert "error" in response.json()


def test_changes_need_a_login_a_csrf_token_and_a_note(client: TestClient, numbers: dict[str, str]) -> None:
    url = f"/agent/api/tickets/{numbers['lamp']}/status"
    change = {"status": "resolved", "note": "교체했어요."}
    assert client.get("/agent/api/tickets").status_code == 401
    csrf = login(client, "도로담당")
    assert client.post(url, json=change).status_code == 403  # no CSRF token
    assert client.post(url, json={"status": "resolved", "note": "  "}, headers=csrf).status_code == 400
    assert client.post(url, json={"status": "done", "note": "끝"}, headers=csrf).status_code == 400
    assert (
        client.post(url, content=b"{", headers={**csrf, "Content-Type": "application/json"}).status_code
        == 400
    )
    assert client.post(url, json=change, headers=csrf).status_code == 200


def test_the_page_is_served_and_the_console_links_to_it(client: TestClient) -> None:
    page = client.get("/agent/tickets")
    assert page.status_code == 200 and "민원 처리" in page.text and "/agent/tickets.js" in page.text
    assert client.get("/agent/tickets.js").status_code == 200
    assert 'href="/agent/tickets"' in client.get("/agent").text


def test_staff_need_a_department_and_only_staff_have_one(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session, pytest.raises(AgentError):
        add_agent(session, "부서없음", PASSWORD, "staff")
    with sessions.begin() as session, pytest.raises(AgentError):
        add_agent(session, "상담부서", PASSWORD, "agent", ROADS)


def test_a_second_report_of_one_problem_is_found_merged_and_follows_the_first(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    with sessions.begin() as session:
        add_agent(session, "박팀장", PASSWORD, "supervisor")
        first = filed(
            session,
            category="streetlight",
            department=ROADS,
            district="쌍용동",
            description="주공2단지 정문 앞 가로등이 며칠째 꺼져 있어요",
            sender="page-0010",
            place="쌍용동 주공2단지 정문",
        )
        second = filed(
            session,
            category="streetlight",
            department=ROADS,
            district="쌍용동",
            description="쌍용동 주공2단지 정문 쪽 가로등 불이 안 들어와요",
            sender="page-0011",
            place="주공2단지 정문 앞",
        )
        elsewhere = filed(
            session,
            category="streetlight",
            department=ROADS,
            district="쌍용동",
            description="쌍용공원 산책로 가로등이 나갔어요",
            sender="page-0012",
            place="쌍용공원 산책로",
        )
    csrf = login(client, "박팀장")
    similar = client.get(f"/agent/api/tickets/{second}").json()["similar"]
    assert [s["number"] for s in similar] == [first]  # not the park's
    merged = client.post(f"/agent/api/tickets/{second}/merge", json={"into": first}, headers=csrf)
    assert merged.status_code == 200 and merged.json()["merged_into"] == first
    again = client.post(f"/agent/api/tickets/{elsewhere}/merge", json={"into": second}, headers=csrf)
    assert again.status_code == 409  # into a merged ticket: no chains
    assert (
        client.post(
            f"/agent/api/tickets/{elsewhere}/merge", json={"into": "2026-999999"}, headers=csrf
        ).status_code
        == 400
    )
    done = {"status": "resolved", "note": "전구를 교체했어요."}
    assert client.post(f"/agent/api/tickets/{first}/status", json=done, headers=csrf).status_code == 200
    followed = client.get(f"/agent/api/tickets/{second}").json()
    assert followed["status"] == "resolved" and followed["can_move"] is False
    reopen = {"status": "in_progress", "note": "다시 봐요"}
    assert client.post(f"/agent/api/tickets/{second}/status", json=reopen, headers=csrf).status_code == 409
    with sessions() as session:
        told: dict[str, list[str]] = {}
        for kept in session.scalars(select(OutboxItem).order_by(OutboxItem.id)):
            told.setdefault(kept.sender, []).extend(m["text"] for m in json.loads(kept.data))
    assert told["page-0011"][0].startswith(f"민원 {second}")
    assert f"먼저 들어온 민원 {first}" in told["page-0011"][0]
    assert any("'처리 완료'로" in text and "전구를 교체했어요." in text for text in told["page-0011"])
    assert any("'처리 완료'로" in text for text in told["page-0010"])


def test_a_citizen_joins_their_report_to_the_first_one_or_keeps_it_apart(
    database_url: str, sessions: sessionmaker[Session]
) -> None:
    """The buttons of the complaint form's duplicate offer, pressed in the web chat."""
    with sessions.begin() as session:
        first = filed(
            session,
            category="streetlight",
            department=ROADS,
            district="쌍용동",
            description="가로등이 꺼졌어요",
            sender="page-0020",
        )
        mine = filed(
            session,
            category="streetlight",
            department=ROADS,
            district="쌍용동",
            description="가로등 불이 안 들어와요",
            sender=CITIZEN,
        )
        other = filed(
            session,
            category="streetlight",
            department=ROADS,
            district="쌍용동",
            description="가로등 고장",
            sender="page-0021",
        )
    rasa = FakeRasa()
    with gateway(database_url, rasa) as client, client.websocket_connect("/web/ws") as socket:
        socket.send_text(json.dumps({"type": "hello", "sender": CITIZEN, "token": sign(CITIZEN)}))
        joined = say(socket, "함께 처리해 주세요", f"merge:{mine}:{first}")
        assert joined[-1]["text"].startswith(f"네, 민원 {mine}") and first in joined[-1]["text"]
        again = say(socket, "함께 처리해 주세요", f"merge:{mine}:{first}")
        assert again[-1]["text"].startswith("지금은 두 민원을 합칠 수 없어요")
        kept = say(socket, "남의 민원", f"merge:{other}:{first}")  # not theirs to merge: nothing changes
        assert kept[-1]["text"] == f"네, 민원 {other}은 따로 처리할게요."  # ...3 (삼) takes 은
    assert rasa.received == []
    with sessions() as session:
        merged = {t.number: t.merged_into for t in list_tickets(session)}
    assert merged == {mine: first, first: None, other: None}
