"""The gateway's Rasa client: the status and model routes that retraining uses (httpx.MockTransport)."""

from __future__ import annotations

import json

import httpx
import pytest

from bot.rasa import RasaClient, RasaUnavailable


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
