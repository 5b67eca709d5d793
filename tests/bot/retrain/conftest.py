"""Agents hash their passwords cheaply here too (see tests/bot/handoff/conftest.py)."""

from tests.bot.handoff.conftest import cheap_hashes  # noqa: F401 - an autouse fixture
