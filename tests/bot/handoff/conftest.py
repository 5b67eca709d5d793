"""Cheap password hashes for tests (the real cost is a setting of bot/handoff/agents.py, not behaviour)."""

from __future__ import annotations

import pytest

from bot.handoff import agents


@pytest.fixture(autouse=True)
def cheap_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Hash with scrypt N=2^10 instead of 2^17: the same code, a thousandth of the time."""
    monkeypatch.setattr(agents, "_N", 2**10)
