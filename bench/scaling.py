"""Scaling benchmark: the scaled setup with 1, 2 and 4 Rasa servers, against Rasa's starter bot.

Usage:
    python -m bench.scaling [--servers 1,2,4] [--citizens 10,50] [--rounds 2]
                            [--out docs/benchmarks/scaling.md]                    (make bench-scaling)

Each setup runs for real (bench/stack.py): PostgreSQL (a database of its own, emptied), Redis (db 13,
emptied), the action server, N Rasa servers, two gateways and HAProxy in front of them. Simulated citizens
write at once through HAProxy's web-chat socket, the same conversations as bench/gateway.py. The vanilla
bot (`rasa init`, REST, one server) answers the same messages in the same run, before the setups start.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import functools
import tempfile
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import redis

from bench.faults import fresh_database
from bench.gateway import _direct, _gateway, _machine, _quantile, _workload
from bench.stack import memory, running_stack, vanilla_rasa
from bot.settings import PROJECT_ROOT

__all__ = ["main"]

DATABASE = "minwon_scaling"
REDIS_URL = "redis://127.0.0.1:6379/13"
MESSAGES = 8  # per citizen and round
Send = Callable[[list[list[str]], str], Coroutine[Any, Any, list[float]]]  # plans, tag → answer times
Row = tuple[str, int, float, float, float, int]  # setup, citizens, messages/s, p50, p95, memory (bytes)


def _measure(send: Send, citizens: int, rounds: int, tag: str) -> tuple[float, float, float]:
    """Return messages a second, p50 and p95 (ms) of ROUNDS rounds of CITIZENS writing at once."""
    latencies: list[float] = []
    spent = 0.0
    for r in range(rounds):
        started = time.perf_counter()
        latencies += asyncio.run(send(_workload(citizens, MESSAGES, seed=r + 1), f"{tag}-{citizens}-{r}"))
        spent += time.perf_counter() - started
    return len(latencies) / spent, _quantile(latencies, 0.5) * 1000, _quantile(latencies, 0.95) * 1000


def run(servers: list[int], levels: list[int], rounds: int) -> list[Row]:
    """Return a row per setup and number of citizens."""
    rows = []
    with tempfile.TemporaryDirectory() as folder, vanilla_rasa(Path(folder)) as (url, pid):
        asyncio.run(_direct([url], _workload(2, 4, 0), "warmup"))
        for citizens in levels:
            rate, p50, p95 = _measure(functools.partial(_direct, [url]), citizens, rounds, "v")
            rows.append(("vanilla Rasa 3.6 (`rasa init`), one server", citizens, rate, p50, p95, memory(pid)))
    model = PROJECT_ROOT / "models" / "minwon.tar.gz"
    for count in servers:
        redis.Redis.from_url(REDIS_URL).flushdb()
        with (
            tempfile.TemporaryDirectory() as folder,
            running_stack(
                model, Path(folder), gateways=2, rasa_servers=count, redis_url=REDIS_URL,
                database_url=fresh_database(DATABASE),
            ) as stack,
        ):  # fmt: skip
            url = stack.gateway_url or ""
            asyncio.run(_gateway(url, _workload(2 * count, 4, 0), f"warmup{count}"))
            for citizens in levels:
                rate, p50, p95 = _measure(functools.partial(_gateway, url), citizens, rounds, f"s{count}")
                used = sum(memory(p) for name, p in stack.pids.items() if name != "balancer")
                setup = f"this stack, {count} Rasa server{'s' if count > 1 else ''}, 2 gateways, HAProxy"
                rows.append((setup, citizens, rate, p50, p95, used))
    return rows


def report(rows: list[Row], rounds: int) -> str:
    lines = [
        "# Scaling benchmark",
        "",
        f"`make bench-scaling` (python -m bench.scaling), {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} "
        f"UTC, on {_machine()}.",
        "",
        f"Citizens writing at once, {MESSAGES} messages each, {rounds} rounds; every message waits for its "
        "answer. This stack: web-chat sockets through HAProxy to two gateways (Redis shared), PostgreSQL, "
        "the action server and N Rasa servers, all on this machine. Vanilla: Rasa's starter bot over REST, "
        "conversations in memory, nothing stored. Memory: the processes' proportional set size after the "
        "load (HAProxy's few MB left out).",
        "",
        "| setup | citizens | messages/s | p50 ms | p95 ms | memory GB | × vanilla |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    vanilla = {citizens: rate for setup, citizens, rate, *_ in rows if setup.startswith("vanilla")}
    for setup, citizens, rate, p50, p95, used in rows:
        lines.append(
            f"| {setup} | {citizens} | {rate:.1f} | {p50:.0f} | {p95:.0f} | {used / 2**30:.2f} "
            f"| {rate / vanilla[citizens]:.2f} |"
        )
    lines += ["", "The machines here are shared and noisy: compare the rows of one run, not runs.", ""]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.scaling", description=__doc__.splitlines()[0])
    parser.add_argument("--servers", default="1,2,4", help="Rasa servers per setup, comma-separated")
    parser.add_argument("--citizens", default="10,50", help="citizens writing at once, comma-separated")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--out", type=Path, default=PROJECT_ROOT / "docs" / "benchmarks" / "scaling.md")
    args = parser.parse_args()
    rows = run(
        [int(n) for n in args.servers.split(",") if n], [int(n) for n in args.citizens.split(",") if n],
        args.rounds,
    )  # fmt: skip
    text = report(rows, args.rounds)
    args.out.write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
