"""Fuzz the gateway's edges with generated bad input: no server error, no dropped socket, no hang.

Usage:
    python -m bench.fuzz [--count 10000] [--database-url URL] [--markdown docs/benchmarks/fuzz.md]
                                                                                   (make fuzz)

Starts the gateway (python -m bot) on 127.0.0.1 with a fresh database (SQLite in a temporary folder, or
DATABASE_URL's, which it empties), Kakao and Telegram (webhook) switched on, and a stand-in for Rasa and for
Telegram's Bot API in this process, so that what is measured is the gateway. hypothesis generates COUNT
payloads per endpoint: the Kakao skill, the Telegram webhook, the web-chat socket, the web chat's photo
upload, the console's login and every console API route with a valid session; each is JSON of any shape, the
endpoint's own shape with wrong types, deep nesting, lone surrogates, NUL characters, or bytes that are not
UTF-8 (uploads: any bytes, or a picture's first bytes and junk). Counted per endpoint: payloads, 5xx
answers, dropped connections (the server closed or reset one), hangs (no answer in 10 s), the gateway's
memory before and after, and whether /healthz answers after. The last line printed (and of the report) is
`fuzz: payloads=N server_errors=N dropped=N hangs=N`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from websockets.client import connect as connect_socket
from websockets.exceptions import ConnectionClosed

from bench.stack import free_port, serving_in_a_thread, stop
from bot.settings import PROJECT_ROOT
from bot.store.agents import add_agent
from bot.store.db import get_engine, session_factory
from bot.store.migrate import upgrade

__all__ = ["main", "run_fuzz"]

KAKAO_SECRET = "fuzz-kakao-secret-0123456789"
TELEGRAM_SECRET = "fuzz-telegram-secret-0123456789"
TELEGRAM_TOKEN = "123456:fuzz-token"
AGENT, PASSWORD = "fuzz-agent", "fuzz-password-0123"
SENDER = "fuzzsender-0000-4bcd-9a51"
HANG = 10.0

# --- what is generated ---

_TEXT = st.text(max_size=60)
# Text a client library can send in a frame: no lone surrogates (those come as JSON escapes).
_FRAME_TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=200)
_SCALARS = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | _TEXT
JSON = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_TEXT, inner, max_size=4),
    max_leaves=12,
)
_ODD_TEXT = (
    st.sampled_from(["가로등 \ud800 고장", "NUL\x00문자", "\udfff", "a" * 5000, "죽고 싶어요", ""]) | _TEXT
)


def _deep(depth: int) -> str:
    return "[" * depth + "]" * depth


# Whole bodies that are not JSON at all, or nested past any parser's patience.
RAW = st.binary(max_size=300) | st.integers(40, 5000).map(lambda d: _deep(d).encode())


def _mostly(valid: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """VALID three times in four, any JSON otherwise: deep paths are reached, and wrong types tried."""
    return st.one_of(valid, valid, valid, JSON)


def _body(shaped: st.SearchStrategy[Any]) -> st.SearchStrategy[bytes]:
    """The endpoint's own shape (with wrong types inside) or any JSON, as bytes; or raw bytes."""
    encoded = _mostly(shaped).map(lambda value: json.dumps(value).encode())
    return st.one_of(encoded, encoded, encoded, encoded, encoded, encoded, encoded, RAW)


_ID = st.text(st.characters(exclude_categories=["Cs"]), min_size=1, max_size=70)
KAKAO = _body(
    st.fixed_dictionaries(
        {
            "userRequest": _mostly(
                st.fixed_dictionaries(
                    {"utterance": _ODD_TEXT, "user": _mostly(st.fixed_dictionaries({"id": _ID}))},
                    optional={"callbackUrl": st.none() | _TEXT | JSON, "params": JSON},
                )
            ),
            "action": _mostly(
                st.fixed_dictionaries(
                    {"params": st.one_of(JSON, _TEXT, st.lists(_SCALARS), st.dictionaries(_TEXT, JSON))},
                    optional={"clientExtra": _mostly(st.fixed_dictionaries({"payload": _ODD_TEXT}))},
                )
            ),
        },
        optional={"bot": JSON},
    )
)
TELEGRAM = _body(
    st.fixed_dictionaries(
        {
            "update_id": _mostly(st.integers(-(2**40), 2**40)),
            "message": _mostly(
                st.fixed_dictionaries(
                    {
                        "message_id": _mostly(st.integers(0, 2**31)),
                        "date": _mostly(st.integers(0, 2**31)),
                        "chat": _mostly(
                            st.fixed_dictionaries({"id": st.integers(-(2**40), 2**40), "type": _TEXT})
                        ),
                    },
                    optional={"text": _ODD_TEXT | JSON, "from": JSON, "location": JSON, "photo": JSON},
                )
            ),
        },
        optional={"callback_query": JSON},
    )
)
WEB = st.one_of(
    st.binary(max_size=200).map(lambda b: ("bytes", b)),
    _FRAME_TEXT.map(lambda t: ("text", t)),
    st.fixed_dictionaries(
        {"sender": _mostly(st.just(SENDER)), "text": _mostly(_ODD_TEXT)},
        optional={"payload": _mostly(_ODD_TEXT), "type": _mostly(st.just("hello"))},
    ).map(lambda d: ("text", json.dumps(d))),
    JSON.map(lambda d: ("text", json.dumps(d))),
    st.integers(40, 3000).map(lambda d: ("text", _deep(d))),
)
# Web-chat uploads: bytes of any kind, or the start of a real picture's (JPEG, PNG, WebP) followed by junk,
# with the right key or another; sometimes asking for the place.
_MAGIC = st.sampled_from([b"\xff\xd8\xff\xe0", b"\x89PNG\r\n\x1a\n", b"RIFF\x00\x00\x00\x00WEBPVP8 ", b""])
UPLOAD = st.tuples(
    st.builds(lambda magic, rest: magic + rest, _MAGIC, st.binary(max_size=3000)),
    st.booleans(),
    st.sampled_from(["right", "wrong", "none"]),
)
LOGIN = _body(st.fixed_dictionaries({"name": st.just(AGENT) | _TEXT | JSON, "password": _TEXT | JSON}))
CONSOLE_ROUTES = [
    ("GET", "/agent/api/me"), ("GET", "/agent/api/queue"), ("GET", "/agent/api/review"),
    ("GET", "/agent/api/handoffs/{id}"), ("POST", "/agent/api/handoffs/{id}/{action}"),
    ("POST", "/agent/api/messages/{id}/label"), ("GET", "/agent/api/photo?ref=upload:{action}"),
    ("GET", "/agent/api/photo?ref=telegram:{id}"),
    # The staff workspace, insights and card news (the fuzzing agent is an admin: every route answers it).
    ("GET", "/agent/api/tickets?status={action}&category={action}&from={action}&q={action}"),
    ("GET", "/agent/api/tickets/options"), ("GET", "/agent/api/tickets/2026-{id}"),
    ("POST", "/agent/api/tickets/2026-{id}/{action}"), ("GET", "/agent/api/insights?days={id}&by={action}"),
    ("GET", "/agent/api/news"), ("POST", "/agent/api/news/cards"), ("POST", "/agent/api/news/send/{action}"),
    # 소통라이브: the console's and the public page.
    ("GET", "/agent/api/live"), ("POST", "/agent/api/live/sessions"),
    ("GET", "/agent/api/live/{id}/questions"), ("GET", "/agent/api/live/{id}/questions.csv"),
    ("POST", "/agent/api/live/questions/{id}/{action}"), ("GET", "/live/{id}"),
]  # fmt: skip
ACTIONS = [
    "claim", "reply", "ticket", "reveal", "close", "false_alarm", "resume", "nothing", "../x", "%00",
    "status", "reassign", "merge", "weekend_guide", "district_notices", "2026-12-01", "가로등",
    "hide", "show", "regroup", "answer",
]  # fmt: skip
CONSOLE = st.tuples(
    st.sampled_from(CONSOLE_ROUTES),
    st.integers(-5, 2**63) | st.sampled_from([0, 1, 2]),
    st.sampled_from(ACTIONS),
    _body(
        st.fixed_dictionaries(
            {},
            optional={
                "text": _ODD_TEXT | JSON,
                "reason": _ODD_TEXT | JSON,
                "intent": _TEXT | JSON,
                "category": _TEXT | JSON,
                "description": _ODD_TEXT | JSON,
                "location": _ODD_TEXT | JSON,
                "status": st.sampled_from(["received", "in_progress", "resolved", "x"]) | JSON,
                "note": _ODD_TEXT | JSON,
                "department": _TEXT | JSON,
                "into": _TEXT | JSON,
                "topic": st.sampled_from(["weekend_guide", "district_notices", "x"]) | JSON,
                "title": _ODD_TEXT | JSON,
                "cards": JSON,
                "opens_at": st.sampled_from(["2026-12-01T09:00", "9999-12-31T23:59-23:00", "x"]) | JSON,
                "closes_at": st.sampled_from(["2026-12-09T18:00", "0001-01-01T00:00+14:00"]) | JSON,
                "airs_at": st.sampled_from(["2026-12-10T19:00+09:00", "2026-12-10"]) | JSON,
                "stream_url": st.sampled_from(["https://youtu.be/x", "javascript:x"]) | _TEXT | JSON,
                "url": st.sampled_from(["https://youtu.be/x?t=1", "http://x"]) | _TEXT | JSON,
            },
        )  # fmt: skip
    ),
)


# --- stand-ins for Rasa and Telegram's Bot API ---


def _stand_ins() -> Starlette:
    async def rasa(request: Request) -> Response:
        path = request.url.path
        if request.method == "GET" and path == "/":
            return Response("Hello from Rasa: 3.6.21")
        if path == "/status":
            return JSONResponse({"model_file": "minwon.tar.gz", "model_id": "fuzz"})
        if path == "/webhooks/rest/webhook":
            body = await request.json()
            return JSONResponse([{"recipient_id": body.get("sender"), "text": "받았어요"}])
        if path == "/model/parse":
            body = await request.json()
            intent = {"name": "nlu_fallback", "confidence": 0.3}
            return JSONResponse({"text": body.get("text", ""), "intent": intent, "intent_ranking": []})
        if path.endswith("/tracker"):
            return JSONResponse({"events": []})
        return JSONResponse({})

    async def telegram(request: Request) -> Response:
        method = request.path_params["method"]
        if method == "getMe":
            me = {"id": 1, "is_bot": True, "first_name": "민원", "username": "minwon_fuzz_bot"}
            return JSONResponse({"ok": True, "result": me})
        if method in ("sendMessage", "editMessageText"):
            chat = {"id": 1, "type": "private"}
            return JSONResponse(
                {"ok": True, "result": {"message_id": 1, "date": 0, "chat": chat, "text": "x"}}
            )
        return JSONResponse({"ok": True, "result": True})

    return Starlette(
        routes=[
            Route("/telegram/bot{token}/{method}", telegram, methods=["GET", "POST"]),
            Route("/{path:path}", rasa, methods=["GET", "POST", "PUT"]),
        ]
    )


# --- running it ---


@dataclass
class Tally:
    """What one endpoint's payloads gave."""

    endpoint: str
    payloads: int = 0
    server_errors: int = 0
    dropped: int = 0
    hangs: int = 0
    examples: list[str] = field(default_factory=list)

    def note(self, problem: str, what: Any) -> None:
        if len(self.examples) < 5:
            self.examples.append(f"{problem}: {str(what)[:160]!r}")


def _run_examples(strategy: st.SearchStrategy[Any], count: int, check: Callable[[Any], None]) -> None:
    """Feed COUNT generated values to CHECK (hypothesis drives generation; nothing is shrunk or stored)."""

    @settings(
        max_examples=count, database=None, deadline=None, phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )  # fmt: skip
    @given(strategy)
    def each(value: Any) -> None:
        check(value)

    each()


def _rss(pid: int) -> int:
    """Return the resident memory of process PID in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def _post(client: httpx.Client, tally: Tally, path: str, body: bytes, headers: dict[str, str]) -> None:
    tally.payloads += 1
    try:
        response = client.post(path, content=body, headers={"Content-Type": "application/json", **headers})
    except httpx.TimeoutException:
        tally.hangs += 1
        tally.note("hang", body)
        return
    except httpx.TransportError as exc:
        tally.dropped += 1
        tally.note(f"dropped ({type(exc).__name__})", body)
        return
    if response.status_code >= 500:
        tally.server_errors += 1
        tally.note(f"{response.status_code} {path}", body)


def _fuzz_web(url: str, count: int) -> Tally:
    tally = Tally("web chat socket")
    frames: list[tuple[str, Any]] = []
    _run_examples(WEB, count, frames.append)

    async def drive() -> None:
        address = url.replace("http://", "ws://") + "/web/ws"
        socket = None
        for kind, frame in frames:
            tally.payloads += 1
            try:
                if socket is None:
                    socket = await connect_socket(address, max_size=2**22)
                await socket.send(frame)
                hello = kind == "text" and '"hello"' in frame
                if not hello:  # everything else is answered (messages, or an error)
                    await asyncio.wait_for(socket.recv(), timeout=HANG)
            except asyncio.TimeoutError:
                tally.hangs += 1
                tally.note("hang", frame)
                await socket.close() if socket else None
                socket = None
            except (ConnectionClosed, OSError) as exc:
                tally.dropped += 1
                tally.note(f"dropped ({type(exc).__name__})", frame)
                socket = None
        if socket is not None:
            await socket.close()

    asyncio.run(drive())
    return tally


def _fuzz_upload(client: httpx.Client, gateway: str, count: int) -> Tally:
    """POST generated bodies to /web/upload for a page admitted to its conversation (its key from a hello)."""
    tally = Tally("web-chat upload")
    sender = "fuzzupload-0000-4bcd"

    async def key() -> str:
        async with connect_socket(gateway.replace("http://", "ws://") + "/web/ws") as socket:
            await socket.send(json.dumps({"type": "hello", "sender": sender}))
            return str(json.loads(await socket.recv())["token"])

    token = asyncio.run(key())
    keys = {"right": {"X-Chat-Token": token}, "wrong": {"X-Chat-Token": "0" * 32}, "none": {}}

    def call(value: tuple[bytes, bool, str]) -> None:
        body, place, which = value
        path = "/web/upload" + ("?location=1" if place else "")
        _post(
            client, tally, path, body, {"Content-Type": "image/jpeg", "X-Chat-Sender": sender, **keys[which]}
        )

    _run_examples(UPLOAD, count, call)
    return tally


def _fuzz_console(client: httpx.Client, count: int) -> tuple[Tally, Tally]:
    # Every route with a valid session, logged in before the generated logins have this address throttled.
    routes = Tally("console API")
    with httpx.Client(base_url=str(client.base_url), timeout=HANG) as agent:
        answer = agent.post("/agent/api/login", json={"name": AGENT, "password": PASSWORD})
        answer.raise_for_status()
        csrf = {"X-CSRF-Token": answer.json()["csrf"]}

        def call(value: tuple[tuple[str, str], int, str, bytes]) -> None:
            (method, path), number, action, body = value
            target = path.format(id=number, action=action)
            if method == "POST":
                _post(agent, routes, target, body, csrf)
                return
            routes.payloads += 1
            try:
                status = agent.get(target).status_code
            except httpx.TimeoutException:
                routes.hangs += 1
                return
            except httpx.TransportError:
                routes.dropped += 1
                return
            if status >= 500:
                routes.server_errors += 1
                routes.note(str(status), target)

        _run_examples(CONSOLE, count, call)
    login = Tally("console login")
    _run_examples(LOGIN, count, lambda body: _post(client, login, "/agent/api/login", body, {}))
    return login, routes


@contextlib.contextmanager
def _gateway(database_url: str, folder: Path) -> Iterator[tuple[str, int]]:
    """Run python -m bot on a free port with the stand-ins; yield its address and process id."""
    with serving_in_a_thread(_stand_ins()) as stand_ins:
        port = free_port()
        env = {
            **os.environ, "DATABASE_URL": database_url, "RASA_URL": stand_ins, "RASA_TOKEN": "",
            "HOST": "127.0.0.1", "PORT": str(port), "KAKAO_SKILL_SECRET": KAKAO_SECRET,
            "TELEGRAM_TOKEN": TELEGRAM_TOKEN, "TELEGRAM_WEBHOOK_SECRET": TELEGRAM_SECRET,
            "TELEGRAM_API_URL": f"{stand_ins}/telegram/bot", "KAKAO_BUDGET": "3.5",
            "PERSONAL_DATA_KEY_FILE": str(folder / "key"), "PHOTOS_DIR": str(folder / "photos"),
            "WEB_LIMITS": "1000,10000,1000,100000,100000,100000",
        }  # fmt: skip
        log = open(folder / "gateway.log", "wb")  # noqa: SIM115 - closed below
        process = subprocess.Popen(
            [sys.executable, "-m", "bot"], cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
        )
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                if process.poll() is not None:
                    raise RuntimeError(f"the gateway stopped; see {folder / 'gateway.log'}")
                with contextlib.suppress(httpx.HTTPError):
                    if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                        break
                time.sleep(0.3)
            else:
                raise RuntimeError("the gateway did not answer within 2 minutes")
            yield url, process.pid
        finally:
            stop(process, timeout=20)
            log.close()


def _fresh_database(url: str | None, folder: Path) -> str:
    if url is None:
        url = f"sqlite:///{folder / 'fuzz.db'}"
    elif url.startswith("postgresql"):
        from sqlalchemy import text

        with get_engine(url).begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
    upgrade(url)
    with session_factory(url).begin() as session:
        add_agent(session, AGENT, PASSWORD, "admin")
    return url


def run_fuzz(count: int, database_url: str | None = None) -> dict[str, Any]:
    """Fuzz every endpoint with COUNT payloads; return the tallies, memory and health."""
    with tempfile.TemporaryDirectory(prefix="fuzz-") as name:
        folder = Path(name)
        url = _fresh_database(database_url, folder)
        with _gateway(url, folder) as (gateway, pid), httpx.Client(base_url=gateway, timeout=HANG) as client:
            before = _rss(pid)
            started = time.monotonic()
            kakao, telegram = Tally("Kakao skill"), Tally("Telegram webhook")
            kakao_secret = {"X-Kakao-Skill-Secret": KAKAO_SECRET}
            _run_examples(KAKAO, count, lambda body: _post(client, kakao, "/kakao/skill", body, kakao_secret))
            _run_examples(
                TELEGRAM, count,
                lambda body: _post(
                    client, telegram, "/telegram/webhook", body,
                    {"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET},
                ),
            )  # fmt: skip
            web = _fuzz_web(gateway, count)
            upload = _fuzz_upload(client, gateway, count)
            login, routes = _fuzz_console(client, count)
            healthy = client.get("/healthz").status_code == 200
            after = _rss(pid)
            tallies = [kakao, telegram, web, upload, login, routes]
            return {
                "database": url.split(":")[0], "count": count, "seconds": round(time.monotonic() - started),
                "tallies": tallies, "rss_before": before, "rss_after": after, "healthy_after": healthy,
            }  # fmt: skip


def summary(result: dict[str, Any]) -> str:
    """Return the last line: fuzz: payloads=N server_errors=N dropped=N hangs=N."""
    tallies = result["tallies"]
    totals = {
        k: sum(getattr(t, k) for t in tallies) for k in ("payloads", "server_errors", "dropped", "hangs")
    }
    return "fuzz: " + " ".join(f"{k}={v}" for k, v in totals.items())


def report(result: dict[str, Any]) -> str:
    """Return RESULT as the Markdown of docs/benchmarks/fuzz.md."""
    now = dt.datetime.now(dt.timezone.utc)
    before, after = result["rss_before"] / 2**20, result["rss_after"] / 2**20
    lines = [
        "# Fuzzing the gateway", "",
        f"`make fuzz` (python -m bench.fuzz --count {result['count']}), {now:%Y-%m-%d %H:%M} UTC, database "
        f"{result['database']}, {result['seconds']} s. The gateway ran as `python -m bot` with Kakao and "
        "Telegram (webhook) on, Rasa and Telegram's Bot API stood in for by this process.", "",
        "| endpoint | payloads | 5xx | dropped | hangs | first problems |",
        "| --- | ---: | ---: | ---: | ---: | --- |",
    ]  # fmt: skip
    for t in result["tallies"]:
        problems = "; ".join(t.examples) or "none"
        lines.append(
            f"| {t.endpoint} | {t.payloads} | {t.server_errors} | {t.dropped} | {t.hangs} | {problems} |"
        )
    lines += [
        "",
        f"Gateway memory: {before:.0f} MiB before, {after:.0f} MiB after ({after - before:+.0f} MiB). "
        f"/healthz after: {'200' if result['healthy_after'] else 'failed'}.",
        "",
        summary(result),
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Fuzz the gateway; print (or write) the report; exit 1 on any server error, drop or hang."""
    parser = argparse.ArgumentParser(prog="python -m bench.fuzz", description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000, help="payloads per endpoint")
    parser.add_argument(
        "--database-url", help="an empty-able database (default: SQLite in a temporary folder)"
    )
    parser.add_argument("--markdown", type=Path, help="also write the report here")
    args = parser.parse_args(argv)
    result = run_fuzz(args.count, args.database_url)
    text = report(result)
    if args.markdown:
        args.markdown.write_text(text, encoding="utf-8")
    print(text, end="")
    bad = any(t.server_errors or t.dropped or t.hangs for t in result["tallies"])
    return 1 if bad or not result["healthy_after"] else 0


if __name__ == "__main__":
    sys.exit(main())
