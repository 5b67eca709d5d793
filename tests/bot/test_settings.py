"""Settings: what `make run` keeps for the commands started beside it (the Rasa token and servers)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot import settings


def test_retraining_finds_the_servers_and_token_that_make_run_started(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(settings, "RASA_URL_FILE", tmp_path / ".rasa-url")
    monkeypatch.setattr(settings, "RASA_TOKEN_FILE", tmp_path / ".rasa-token")
    assert settings.load_settings({}).rasa_url == "http://127.0.0.1:5005"
    assert settings.load_settings({}).rasa_token == ""

    (tmp_path / ".rasa-url").write_text("http://127.0.0.1:5005,http://127.0.0.1:5006\n")
    (tmp_path / ".rasa-token").write_text("t0ken-from-make-run\n")
    kept = settings.load_settings({})
    assert kept.rasa_url == "http://127.0.0.1:5005,http://127.0.0.1:5006"
    assert kept.rasa_token == "t0ken-from-make-run"

    chosen = settings.load_settings({"RASA_URL": "http://rasa:5005/", "RASA_TOKEN": "chosen"})
    assert (chosen.rasa_url, chosen.rasa_token) == ("http://rasa:5005", "chosen")
