"""Gateway benchmark: simulated citizens through the web chat socket, against Rasa directly and against
Rasa's own starter bot (`rasa init`, the yardstick), all started in the same run.

Usage:
    python -m bench.gateway [--citizens 1,10,50] [--paced 10,40] [--servers 2] [--rounds 3]
                            [--paced-rounds 8] [--out docs/benchmarks/gateway.md]   (make bench-gateway)

Paths alternate, ROUNDS times, so that all see the same machine; the gateway's overhead is its ratio to
Rasa on all servers, with a 90% bootstrap interval (a paced run's p95 rests on a few dozen slow answers).
The memory of every process (proportional set size, after the load) is reported too.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import datetime as dt
import json
import os
import platform
import random
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from websockets.client import connect

from bench.stack import Stack, memory, running_stack, serving_in_a_thread, vanilla_rasa
from bot.gateway import create_app
from bot.rasa import server_for
from bot.settings import PROJECT_ROOT, Settings
from bot.store.migrate import upgrade

__all__ = ["main"]

CONVERSATIONS = {
    "complaint": [
        "서북구 쌍용동 사거리 가로등이 꺼졌어요",
        "사진 없어요",
        "번호 안 남길게요",
        "접수해 주세요",
    ],
    "welfare": ["기초연금 신청 어떻게 해요?", "고마워요"],
    "info": ["주민등록등본 어디서 떼요?", "자동차세 언제 내요"],
    "chitchat": ["안녕하세요", "오늘 날씨 좋네요", "안녕히 계세요"],
}
MIX = ["complaint", "welfare", "welfare", "info", "info", "chitchat"]


def _workload(citizens: int, per_citizen: int, seed: int) -> list[list[str]]:
    rng = random.Random(seed)
    plans = []
    for _ in range(citizens):
        messages: list[str] = []
        while len(messages) < per_citizen:
            messages += CONVERSATIONS[rng.choice(MIX)]
        plans.append(messages[:per_citizen])
    return plans


NO_LIMITS = (1000.0, 10000.0, 1000.0, 100000.0, 100000.0, 100000.0)  # WEB_LIMITS for simulated citizens
PAUSE = (1.0, 3.0)  # seconds a paced citizen waits before each message (so they do not all start at once)


async def _pause(rng: random.Random | None) -> None:
    if rng is not None:
        await asyncio.sleep(rng.uniform(*PAUSE))


async def _direct(rasa_urls: list[str], plans: list[list[str]], tag: str, paced: bool = False) -> list[float]:
    async with httpx.AsyncClient(timeout=60) as client:

        async def citizen(i: int, messages: list[str]) -> list[float]:
            sender, rng = f"bench:{tag}-{i}", random.Random(i) if paced else None
            url = f"{rasa_urls[server_for(sender, len(rasa_urls))]}/webhooks/rest/webhook"
            times = []
            for text in messages:
                await _pause(rng)
                started = time.perf_counter()
                response = await client.post(url, json={"sender": sender, "message": text})
                response.raise_for_status()
                times.append(time.perf_counter() - started)
            return times

        results = await asyncio.gather(*(citizen(i, plan) for i, plan in enumerate(plans)))
    return [t for times in results for t in times]


async def _gateway(gateway_url: str, plans: list[list[str]], tag: str, paced: bool = False) -> list[float]:
    socket_url = gateway_url.replace("http://", "ws://") + "/web/ws"

    async def citizen(i: int, messages: list[str]) -> list[float]:
        rng = random.Random(i) if paced else None
        times = []
        async with connect(socket_url, max_size=2**22) as socket:
            for text in messages:
                await _pause(rng)
                started = time.perf_counter()
                await socket.send(json.dumps({"sender": f"bench-{tag}-{i:04d}", "text": text}))
                answer = json.loads(await socket.recv())
                if answer.get("type") != "messages":
                    raise RuntimeError(f"the gateway answered {answer}")
                times.append(time.perf_counter() - started)
        return times

    results = await asyncio.gather(*(citizen(i, plan) for i, plan in enumerate(plans)))
    return [t for times in results for t in times]


async def _echo_rasa(request: httpx.Request) -> httpx.Response:
    """A Rasa that answers at once, so that only the gateway's own work is timed."""
    body = json.loads(request.content)
    return httpx.Response(200, json=[{"recipient_id": body["sender"], "text": body["message"]}])


def _gateway_alone(folder: Path, messages: int = 300) -> list[float]:
    """Time messages through the gateway in this process with an instant Rasa: the gateway's own cost."""
    database_url = f"sqlite:///{folder / 'alone.db'}"
    upgrade(database_url)
    app = create_app(
        # One citizen as fast as the gateway goes: no limit per socket or address gets in the way.
        Settings(database_url=database_url, rasa_url="http://rasa.bench", web_limits=NO_LIMITS),
        httpx.AsyncClient(transport=httpx.MockTransport(_echo_rasa)),
    )
    with serving_in_a_thread(app) as url:
        plan = [_workload(1, messages, seed=0)[0]]
        return asyncio.run(_gateway(url, plan, "alone"))[20:]  # after warm-up


GROUPS = ("Rasa", "actions", "gateway", "benchmark")  # where CPU time goes, per process (group)


def _cpu_seconds(pids: dict[str, int]) -> dict[str, float]:
    """Return the CPU seconds (user and system) each group of processes has used so far."""
    used = dict.fromkeys(GROUPS, 0.0)
    tick = os.sysconf("SC_CLK_TCK")
    for name, pid in pids.items():
        # /proc/PID/stat: after the command's closing parenthesis, utime and stime are the 12th and 13th.
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        group = "Rasa" if name.startswith("rasa") else name
        used[group] += (int(fields[11]) + int(fields[12])) / tick
    user, system = os.times()[:2]
    used["benchmark"] = user + system
    return used


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _overhead_interval(
    gateway: list[float], direct: list[float], q: float = 0.95, draws: int = 2000, seed: int = 0
) -> tuple[float, float]:
    """Return a 90% bootstrap interval of the gateway's quantile Q over Rasa's, minus one."""
    rng = random.Random(seed)
    ratios = sorted(
        _quantile(rng.choices(gateway, k=len(gateway)), q) / _quantile(rng.choices(direct, k=len(direct)), q)
        - 1
        for _ in range(draws)
    )
    return ratios[int(0.05 * draws)], ratios[int(0.95 * draws) - 1]


def _row(
    name: str, citizens: int, paced: bool, latencies: list[float], seconds: float, cpu: dict[str, float]
) -> dict[str, Any]:
    return {
        "path": name, "citizens": citizens, "paced": paced, "messages": len(latencies),
        "per_second": len(latencies) / seconds,
        "cpu": {group: used / len(latencies) * 1000 for group, used in cpu.items()},
        "p50": _quantile(latencies, 0.50) * 1000, "p95": _quantile(latencies, 0.95) * 1000,
        "p99": _quantile(latencies, 0.99) * 1000, "mean": statistics.mean(latencies) * 1000,
        "latencies": latencies,
    }  # fmt: skip


def _machine() -> str:
    model = next(
        (line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
         if line.startswith("model name")),
        platform.processor() or "unknown CPU",
    )  # fmt: skip
    memory = next(
        (int(line.split()[1]) // 1024**2 for line in Path("/proc/meminfo").read_text().splitlines()
         if line.startswith("MemTotal")),
        0,
    )  # fmt: skip
    return f"{os.cpu_count()} cores ({model}), {memory} GiB, {platform.system()} {platform.release()}"


VANILLA = "vanilla Rasa 3.6 (`rasa init` bot, REST, one server)"


async def _run(
    stack: Stack, vanilla: str, levels: list[tuple[int, bool]], per_citizen: int, rounds: int,
    paced_rounds: int,
) -> list[dict[str, Any]]:  # fmt: skip
    """Return a row per level and path: the VANILLA bot, ONE server directly, ALL servers directly, the
    GATEWAY (citizens writing at once; paced, the vanilla bot is left out)."""
    assert stack.gateway_url is not None
    gateway_url, servers = stack.gateway_url, stack.rasa_urls
    await _direct(servers, _workload(2 * len(servers), 4, 0), "warmup")
    await _direct([vanilla], _workload(2, 4, 0), "warmup")
    await _gateway(gateway_url, _workload(2, 4, 0), "warmup")
    names = {
        "vanilla": VANILLA,
        "one": "Rasa REST webhook, directly, one server",
        "all": f"Rasa REST webhook, directly, {len(servers)} servers",
        "gateway": f"gateway (web chat socket → {len(servers)} Rasa servers)",
    }
    if len(servers) == 1:
        del names["one"]
    rows = []
    for citizens, paced in levels:
        paths = [path for path in names if not (paced and path == "vanilla")]
        latencies: dict[str, list[float]] = {path: [] for path in paths}
        spent = dict.fromkeys(paths, 0.0)
        cpu = {path: dict.fromkeys(GROUPS, 0.0) for path in paths}
        for r in range(paced_rounds if paced else rounds):
            plans = _workload(citizens, per_citizen, seed=r + 1)
            tag = f"{citizens}{'p' if paced else ''}-{r}"
            for path in paths:
                started, before = time.perf_counter(), _cpu_seconds(stack.pids)
                if path == "gateway":
                    latencies[path] += await _gateway(gateway_url, plans, f"g{tag}", paced)
                else:
                    urls = {"vanilla": [vanilla], "one": servers[:1]}.get(path, servers)
                    latencies[path] += await _direct(urls, plans, f"{path}{tag}", paced)
                spent[path] += time.perf_counter() - started
                for group, used in _cpu_seconds(stack.pids).items():
                    cpu[path][group] += used - before[group]
        rows += [
            _row(names[path], citizens, paced, latencies[path], spent[path], cpu[path]) for path in paths
        ]
    return rows


def _report(
    rows: list[dict[str, Any]], alone: list[float], memories: dict[str, int], per_citizen: int, rounds: int,
    paced_rounds: int,
) -> str:  # fmt: skip
    lines = [
        "# Gateway benchmark",
        "",
        f"`make bench` (python -m bench.gateway), {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC, "
        f"on {_machine()}.",
        "",
        f"Concurrent citizens, {per_citizen} messages each, {rounds} rounds per path writing at once and "
        f"{paced_rounds} paced (the paths alternate). "
        "Conversations: a complaint filed to the end, welfare and information questions with links, "
        "chit-chat. Every message waits for its answer, which includes the custom actions (and, for the "
        "gateway, storing both messages in SQLite). A citizen writes again at once, or, paced, after "
        f"{PAUSE[0]:.0f} to {PAUSE[1]:.0f} s (people take longer to read and type). One server: every "
        "conversation on the first Rasa server, as with RASA_SERVERS=1. The vanilla bot is Rasa's own "
        "starter bot (`rasa init`: DIET and TED, conversations in memory, no custom actions, nothing stored) "
        "answering the same Korean messages, which it does not understand; it is the yardstick.",
        "",
        "| citizens | writes again | path | messages | messages/s | p50 ms | p95 ms | p99 ms | mean ms |",
        "| ---: | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in rows:
        pace = f"after {PAUSE[0]:.0f}–{PAUSE[1]:.0f} s" if row["paced"] else "at once"
        lines.append(
            f"| {row['citizens']} | {pace} | {row['path']} | {row['messages']} | {row['per_second']:.1f} "
            f"| {row['p50']:.0f} | {row['p95']:.0f} | {row['p99']:.0f} | {row['mean']:.0f} |"
        )
    lines += [
        "",
        "CPU time per message (ms, user and system) by process: the machine has 2 cores for all of them, so "
        "under load every millisecond here is a millisecond of someone's wait. The benchmark is the "
        "simulated citizens' own client (httpx straight to Rasa, a WebSocket to the gateway).",
        "",
        "| citizens | writes again | path | " + " | ".join(GROUPS) + " | all |",
        "| ---: | --- | --- | " + " | ".join("---:" for _ in GROUPS) + " | ---: |",
    ]
    for row in rows:
        pace = f"after {PAUSE[0]:.0f}–{PAUSE[1]:.0f} s" if row["paced"] else "at once"
        cpu = row["cpu"]
        lines.append(
            f"| {row['citizens']} | {pace} | {row['path']} | "
            + " | ".join(f"{cpu[group]:.1f}" for group in GROUPS)
            + f" | {sum(cpu.values()):.1f} |"
        )
    lines.append("")
    for level in sorted({(r["citizens"], r["paced"]) for r in rows}, key=lambda x: (x[1], x[0])):
        of_level = [r for r in rows if (r["citizens"], r["paced"]) == level and r["path"] != VANILLA]
        direct, gateway = of_level[-2], of_level[-1]
        overhead = {q: gateway[q] / direct[q] - 1 for q in ("p50", "p95")}
        low, high = _overhead_interval(gateway["latencies"], direct["latencies"])
        pace = "paced" if level[1] else "at once"
        line = (
            f"- {level[0]} citizens, {pace}: gateway overhead {overhead['p50']:+.1%} at p50, "
            f"{overhead['p95']:+.1%} at p95 (90% interval {low:+.1%} to {high:+.1%}; target under +10%); "
            f"p95 through the gateway {gateway['p95']:.0f} ms (target at 10 citizens: under 300 ms)."
        )
        if len(of_level) == 3:
            one = of_level[0]
            line += (
                f" One server → all: {one['per_second']:.1f} → {direct['per_second']:.1f} messages/s, "
                f"p95 {one['p95']:.0f} → {direct['p95']:.0f} ms."
            )
        lines.append(line)
    for row in rows:
        vanilla = next((r for r in rows if r["path"] == VANILLA and r["citizens"] == row["citizens"]), None)
        if vanilla is None or row["paced"] or not row["path"].startswith("gateway"):
            continue
        lines.append(
            f"- {row['citizens']} citizens at once, vanilla Rasa → this stack through the gateway: "
            f"{vanilla['per_second']:.1f} → {row['per_second']:.1f} messages/s "
            f"(×{row['per_second'] / vanilla['per_second']:.2f}; target ×2 at 10 and 50), "
            f"p95 {vanilla['p95']:.0f} → {row['p95']:.0f} ms (target at 10: under 250 ms)."
        )
    lines += [
        "",
        "Memory after the load (proportional set size: pages shared between processes counted once):",
        "",
        "| process | MB |",
        "| --- | ---: |",
        *(f"| {name} | {size / 2**20:.0f} |" for name, size in memories.items()),
        "",
        f"- The default stack (`make run`: action server, {sum(n.startswith('rasa-') for n in memories)} "
        f"Rasa servers, gateway): {sum(s for n, s in memories.items() if n != 'vanilla') / 2**30:.2f} GB "
        f"(target 2.5 GB); the vanilla bot: {memories.get('vanilla', 0) / 2**30:.2f} GB.",
    ]
    lines += [
        f"- The gateway's own work per message (one citizen, an instant fake Rasa, in one process): "
        f"p50 {_quantile(alone, 0.5) * 1000:.1f} ms, p95 {_quantile(alone, 0.95) * 1000:.1f} ms.",
        "",
        "The machines here are shared and noisy: compare the rows of one run, not runs with each other.",
        "",
    ]
    return "\n".join(lines)


def main() -> int:
    """Run the benchmark and write the report."""
    parser = argparse.ArgumentParser(prog="python -m bench.gateway", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--citizens", default="1,10,50", help="concurrency levels writing at once, comma-separated"
    )
    parser.add_argument("--paced", default="10,40", help="concurrency levels writing after a pause")
    parser.add_argument("--servers", type=int, default=2, help="Rasa servers (make run: RASA_SERVERS, 2)")
    parser.add_argument("--messages", type=int, default=8, help="messages per citizen and round")
    parser.add_argument("--rounds", type=int, default=3, help="rounds per path, citizens writing at once")
    parser.add_argument("--paced-rounds", type=int, default=8, help="rounds per path, paced citizens")
    parser.add_argument("--model", type=Path, default=PROJECT_ROOT / "models" / "minwon.tar.gz")
    parser.add_argument("--out", type=Path, default=PROJECT_ROOT / "docs" / "benchmarks" / "gateway.md")
    args = parser.parse_args()
    levels = [(int(n), False) for n in args.citizens.split(",") if n]
    levels += [(int(n), True) for n in args.paced.split(",") if n]
    with (
        tempfile.TemporaryDirectory() as folder,
        running_stack(args.model, Path(folder), gateway=True, rasa_servers=args.servers) as stack,
        vanilla_rasa(Path(folder)) as (vanilla, vanilla_pid),
    ):
        pids = {**stack.pids, "rasa-vanilla": vanilla_pid}
        rows = asyncio.run(
            _run(dataclasses.replace(stack, pids=pids), vanilla, levels, args.messages, args.rounds,
                 args.paced_rounds)
        )  # fmt: skip
        memories = {name.removeprefix("rasa-") if name == "rasa-vanilla" else name: memory(pid)
                    for name, pid in pids.items()}  # fmt: skip
    with tempfile.TemporaryDirectory() as folder:
        alone = _gateway_alone(Path(folder))
    report = _report(rows, alone, memories, args.messages, args.rounds, args.paced_rounds)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(report, encoding="utf-8")
    print(report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
