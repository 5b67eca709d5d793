"""The action server answers only Rasa (the shared secret) and listens on 127.0.0.1 by default."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bench.stack import free_port
from bot.store.db import session_factory
from bot.store.migrate import upgrade
from bot.store.tickets import file_ticket
from tests.actions.helpers import domain

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "a-test-secret-of-enough-length"


def call(sender: str, action: str) -> dict:
    """A call as Rasa makes it: the tracker of SENDER's conversation and the action to run."""
    return {
        "next_action": action, "sender_id": sender, "version": "3.6.21", "domain": domain(),
        "tracker": {
            "sender_id": sender, "slots": {},
            "latest_message": {"text": "내 민원", "intent": {}, "entities": []},
            "events": [], "paused": False, "followup_action": None, "active_loop": {},
            "latest_action_name": "action_listen",
        },
    }  # fmt: skip


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    database = f"sqlite:///{tmp_path_factory.mktemp('actions') / 'minwon.db'}"
    upgrade(database)
    with session_factory(database).begin() as session:
        file_ticket(
            session, category="noise", department="환경정책과", description="윗집 소음", channel="telegram",
            sender="424242", note="챗봇으로 접수",
        )  # fmt: skip
    port = free_port()
    env = {**os.environ, "ACTIONS_TOKEN": TOKEN, "ACTIONS_PORT": str(port), "DATABASE_URL": database}
    env.pop("ACTIONS_HOST", None)
    process = subprocess.Popen([sys.executable, "-m", "actions"], cwd=ROOT, env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        else:
            pytest.fail("the action server did not start")
        yield url, str(port)
    finally:
        process.terminate()
        process.wait(10)


def test_a_forged_call_without_the_secret_reads_no_citizens_tickets(server: tuple[str, str]) -> None:
    url, _ = server
    forged = call("telegram:424242", "action_check_ticket_status")
    for headers in ({}, {"X-Actions-Token": "guessed"}):
        response = httpx.post(f"{url}/webhook", json=forged, headers=headers, timeout=10)
        assert response.status_code == 401 and "responses" not in response.json()
    assert httpx.get(f"{url}/actions", timeout=10).status_code == 401
    # Rasa's call, with the secret, gets the citizen's tickets.
    answer = httpx.post(f"{url}/webhook", json=forged, headers={"X-Actions-Token": TOKEN}, timeout=30)
    assert answer.status_code == 200
    assert [r["template"] for r in answer.json()["responses"]] == ["utter_ticket_status"]


def test_it_listens_on_the_loopback_address_only(server: tuple[str, str]) -> None:
    _, port = server
    listening = [
        line.split()[1]
        for name in ("/proc/net/tcp", "/proc/net/tcp6")
        if Path(name).exists()
        for line in Path(name).read_text().splitlines()[1:]
        if line.split()[3] == "0A"  # LISTEN
    ]
    ours = [address for address in listening if address.endswith(f":{int(port):04X}")]
    assert ours == ["0100007F:" + f"{int(port):04X}"], ours  # 127.0.0.1, not 0.0.0.0


def test_without_a_secret_it_does_not_start() -> None:
    env = {k: v for k, v in os.environ.items() if k != "ACTIONS_TOKEN"}
    done = subprocess.run(
        [sys.executable, "-m", "actions"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 2 and "ACTIONS_TOKEN" in done.stderr


def test_rasa_sends_the_secret_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """endpoints.yml as Rasa reads it (a quoted "${ACTIONS_TOKEN}" stayed a literal string)."""
    from rasa.utils.endpoints import read_endpoint_config

    monkeypatch.setenv("ACTIONS_TOKEN", TOKEN)
    monkeypatch.setenv("DATABASE_URL", "sqlite:///unused.db")
    endpoint = read_endpoint_config(str(ROOT / "endpoints.yml"), "action_endpoint")
    assert endpoint is not None and endpoint.headers == {"X-Actions-Token": TOKEN}
    assert endpoint.url == "http://127.0.0.1:5055/webhook"
