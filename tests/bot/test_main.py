"""python -m bot: what the gateway's process sets before it serves."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from bot import __main__ as gateway_main
from bot.channels.web import MAX_FRAME


def test_files_are_the_users_only_and_socket_messages_small_and_uncompressed(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    served: dict[str, Any] = {}
    monkeypatch.setattr(gateway_main.uvicorn, "run", lambda app, **options: served.update(options))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'minwon.db'}")
    before = os.umask(0o022)
    try:
        assert gateway_main.main() == 0
        assert os.umask(0o022) == 0o077  # what main left in force
    finally:
        os.umask(before)
    assert served["ws_max_size"] == MAX_FRAME and served["ws_per_message_deflate"] is False
    assert served["host"] == "127.0.0.1"
