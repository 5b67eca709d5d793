"""A gateway wired to a fake Rasa (httpx.MockTransport) and a migrated database, for channel tests."""

from __future__ import annotations

import asyncio
import contextlib
import json
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import Page, expect
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from bench.stack import serving_in_a_thread
from bot.gateway import create_app
from bot.settings import Settings
from bot.store.models import Message

__all__ = ["FakeRasa", "gateway", "stored"]

SECRET = "kakao-test-secret-0123456789"


@dataclass
class FakeRasa:
    """Answers the REST webhook like Rasa; records what it was sent and what was posted to callbacks."""

    answers: Callable[[dict[str, Any]], list[dict[str, Any]]] = lambda body: [
        {"text": f"받았어요: {body['message']}"}
    ]
    # What /model/parse says of a text (the NLU alone): by default it understands nothing.
    parses: Callable[[str], dict[str, Any]] = lambda text: {
        "text": text, "intent": {"name": "nlu_fallback", "confidence": 0.3}, "intent_ranking": [],
    }  # fmt: skip
    delay: float = 0.0
    down: bool = False
    received: list[dict[str, Any]] = field(default_factory=list)
    callbacks: list[dict[str, Any]] = field(default_factory=list)
    # Events posted through the HTTP API (pause, resume), as (conversation id, event name)…
    events: list[tuple[str, str]] = field(default_factory=list)
    # …and whole, as (conversation id, the events posted).
    posted: list[tuple[str, list[dict[str, Any]]]] = field(default_factory=list)

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.host == "callback.kakao.com":
            self.callbacks.append(json.loads(request.content))
            return httpx.Response(200, json={"taskId": "1", "status": "SUCCESS"})
        if self.down:
            raise httpx.ConnectError("connection refused", request=request)
        if request.url.path == "/status":
            return httpx.Response(200, json={"model_file": "minwon.tar.gz"})
        if request.url.path == "/model/parse":
            return httpx.Response(200, json=self.parses(json.loads(request.content)["text"]))
        if request.url.path.startswith("/conversations/"):
            conversation = request.url.path.split("/")[2]
            if request.method == "POST":
                posted = json.loads(request.content)
                posted = posted if isinstance(posted, list) else [posted]
                names = [e["event"] for e in posted]
                self.events.append((conversation, "pause" if "pause" in names else names[0]))
                self.posted.append((conversation, posted))
                return httpx.Response(200, json={"sender_id": conversation, "events": []})
            users = [
                {"event": "user", "text": b["message"],
                 "parse_data": {"intent": {"name": "nlu_fallback", "confidence": 0.31}, "intent_ranking": []}}
                for b in self.received if b["sender"] == conversation
            ]  # fmt: skip
            return httpx.Response(200, json={"sender_id": conversation, "events": users})
        body = json.loads(request.content)
        self.received.append(body)
        await asyncio.sleep(self.delay)
        return httpx.Response(200, json=[{"recipient_id": body["sender"], **a} for a in self.answers(body)])


def gateway(database_url: str, rasa: FakeRasa, **overrides: Any) -> TestClient:
    """Return a test client of the gateway with Kakao on, talking to RASA."""
    settings = Settings(
        database_url=database_url,
        rasa_url="http://rasa.test",
        kakao_skill_secret=SECRET,
        # Photos go to a folder of the test's own, never the project's.
        **{"agent_cookie_secure": False, "photos_dir": Path(tempfile.mkdtemp(prefix="photos-")), **overrides},
    )
    client = httpx.AsyncClient(transport=httpx.MockTransport(rasa))
    return TestClient(create_app(settings, client))


def stored(sessions: sessionmaker[Session]) -> list[tuple[str, str, bool]]:
    """Return the stored messages, oldest first, as (direction, text, answered)."""
    with sessions() as session:
        return [
            (m.direction, m.text, m.answered) for m in session.scalars(select(Message).order_by(Message.id))
        ]


@contextlib.contextmanager
def served(database_url: str, rasa: FakeRasa) -> Iterator[str]:
    """Serve the gateway (talking to RASA) with uvicorn in a thread, for a browser; yield its address."""
    app = create_app(
        Settings(database_url=database_url, rasa_url="http://rasa.test"),
        httpx.AsyncClient(transport=httpx.MockTransport(rasa)),
    )
    with serving_in_a_thread(app) as url:
        yield url


def console_login(page: Page, url: str, name: str, password: str = "a-long-password") -> None:
    """Log NAME in to the console at URL in a browser PAGE, and wait until it says who is in."""
    page.goto(f"{url}/agent")
    page.fill("#name", name)
    page.fill("#password", password)
    page.click("#login button")
    expect(page.locator("#who")).to_have_text(f"{name} 님")
