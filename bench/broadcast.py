"""Broadcast benchmark: a card set to 10,000 Telegram subscribers through the gateway's own code, with the
Bot API answered in this process (python-telegram-bot's request layer replaced, as the tests do) and
python-telegram-bot's AIORateLimiter keeping Telegram's limits; the gateway stopped half-way and started
again.

Usage:
    python -m bench.broadcast [--subscribers 10000] [--out docs/benchmarks/broadcast.md]

Counts, from what the fake Bot API received: chats that got the set (once, twice, never), the most requests
in any one second (Telegram allows about 30), the time to deliver, and the gateway's peak memory (resident
set, from the kernel). Its last line is
`broadcast: subscribers=N delivered=N lost=N twice=N seconds=N max_per_second=N peak_mb=N`.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import resource
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
from starlette.testclient import TestClient
from telegram.ext import Application
from telegram.request import BaseRequest, RequestData

from bench.gateway import _machine
from bot.channels.telegram import rate_limiter
from bot.gateway import create_app
from bot.settings import Settings
from bot.store.broadcasts import add_card_set, broadcast_report
from bot.store.db import session_factory
from bot.store.migrate import upgrade
from bot.store.models import Subscription

__all__ = ["main"]

TOKEN = "123456:BENCH-token-not-real"


class BotApi(BaseRequest):
    """The Bot API, answered at once in this process: records each request's chat and second."""

    def __init__(self) -> None:
        self.chats: Counter[str] = Counter()
        self.seconds: Counter[int] = Counter()

    async def initialize(self) -> None:
        """Nothing to open."""

    async def shutdown(self) -> None:
        """Nothing to close."""

    @property
    def read_timeout(self) -> float:
        return 5.0

    async def do_request(  # type: ignore[override]
        self, url: str, method: str, request_data: RequestData | None = None, **timeouts: Any
    ) -> tuple[int, bytes]:
        name = url.rsplit("/", 1)[-1]
        params = json.loads(request_data.json_payload) if request_data else {}
        result: Any = True
        if name == "getMe":
            result = {"id": 1, "is_bot": True, "first_name": "bench", "username": "bench_bot"}
        elif name == "sendMediaGroup":
            self.chats[str(params["chat_id"])] += 1
            self.seconds[int(time.monotonic())] += 1
            chat = {"id": int(params["chat_id"]), "type": "private"}
            media = json.loads(params["media"]) if isinstance(params["media"], str) else params["media"]
            result = [{"message_id": i, "date": 0, "chat": chat} for i, _ in enumerate(media)]
        return 200, json.dumps({"ok": True, "result": result}).encode()


def _gateway(database_url: str, api: BotApi) -> TestClient:
    application = (
        Application.builder().token(TOKEN).request(api).get_updates_request(api).updater(None)
        .rate_limiter(rate_limiter()).build()
    )  # fmt: skip
    settings = Settings(
        database_url=database_url, rasa_url="http://rasa.invalid", telegram_token=TOKEN,
        telegram_webhook_secret="bench-webhook-secret-0001", agent_cookie_secure=False,
    )  # fmt: skip
    rasa = httpx.AsyncClient(transport=httpx.MockTransport(lambda request: httpx.Response(503)))
    return TestClient(create_app(settings, rasa, application))


def run(subscribers: int) -> dict[str, Any]:
    """Broadcast to SUBSCRIBERS chats, stopping the gateway half-way; return the figures."""
    folder = Path(tempfile.mkdtemp(prefix="bench-broadcast-"))
    url = f"sqlite:///{folder / 'broadcast.db'}"
    upgrade(url)
    cards = [
        {"image": f"https://blog.cheonan.example/img/{n}.jpg", "caption": f"주말 나들이 {n}\n가 볼 곳",
         "link": f"https://blog.cheonan.example/posts/{n}"}
        for n in range(4)
    ]  # fmt: skip
    with session_factory(url).begin() as session:
        add_card_set(session, topic="weekend_guide", title="천안주말사용설명서", cards=cards, by="bench")
        session.bulk_save_objects(
            [
                Subscription(channel="telegram", sender=str(10_000_000 + n), topic="weekend_guide")
                for n in range(subscribers)
            ]
        )
    api = BotApi()
    began = time.monotonic()
    with _gateway(url, api) as client:
        portal = client.portal
        assert portal is not None
        broadcaster = client.app.state.broadcaster  # type: ignore[attr-defined]

        async def stop_half_way() -> None:
            while len(api.chats) < subscribers // 2:
                await asyncio.sleep(0.2)
            broadcaster.stopping = True

        portal.start_task_soon(stop_half_way)
        portal.call(broadcaster.send, "weekend_guide")
    halfway = len(api.chats)
    with _gateway(url, api) as client:  # the gateway started again
        assert client.portal is not None
        again = client.app.state.broadcaster  # type: ignore[attr-defined]
        client.portal.call(again.resume)
    seconds = time.monotonic() - began
    with session_factory(url)() as session:
        [report] = broadcast_report(session)
    return {
        "subscribers": subscribers, "delivered": len(api.chats), "halfway": halfway,
        "lost": subscribers - len(api.chats), "twice": sum(1 for n in api.chats.values() if n > 1),
        "seconds": round(seconds, 1), "max_per_second": max(api.seconds.values(), default=0),
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024, "report": report,
    }  # fmt: skip


def markdown(figures: dict[str, Any]) -> str:
    """Return the figures as docs/benchmarks/broadcast.md."""
    f, report = figures, figures["report"]
    counts = ", ".join(
        f"{status} {report[status]}" for status in ("sent", "queued", "blocked", "failed", "pending")
    )
    summary = " ".join(
        f"{key}={f[key]:.0f}" if key == "seconds" else f"{key}={f[key]}"
        for key in ("subscribers", "delivered", "lost", "twice", "seconds", "max_per_second", "peak_mb")
    )
    lines = [
        "# Broadcast",
        "",
        f"`python -m bench.broadcast --subscribers {f['subscribers']}` (make bench-broadcast), "
        f"{dt.date.today()}, {_machine()}: one card set (4 photos) to every subscriber as one album each, "
        "through the gateway's Telegram code and AIORateLimiter, the Bot API answered in the same process; "
        f"the gateway stopped after {f['halfway']} chats and started again.",
        "",
        "| subscribers | delivered | lost | twice | seconds | at 30/s, at least | most in a second | peak |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
        f"| {f['subscribers']} | {f['delivered']} | {f['lost']} | {f['twice']} | {f['seconds']} | "
        f"{f['subscribers'] / 30:.0f} | {f['max_per_second']} | {f['peak_mb']} MB |",
        "",
        f"The broadcast's own record (python -m bot.news broadcasts): {report['recipients']} recipients; "
        f"{counts}.",
        "",
        f"broadcast: {summary}",
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subscribers", type=int, default=10_000)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    text = markdown(run(args.subscribers))
    print(text, end="")
    if args.out:
        args.out.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
