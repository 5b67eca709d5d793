"""The gateway's Rasa client (httpx.MockTransport): the status and model routes that retraining uses, and
several servers sharing the conversations."""

from __future__ import annotations

import json
import zlib

import httpx
import pytest

from bot.messages import Inbound
from bot.rasa import RasaClient, RasaUnavailable, server_for, server_urls


def client_for(handler: httpx.MockTransport) -> RasaClient:
    return RasaClient(httpx.AsyncClient(transport=handler), "http://rasa:5005/", token="t0ken")


async def test_load_model_puts_the_path_with_the_token_and_reads_the_status() -> None:
    seen: list[tuple[str, str, dict[str, str], object]] = []
    serving = {"model_file": "minwon.tar.gz"}

    def rasa(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content) if request.content else None
        seen.append((request.method, request.url.path, dict(request.url.params), body))
        if request.method == "PUT":
            serving["model_file"] = json.loads(request.content)["model_file"].rsplit("/", 1)[-1]
            return httpx.Response(204)
        return httpx.Response(200, json=serving)

    rasa_client = client_for(httpx.MockTransport(rasa))
    assert await rasa_client.model_file() == "minwon.tar.gz"
    await rasa_client.load_model("/srv/models/history/minwon-20261201.tar.gz")
    assert await rasa_client.model_file() == "minwon-20261201.tar.gz"
    assert await rasa_client.healthy()
    put = [s for s in seen if s[0] == "PUT"]
    assert put == [
        ("PUT", "/model", {"token": "t0ken"}, {"model_file": "/srv/models/history/minwon-20261201.tar.gz"})
    ]


async def test_a_refused_model_or_rasa_down_raises_and_status_says_none() -> None:
    def refuses(request: httpx.Request) -> httpx.Response:
        if request.method == "PUT":
            return httpx.Response(400, json={"message": "Agent with name 'x' could not be loaded."})
        return httpx.Response(200, json={"model_file": None})

    rasa_client = client_for(httpx.MockTransport(refuses))
    with pytest.raises(RasaUnavailable, match="refused the model \\(400\\).*could not be loaded"):
        await rasa_client.load_model("x")
    assert await rasa_client.model_file() is None and not await rasa_client.healthy()

    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    rasa_client = client_for(httpx.MockTransport(down))
    with pytest.raises(RasaUnavailable, match="ConnectError"):
        await rasa_client.load_model("x")
    assert await rasa_client.model_file() is None


class Servers:
    """Rasa servers behind one MockTransport: what each was asked, the model each serves, which are down."""

    def __init__(self, *hosts: str) -> None:
        self.hosts = hosts
        self.asked: list[tuple[str, str, str]] = []  # (host, method, conversation or path)
        self.serving = dict.fromkeys(hosts, "minwon.tar.gz")
        self.down: set[str] = set()
        self.refuses: set[str] = set()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        host = request.url.host
        if host in self.down:
            raise httpx.ConnectError("connection refused", request=request)
        body = json.loads(request.content) if request.content else None
        if request.url.path == "/webhooks/rest/webhook":
            self.asked.append((host, "message", body["sender"]))
            return httpx.Response(
                200, json=[{"recipient_id": body["sender"], "text": f"{host}에서 받았어요"}]
            )
        if request.url.path.startswith("/conversations/"):
            self.asked.append((host, request.method, request.url.path.split("/")[2]))
            return httpx.Response(200, json={"sender_id": "x", "events": []})
        if request.method == "PUT":
            self.asked.append((host, "PUT", request.url.path))
            if host in self.refuses:
                return httpx.Response(400, json={"message": "could not be loaded"})
            self.serving[host] = body["model_file"].rsplit("/", 1)[-1]
            return httpx.Response(204)
        return httpx.Response(200, json={"model_file": self.serving[host]})

    def client(self) -> RasaClient:
        urls = ", ".join(f"http://{host}:5005/" for host in self.hosts)
        return RasaClient(httpx.AsyncClient(transport=httpx.MockTransport(self)), urls, token="t0ken")


async def test_each_conversation_stays_on_one_server_and_the_servers_share_them() -> None:
    servers = Servers("rasa-a", "rasa-b")
    rasa_client = servers.client()
    citizens = [Inbound("web", f"citizen-{i:02d}", "안녕하세요") for i in range(20)]
    for _ in range(2):
        for citizen in citizens:
            answers, _ = await rasa_client.send(citizen)
            assert answers[0].text.endswith("에서 받았어요")
    await rasa_client.pause(citizens[0].conversation_id)
    await rasa_client.user_events(citizens[0].conversation_id)

    where: dict[str, set[str]] = {}
    for host, _, conversation in servers.asked:
        where.setdefault(conversation, set()).add(host)
    assert all(len(hosts) == 1 for hosts in where.values())  # handoff events too
    assert {host for hosts in where.values() for host in hosts} == {"rasa-a", "rasa-b"}
    first = servers.hosts[server_for(citizens[0].conversation_id, 2)]
    assert where[citizens[0].conversation_id] == {first}
    assert [m for h, m, c in servers.asked if c == citizens[0].conversation_id] == ["message"] * 2 + [
        "POST",
        "GET",
    ]


async def test_a_server_that_is_down_leaves_its_conversations_to_the_next() -> None:
    servers = Servers("rasa-a", "rasa-b")
    rasa_client = servers.client()
    citizens = [Inbound("web", f"citizen-{i:02d}", "가로등이 꺼졌어요") for i in range(10)]
    servers.down.add("rasa-a")
    for citizen in citizens:
        answers, _ = await rasa_client.send(citizen)
        assert answers[0].text == "rasa-b에서 받았어요"
    assert not await rasa_client.healthy() and await rasa_client.model_file() is None
    servers.down.add("rasa-b")
    with pytest.raises(RasaUnavailable, match="ConnectError"):
        await rasa_client.send(citizens[0])


async def test_a_model_is_loaded_into_every_server_in_turn() -> None:
    servers = Servers("rasa-a", "rasa-b")
    rasa_client = servers.client()
    await rasa_client.load_model("/srv/models/history/minwon-2.tar.gz")
    assert [(h, m) for h, m, _ in servers.asked] == [("rasa-a", "PUT"), ("rasa-b", "PUT")]
    assert await rasa_client.model_file() == "minwon-2.tar.gz" and await rasa_client.healthy()

    servers.refuses.add("rasa-b")
    with pytest.raises(RasaUnavailable, match="rasa-b.*refused the model"):
        await rasa_client.load_model("/srv/models/history/minwon-3.tar.gz")
    assert servers.serving == {"rasa-a": "minwon-3.tar.gz", "rasa-b": "minwon-2.tar.gz"}
    assert await rasa_client.model_file() is None  # they differ: no one model serves


def test_a_conversation_goes_to_the_same_server_in_every_process() -> None:
    assert [server_for(f"web:citizen-{i}", 2) for i in range(6)] == [
        zlib.crc32(f"web:citizen-{i}".encode()) % 2 for i in range(6)
    ]
    assert server_urls("http://a:5005/, http://b:5006 ,") == ["http://a:5005", "http://b:5006"]
    with pytest.raises(ValueError, match="no Rasa server"):
        RasaClient(httpx.AsyncClient(), " , ")
