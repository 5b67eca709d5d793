"""Faults survived: simulated citizens file complaints through the load balancer while processes die.

Usage:
    python -m bench.faults [--citizens 50] [--settle 40] [--markdown docs/benchmarks/faults.md]
                                                                              (make bench-faults)

Starts the scaled setup for real (bench/stack.py): PostgreSQL (a database of its own, emptied), a Redis server
of its own on a free port, the action server, two Rasa servers, two gateways and HAProxy. CITIZENS simulated
citizens (three in five on the web chat, the rest on Kakao) each file complaints one after another, a form of
five messages, pausing a second or two between messages as people do. After SETTLE seconds of normal
running, four faults follow, SETTLE seconds apart: SIGKILL of a Rasa server, SIGKILL of a gateway, a restart
of PostgreSQL (the machine's server: run it alone), a restart of Redis; then SETTLE seconds more.

A citizen does what a person would: on the web chat, a page whose socket drops reconnects through the
balancer with its key and waits for the answer (pushed later if it was missed), and sends the message again
only if none comes; on Kakao, an "on its way" or "saved, answered later" answer lets the citizen go on (the
answer comes with the next message), an error or an unsaved message is sent again.

Counted from the clients and the database: messages sent, stored, answered; lost (sent, never answered and
not stored); duplicate tickets (a form filed twice); broken forms (a form that ended without its ticket);
p50/p95/p99 of answer times before, during (the SETTLE seconds after each fault) and after; seconds from each
fault to the first answer of a message sent after it; Kakao answers slower than 5 s. The last line is
`faults: sent=N lost=N duplicate_tickets=N broken_forms=N max_recovery_s=N`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import random
import secrets
import signal
import statistics
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg2
from sqlalchemy import func, select
from websockets.client import connect as connect_socket
from websockets.exceptions import ConnectionClosed

from bench.stack import Stack, free_port, running_stack
from bot.profile import load_profile
from bot.settings import PROJECT_ROOT
from bot.store.db import session_factory
from bot.store.models import Message, Ticket

MODEL = PROJECT_ROOT / "models" / "minwon.tar.gz"
POSTGRES = "postgresql://postgres@127.0.0.1:5432"
DATABASE = "minwon_faults"
KAKAO_SECRET = "faults-kakao-secret-0123456789"
TEXTS = load_profile("cheonan").messages
PLACES = ["쌍용동", "불당동", "두정동", "신부동", "성정동", "백석동", "청수동", "봉명동"]
PROBLEMS = [
    "{place} {n}번길 가로등이 며칠째 꺼져 있어요",
    "{place} {n}번길에 쓰레기가 잔뜩 버려져 있어요",
    "{place} {n}번길 보도블록이 깨져서 위험해요",
    "{place} {n}번길 도로에 구멍이 크게 났어요",
]
FORM_END = ("사진 없어요", "번호 안 남길게요", "접수해 주세요")
WAIT_FOR_ANSWER = 30.0


@dataclass
class Sent:
    """One message a citizen sent, and what came of it."""

    sender: str
    text: str
    at: float
    kakao: bool
    answered_at: float | None = None  # a real answer (not "on its way", not "saved for later")
    deferred: bool = False  # "on its way" or "answered when the bot is back"


@dataclass
class Run:
    sent: list[Sent] = field(default_factory=list)
    forms: list[tuple[str, bool]] = field(default_factory=list)  # (sender, the citizen saw "접수 번호")
    faults: list[tuple[str, float]] = field(default_factory=list)
    stop: float = 0.0


def _form(n: int) -> list[str]:
    place = random.choice(PLACES)
    return [
        random.choice(PROBLEMS).format(place=place, n=n),
        f"{place} {n}번길 {n % 90 + 10}번지 앞이에요",
        *FORM_END,
    ]


def _texts(frame: dict[str, Any]) -> list[str]:
    return [str(m.get("text", "")) for m in frame.get("messages", [])]


def _waiting(texts: list[str]) -> bool:
    """Whether an answer only says the real one comes later."""
    later = (TEXTS["rasa_down"], TEXTS["kakao_wait"], TEXTS["kakao_more"])
    return bool(texts) and all(t in later for t in texts)


async def _web_citizen(url: str, run: Run, numbers: Iterator[int]) -> None:
    while time.monotonic() < run.stop:
        sender, token = f"faults-web-{secrets.token_hex(6)}", ""
        filed = False
        socket = None
        for text in _form(next(numbers)):
            message = Sent(sender, text, time.monotonic(), kakao=False)
            run.sent.append(message)
            for _attempt in range(3):
                try:
                    if socket is None:
                        socket = await connect_socket(url)
                        await socket.send(json.dumps({"type": "hello", "sender": sender, "token": token}))
                    if message.answered_at is None and not message.deferred:
                        await socket.send(json.dumps({"sender": sender, "text": text}))
                    deadline = time.monotonic() + WAIT_FOR_ANSWER
                    while time.monotonic() < deadline:
                        frame = json.loads(await asyncio.wait_for(socket.recv(), deadline - time.monotonic()))
                        if frame.get("type") == "session":
                            token = frame["token"]
                            continue
                        texts = _texts(frame)
                        if frame.get("type") != "messages" or not texts:
                            continue
                        if _waiting(texts):
                            message.deferred = True
                            continue
                        message.answered_at = time.monotonic()
                        filed = filed or any("접수 번호" in t for t in texts)
                        break
                    if message.answered_at is not None:
                        break
                    message.deferred = False  # nothing came: send it again
                except (ConnectionClosed, OSError, asyncio.TimeoutError):
                    socket = None  # the page reconnects and waits for what it missed
                    await asyncio.sleep(0.5)
            await asyncio.sleep(random.uniform(1.0, 2.0))
        run.forms.append((sender, filed))
        if socket is not None:
            await socket.close()


async def _kakao_citizen(client: httpx.AsyncClient, run: Run, numbers: Iterator[int]) -> None:
    while time.monotonic() < run.stop:
        user = f"faults-kakao-{secrets.token_hex(6)}"
        filed = False
        for text in _form(next(numbers)):
            message = Sent(f"{user}", text, time.monotonic(), kakao=True)
            run.sent.append(message)
            who = {"id": user, "type": "botUserKey", "properties": {}}
            body: dict[str, Any] = {
                "userRequest": {"utterance": text, "user": who, "params": {"surface": "Kakaotalk.plusfriend"},
                                "lang": "ko"},
                "bot": {"id": "faults-bot"}, "action": {"params": {}, "detailParams": {}, "clientExtra": {}},
            }  # fmt: skip
            for _attempt in range(3):
                try:
                    response = await client.post("/kakao/skill", json=body, timeout=10)
                    response.raise_for_status()
                    texts = [
                        o["simpleText"]["text"]
                        for o in response.json()["template"]["outputs"]
                        if "simpleText" in o
                    ]
                except (httpx.HTTPError, KeyError, ValueError):
                    await asyncio.sleep(1.0)
                    continue
                if TEXTS["rasa_down_unsaved"] in texts:
                    await asyncio.sleep(2.0)
                    continue
                if _waiting(texts):
                    message.deferred = True
                    await asyncio.sleep(10.0 if TEXTS["rasa_down"] in texts else 2.0)
                else:
                    message.answered_at = time.monotonic()
                filed = filed or any("접수 번호" in t for t in texts)
                break
            await asyncio.sleep(random.uniform(1.0, 2.0))
        if not filed:  # the answer to the last message may be waiting: one more message brings it
            with contextlib.suppress(httpx.HTTPError, KeyError, ValueError):
                body["userRequest"]["utterance"] = "접수됐나요?"  # the last message's request, once more
                response = await client.post("/kakao/skill", json=body, timeout=10)
                filed = any(
                    "접수 번호" in o.get("simpleText", {}).get("text", "")
                    for o in response.json()["template"]["outputs"]
                )
        run.forms.append((user, filed))


def fresh_database(name: str = DATABASE) -> str:
    """Return the address of database NAME on this machine's PostgreSQL, dropped and made again."""
    connection = psycopg2.connect(f"{POSTGRES}/postgres")
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        cursor.execute(f"CREATE DATABASE {name}")
    connection.close()
    return f"{POSTGRES}/{name}"


@contextlib.contextmanager
def _redis(port: int, folder: Path) -> Iterator[dict[str, subprocess.Popen[bytes]]]:
    log = open(folder / "redis.log", "ab")  # noqa: SIM115 - closed below
    command = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    holder = {"process": subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)}
    holder["command"] = command  # type: ignore[assignment]
    time.sleep(0.5)
    try:
        yield holder
    finally:
        holder["process"].terminate()
        holder["process"].wait(timeout=10)
        log.close()


def _restart_postgres() -> None:
    cluster = sorted(os.listdir("/etc/postgresql"))[0]
    subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", cluster, "main", "restart"], check=True)


async def _faults(stack: Stack, redis: dict[str, Any], run: Run, settle: float) -> None:
    await asyncio.sleep(settle)
    run.faults.append(("Rasa server killed", time.monotonic()))
    os.kill(stack.pids[f"rasa-{stack.rasa_urls[0].rsplit(':', 1)[1]}"], signal.SIGKILL)
    await asyncio.sleep(settle)
    run.faults.append(("gateway killed", time.monotonic()))
    os.kill(stack.pids["gateway-1"], signal.SIGKILL)
    await asyncio.sleep(settle)
    run.faults.append(("PostgreSQL restarted", time.monotonic()))
    await asyncio.to_thread(_restart_postgres)
    await asyncio.sleep(settle)
    run.faults.append(("Redis restarted", time.monotonic()))
    redis["process"].kill()
    redis["process"].wait()
    redis["process"] = subprocess.Popen(
        redis["command"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


def _percentiles(values: list[float]) -> str:
    if len(values) < 2:
        return "–"
    cuts = statistics.quantiles(values, n=100)
    return f"{cuts[49] * 1000:.0f} / {cuts[94] * 1000:.0f} / {cuts[98] * 1000:.0f} ms (n={len(values)})"


def run_faults(citizens: int, settle: float) -> dict[str, Any]:
    """Run the scaled setup through four faults under load; return what was counted."""
    database_url = fresh_database()
    with tempfile.TemporaryDirectory(prefix="faults-") as name:
        folder = Path(name)
        redis_port = free_port()
        with _redis(redis_port, folder) as redis, running_stack(
            MODEL, folder, gateways=2, rasa_servers=2, redis_url=f"redis://127.0.0.1:{redis_port}/0",
            database_url=database_url, settings={"KAKAO_SKILL_SECRET": KAKAO_SECRET},
        ) as stack:  # fmt: skip
            run = Run(stop=time.monotonic() + settle * 5)
            started = time.monotonic()

            async def drive() -> None:
                numbers = itertools.count(1)
                url = (stack.gateway_url or "").replace("http://", "ws://") + "/web/ws"
                headers = {"X-Kakao-Skill-Secret": KAKAO_SECRET}
                async with httpx.AsyncClient(base_url=stack.gateway_url or "", headers=headers) as client:
                    web = citizens * 3 // 5
                    tasks = [_web_citizen(url, run, numbers) for _ in range(web)]
                    tasks += [_kakao_citizen(client, run, numbers) for _ in range(citizens - web)]
                    await asyncio.gather(_faults(stack, redis, run, settle), *tasks)

            asyncio.run(drive())
            time.sleep(15)  # the last catch-up round
            return _count(run, database_url, started, settle)


def _count(run: Run, database_url: str, started: float, settle: float) -> dict[str, Any]:
    with session_factory(database_url)() as session:
        stored = {
            (m.sender, m.raw_text) for m in session.scalars(select(Message).where(Message.direction == "in"))
        }
        answered_in_db = {
            (m.sender, m.raw_text)
            for m in session.scalars(
                select(Message).where(Message.direction == "in", Message.answered.is_(True))
            )
        }
        tickets = dict(session.execute(select(Ticket.sender, func.count()).group_by(Ticket.sender)).all())
    lost = [s for s in run.sent if s.answered_at is None and (s.sender, s.text) not in stored]
    unanswered = [s for s in run.sent if s.answered_at is None and (s.sender, s.text) not in answered_in_db]
    duplicates = sum(n - 1 for n in tickets.values() if n > 1)
    broken = [sender for sender, filed in run.forms if not filed and not tickets.get(sender)]
    windows = {"before": (started, run.faults[0][1])}
    for (label, at), following in zip(run.faults, run.faults[1:] + [("end", run.stop)]):
        windows[label] = (at, following[1])
    latencies = {
        label: _percentiles([s.answered_at - s.at for s in run.sent if s.answered_at and start <= s.at < end])
        for label, (start, end) in windows.items()
    }
    recovery = {}
    for label, at in run.faults:
        after = sorted(s.answered_at for s in run.sent if s.at >= at and s.answered_at)
        recovery[label] = round(after[0] - at, 1) if after else None
    kakao_slow = [s for s in run.sent if s.kakao and s.answered_at and s.answered_at - s.at > 5]
    return {
        "citizens": len({s.sender for s in run.sent}), "sent": len(run.sent), "stored": len(stored),
        "answered": len(run.sent) - len(unanswered), "lost": len(lost),
        "lost_examples": [(s.sender, s.text) for s in lost[:5]],
        "forms": len(run.forms), "duplicate_tickets": duplicates, "broken_forms": len(broken),
        "latency": latencies, "recovery_s": recovery, "kakao_over_5s": len(kakao_slow),
        "max_recovery_s": max((r for r in recovery.values() if r is not None), default=None),
    }  # fmt: skip


def summary(result: dict[str, Any]) -> str:
    return (
        f"faults: sent={result['sent']} lost={result['lost']} "
        f"duplicate_tickets={result['duplicate_tickets']} broken_forms={result['broken_forms']} "
        f"max_recovery_s={result['max_recovery_s']}"
    )


def report(result: dict[str, Any], citizens: int, settle: float) -> str:
    lines = [
        "# Faults under load",
        "",
        f"`python -m bench.faults --citizens {citizens} --settle {settle:g}` (make bench-faults), "
        f"{time.strftime('%Y-%m-%d')}, this machine (2 cores): two Rasa servers, two gateways, HAProxy, "
        "PostgreSQL and Redis; web-chat and Kakao citizens filing complaint forms.",
        "",
        f"Citizens (forms) {result['forms']}; messages sent {result['sent']}, stored {result['stored']}, "
        f"answered {result['answered']}; Kakao answers slower than 5 s: {result['kakao_over_5s']}.",
        "",
        "| window | answer time p50 / p95 / p99 | recovery after the fault |",
        "| --- | --- | --- |",
    ]
    for label, latency in result["latency"].items():
        recovered = result["recovery_s"].get(label)
        lines.append(f"| {label} | {latency} | {'' if label == 'before' else f'{recovered} s'} |")
    if result["lost_examples"]:
        lines += ["", "Lost (first five): " + "; ".join(f"{s} {t!r}" for s, t in result["lost_examples"])]
    lines += ["", summary(result)]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.faults", description=__doc__.splitlines()[0])
    parser.add_argument("--citizens", type=int, default=50)
    parser.add_argument(
        "--settle", type=float, default=40.0, help="seconds before, between and after the faults"
    )
    parser.add_argument("--markdown", type=Path, help="write the report here too")
    args = parser.parse_args(argv)
    result = run_faults(args.citizens, args.settle)
    text = report(result, args.citizens, args.settle)
    print(text, end="")
    if args.markdown:
        args.markdown.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
