"""Start the whole bot (action server, Rasa, optionally the gateway) on free ports, for tests and benchmarks.

Usage:
    with running_stack(model, folder, gateway=True, rasa_servers=2) as stack:
        stack.rasa_url, stack.rasa_urls, stack.gateway_url, stack.database_url, stack.pids
    with running_stack(model, folder, gateways=2, redis_url="redis://127.0.0.1:6379/14") as stack:
        stack.gateway_url is HAProxy's, in front of stack.gateway_urls (bot/balancer.py)
Each process logs to FOLDER; the database is a fresh SQLite file there (or DATABASE_URL's), migrated to head.

    with vanilla_rasa(folder) as (url, pid):
        Rasa's own starter bot (`rasa init`, trained once into models/vanilla/): the benchmarks' yardstick
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import uvicorn
import yaml

from bot.balancer import config
from bot.rasa import server_urls
from bot.settings import PROJECT_ROOT
from bot.store.migrate import upgrade

__all__ = [
    "Stack", "StackError", "free_port", "memory", "running_stack", "serving_in_a_thread", "stop",
    "vanilla_rasa",
]  # fmt: skip

RASA = Path(sys.executable).with_name("rasa")
VANILLA = PROJECT_ROOT / "models" / "vanilla" / "rasa-init.tar.gz"


class StackError(RuntimeError):
    """A process of the stack stopped or did not answer in time."""


@dataclass(frozen=True)
class Stack:
    """Where the running processes answer."""

    rasa_url: str  # RASA_URL: the Rasa servers' addresses, separated by commas (bot/rasa.py)
    gateway_url: str | None  # the balancer's, when several gateways run
    database_url: str
    env: dict[str, str]
    pids: dict[str, int]  # process id by name: "actions", "rasa-<port>"…, "gateway" or "gateway-<n>"…
    gateway_urls: list[str] = field(default_factory=list)  # each gateway's own address

    @property
    def rasa_urls(self) -> list[str]:
        """Return each Rasa server's address."""
        return server_urls(self.rasa_url)


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def serving_in_a_thread(app: Any, *, startup: float = 20) -> Iterator[str]:
    """Serve the ASGI APP with uvicorn in a thread of this process until the block ends; yield its address."""
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, ws="wsproto", log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + startup
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def _wait(url: str, process: subprocess.Popen[bytes], deadline: float) -> None:
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise StackError(f"{' '.join(map(str, process.args))} exited with {process.returncode}")  # type: ignore[arg-type]
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, timeout=2).status_code == httpx.codes.OK:
                return
        time.sleep(0.5)
    raise StackError(f"{url} did not answer in time")


@contextlib.contextmanager
def running_stack(
    model: Path, folder: Path, *, gateway: bool = False, rasa_servers: int = 1, startup: float = 240,
    gateways: int = 1, redis_url: str = "", database_url: str = "", settings: dict[str, str] | None = None,
) -> Iterator[Stack]:  # fmt: skip
    """Run the action server and RASA_SERVERS Rasa servers (and the gateway) until the block ends.

    GATEWAYS > 1: that many gateways sharing REDIS_URL, behind HAProxy (whose address is gateway_url).
    SETTINGS: more environment for every process (a Kakao secret, say).
    """
    gateway = gateway or gateways > 1
    database_url = database_url or f"sqlite:///{folder / 'minwon.db'}"
    upgrade(database_url)
    actions_port, gateway_port = free_port(), free_port()
    gateway_ports = [gateway_port] if gateways == 1 else [free_port() for _ in range(gateways)]
    actions_token = secrets.token_urlsafe(24)
    rasa_ports = [free_port() for _ in range(rasa_servers)]
    rasa_url = ",".join(f"http://127.0.0.1:{port}" for port in rasa_ports)
    endpoints = folder / "endpoints.yml"
    endpoints.write_text(
        # Conversations in the database, as with `make run` (endpoints.yml).
        yaml.safe_dump(
            {
                "action_endpoint": {
                    "url": f"http://127.0.0.1:{actions_port}/webhook",
                    "headers": {"X-Actions-Token": actions_token},
                },
                "tracker_store": {
                    "type": "bot.rasa_server.tracker_store.CachedSQLTrackerStore",
                    "url": database_url,
                },
            }
        )
    )
    env = {
        **os.environ, "DATABASE_URL": database_url, "RASA_TELEMETRY_ENABLED": "false",
        "RASA_URL": rasa_url, "HOST": "127.0.0.1", "PORT": str(gateway_port),
        "KAKAO_SKILL_SECRET": "", "TELEGRAM_TOKEN": "", "TELEGRAM_WEBHOOK_SECRET": "", "RASA_TOKEN": "",
        "WEB_LIMITS": "1000,10000,1000,100000,100000,100000",  # simulated citizens all come from 127.0.0.1
        "ACTIONS_TOKEN": actions_token, "ACTIONS_HOST": "127.0.0.1", "ACTIONS_PORT": str(actions_port),
        "PHOTOS_DIR": str(folder / "photos"), "REDIS_URL": redis_url, **(settings or {}),
    }  # fmt: skip
    commands = {
        "actions": [sys.executable, "-m", "actions"],
        **{f"rasa-{port}": [sys.executable, "-m", "bot.rasa_server", "run", "--model", str(model),
                            "--port", str(port), "--interface", "127.0.0.1", "--enable-api",
                            "--endpoints", str(endpoints),
                            "--credentials", str(PROJECT_ROOT / "credentials.yml")]
           for port in rasa_ports},
    }  # fmt: skip
    checks = {"actions": f"http://127.0.0.1:{actions_port}/health"}
    checks |= {f"rasa-{port}": f"http://127.0.0.1:{port}/" for port in rasa_ports}
    envs = {}
    if gateway:
        for i, port in enumerate(gateway_ports):
            name = "gateway" if gateways == 1 else f"gateway-{i + 1}"
            commands[name] = [sys.executable, "-m", "bot"]
            checks[name] = f"http://127.0.0.1:{port}/healthz"
            envs[name] = {**env, "PORT": str(port)}
    if gateways > 1:
        balancer = folder / "haproxy.cfg"
        balancer.write_text(config(f"127.0.0.1:{gateway_port}", [f"127.0.0.1:{p}" for p in gateway_ports]))
        commands["balancer"] = ["haproxy", "-db", "-f", str(balancer)]
        checks["balancer"] = f"http://127.0.0.1:{gateway_port}/livez"
    processes: dict[str, subprocess.Popen[bytes]] = {}
    logs = []
    try:
        deadline = time.monotonic() + startup
        for name, command in commands.items():
            if name.startswith("gateway") and not any(n.startswith("gateway") for n in processes):
                for port in rasa_ports:  # the gateway's health needs Rasa up
                    _wait(checks[f"rasa-{port}"], processes[f"rasa-{port}"], deadline)
            log = open(folder / f"{name}.log", "wb")  # noqa: SIM115
            logs.append(log)
            processes[name] = subprocess.Popen(
                command, cwd=PROJECT_ROOT, env=envs.get(name, env), stdout=log, stderr=subprocess.STDOUT
            )
        for name, process in processes.items():
            _wait(checks[name], process, deadline)
        # The Korean tokenizer starts its JVM on the first message: start it before anyone measures.
        for port in rasa_ports:
            httpx.post(f"http://127.0.0.1:{port}/model/parse", json={"text": "안녕하세요"}, timeout=60)
        yield Stack(
            rasa_url=rasa_url,
            gateway_url=f"http://127.0.0.1:{gateway_port}" if gateway else None,
            gateway_urls=[f"http://127.0.0.1:{p}" for p in gateway_ports] if gateway else [],
            database_url=database_url,
            env=env,
            pids={name: process.pid for name, process in processes.items()},
        )
    finally:
        for process in reversed(processes.values()):
            process.terminate()
        for process in processes.values():
            stop(process)
        for log in logs:
            log.close()


def stop(process: subprocess.Popen[bytes], timeout: float = 30) -> None:
    """Ask PROCESS to end (SIGTERM); kill it if it has not within TIMEOUT seconds."""
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()


def memory(pid: int) -> int:
    """Return the proportional set size (bytes) of process PID and its descendants: each shared page
    counted once across them, so that the figures of several processes add up."""
    total = 0
    for each in [pid, *_descendants(pid)]:
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{each}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total += int(line.split()[1]) * 1024
    return total


def _descendants(pid: int) -> list[int]:
    found = []
    for child in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError, ValueError):
            if int(child.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(child.parent.name))
    return found + [d for child in found for d in _descendants(child)]


def _vanilla_model() -> Path:
    """Return Rasa's starter bot, as `rasa init` makes and trains it (once; kept under models/vanilla/)."""
    if not VANILLA.exists():
        with tempfile.TemporaryDirectory() as folder:
            env = {**os.environ, "RASA_TELEMETRY_ENABLED": "false"}
            subprocess.run(
                [str(RASA), "init", "--no-prompt", "--init-dir", folder],
                cwd=folder, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )  # fmt: skip
            VANILLA.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(next(Path(folder, "models").glob("*.tar.gz")), VANILLA)
    return VANILLA


@contextlib.contextmanager
def vanilla_rasa(folder: Path, *, startup: float = 240) -> Iterator[tuple[str, int]]:
    """Serve Rasa's starter bot as Rasa runs it out of the box (REST, conversations in memory, no custom
    actions) until the block ends; yield its address and process id."""
    model, port = _vanilla_model(), free_port()
    with open(folder / "vanilla.log", "wb") as log:
        process = subprocess.Popen(
            [str(RASA), "run", "--model", str(model), "--port", str(port), "--interface", "127.0.0.1",
             "--enable-api"],
            cwd=folder, env={**os.environ, "RASA_TELEMETRY_ENABLED": "false"}, stdout=log,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            url = f"http://127.0.0.1:{port}"
            _wait(f"{url}/", process, time.monotonic() + startup)
            yield url, process.pid
        finally:
            stop(process)
