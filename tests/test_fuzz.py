"""A smaller `make fuzz` in the tests: 500 generated payloads at every gateway endpoint, on both databases."""

from __future__ import annotations

import pytest

from bench.fuzz import run_fuzz, summary
from tests.conftest import POSTGRES_URL


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_no_generated_payload_gets_a_server_error_a_drop_or_a_hang(database: str) -> None:
    result = run_fuzz(500, None if database == "sqlite" else POSTGRES_URL)
    problems = [f"{t.endpoint}: {t.examples}" for t in result["tallies"] if t.examples]
    assert summary(result) == "fuzz: payloads=3000 server_errors=0 dropped=0 hangs=0", problems
    assert result["healthy_after"]
    assert result["rss_after"] - result["rss_before"] < 50 * 2**20
