"""No personal data in clear anywhere: a citizen types a phone number, a 주민등록번호, a card number and an
e-mail address without ever consenting, through the gateway, the real model, the action server and Rasa's
tracker store; afterwards no table of the database and no log holds any of them as typed."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import websockets
from sqlalchemy import inspect, text

from bench.stack import Stack, running_stack
from bot.store.db import get_engine

ROOT = Path(__file__).resolve().parents[2]
MODEL = ROOT / "models" / "minwon.tar.gz"
SENDER = "5eed0000-1111-4bcd-9a51-0c8e2d1f4b6a"

pytestmark = pytest.mark.model

# What the citizen types, and the parts of it that must not be found anywhere afterwards.
SAID = [
    "쓰레기 무단투기 신고할게요",
    "골목에 쓰레기가 계속 쌓여요 제 번호는 010-2345-6789이고 주민번호 900101-1234567이에요",
    "쌍용동 ○○빌라 앞이에요",
    "사진 없어요",
    "01023456789",  # at the consent question: the number before any consent
    "번호 안 남길게요",
    "카드 1234-5678-9012-3456 으로 낸 과태료 환불은요? 메일은 hong.gildong@example.com",
    "그만할래요",
]
CLEAR = ["2345-6789", "01023456789", "900101", "1234567", "5678-9012", "hong.gildong@example.com"]


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Stack, Path]]:
    if not MODEL.is_file():
        pytest.fail(f"{MODEL} is missing: run `make train` (make test does)")
    folder = tmp_path_factory.mktemp("personal-data")
    with running_stack(MODEL, folder, gateway=True) as running:
        yield running, folder


async def _converse(url: str) -> list[list[dict[str, Any]]]:
    answers = []
    async with websockets.connect(url.replace("http", "ws", 1) + "/web/ws", max_size=2**20) as socket:
        await socket.send(json.dumps({"type": "hello", "sender": SENDER}))
        for said in SAID:
            await socket.send(json.dumps({"sender": SENDER, "text": said}))
            reply = json.loads(await asyncio.wait_for(socket.recv(), timeout=60))
            if reply["type"] == "session":  # the first hello's answer: the conversation's key
                reply = json.loads(await asyncio.wait_for(socket.recv(), timeout=60))
            assert reply["type"] == "messages", reply
            answers.append(reply["messages"])
    return answers


def _everything(database_url: str) -> str:
    """Every row of every table, as text."""
    engine = get_engine(database_url)
    dumped = []
    with engine.connect() as connection:
        for name in inspect(connection).get_table_names():
            for row in connection.execute(text(f'SELECT * FROM "{name}"')):  # noqa: S608 - names from the schema
                dumped.append(f"{name}: " + " | ".join(str(value) for value in row))
    return "\n".join(dumped)


def test_a_conversation_without_consent_leaves_no_personal_data_in_clear(stack: tuple[Stack, Path]) -> None:
    running, folder = stack
    answers = asyncio.run(_converse(running.gateway_url or ""))
    assert any("동의" in m.get("text", "") for m in answers[4])  # consent first, the number not taken
    stored = _everything(running.database_url)
    assert "쓰레기" in stored and "messages:" in stored and "events:" in stored  # the conversation is there
    for clear in CLEAR:
        assert clear not in stored, f"{clear} is stored in clear"
    logs = " ".join(path.read_text(encoding="utf-8", errors="replace") for path in folder.glob("*.log"))
    for clear in CLEAR:
        assert clear not in logs, f"{clear} is in a log"
