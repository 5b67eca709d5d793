"""The scaled setup's files: deploy/compose.yaml (no Docker daemon runs here, so it is checked, not run),
HAProxy's configuration from bot/balancer.py (checked by haproxy itself), and Rasa's endpoints for it."""

from __future__ import annotations

import importlib.util
import re
import subprocess
from pathlib import Path

import yaml

from bot.balancer import config

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"


def compose() -> dict:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))


def test_compose_runs_two_of_everything_behind_the_balancer() -> None:
    services = compose()["services"]
    assert set(services) == {
        "postgres", "redis", "migrate", "actions", "rasa-1", "rasa-2", "gateway-1", "gateway-2", "balancer",
    }  # fmt: skip
    for name, service in services.items():
        for needed in service.get("depends_on", []):
            assert needed in services, (name, needed)
        command = service.get("command", [])
        if command[:2] == ["python", "-m"]:
            assert importlib.util.find_spec(command[2]) is not None, (name, command[2])
    environment = services["gateway-1"]["environment"]
    rasa_hosts = re.findall(r"http://([\w-]+):5005", environment["RASA_URL"])
    assert rasa_hosts == ["rasa-1", "rasa-2"] and environment["REDIS_URL"].startswith("redis://redis:")
    assert "postgres:5432" in environment["DATABASE_URL"]


def test_every_setting_compose_sets_is_one_the_code_reads() -> None:
    read = (ROOT / "bot" / "settings.py").read_text()
    for service in compose()["services"].values():
        for name in service.get("environment", {}):
            if not name.startswith("POSTGRES_") and name != "RASA_TELEMETRY_ENABLED":
                assert f'"{name}"' in read, name


def test_the_balancer_configuration_is_what_bot_balancer_writes_and_haproxy_takes_it(tmp_path: Path) -> None:
    written = config("0.0.0.0:8000", ["gateway-1:8000", "gateway-2:8000"])
    assert (DEPLOY / "haproxy.cfg").read_text() == written
    local = tmp_path / "haproxy.cfg"
    local.write_text(config("127.0.0.1:8000", ["127.0.0.1:8001", "127.0.0.1:8002"]))
    checked = subprocess.run(["haproxy", "-c", "-f", str(local)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_rasa_in_the_scaled_setup_finds_the_action_server_and_the_database() -> None:
    endpoints = yaml.safe_load((DEPLOY / "endpoints.yml").read_text())
    assert endpoints["action_endpoint"]["url"] == "http://actions:5055/webhook"
    assert endpoints["tracker_store"]["url"] == "${DATABASE_URL}"
    assert "lock_store" not in endpoints  # in memory: each conversation has one Rasa server (docs/deploy.md)
