"""Bodies are refused past the cap before they are read whole (a 256 MiB POST once cost 433 MiB)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from starlette.requests import Request

from bot.bodies import TooLarge, read_body

CHUNK = 64 * 1024


def request(chunks: int, declared: int | None = None) -> tuple[Request, list[int]]:
    """A request whose body arrives in CHUNKS pieces of 64 KiB; the list counts the pieces read."""
    read: list[int] = []

    async def receive() -> dict[str, Any]:
        read.append(1)
        return {"type": "http.request", "body": b"x" * CHUNK, "more_body": len(read) < chunks}

    headers = [(b"content-length", str(declared).encode())] if declared is not None else []
    scope = {"type": "http", "method": "POST", "path": "/", "headers": headers, "query_string": b""}
    return Request(scope, receive), read


def test_a_declared_length_over_the_cap_is_refused_before_reading_anything() -> None:
    big, read = request(4096, declared=256 * 1024 * 1024)
    with pytest.raises(TooLarge):
        asyncio.run(read_body(big, 16 * 1024))
    assert read == []


def test_a_body_without_a_length_is_read_only_up_to_the_cap() -> None:
    endless, read = request(4096)  # 256 MiB, chunked
    with pytest.raises(TooLarge):
        asyncio.run(read_body(endless, 16 * 1024))
    assert len(read) == 1  # the first 64 KiB already went past 16 KiB: nothing more was read


def test_a_body_within_the_cap_is_returned_whole() -> None:
    small, _ = request(3, declared=3 * CHUNK)
    assert asyncio.run(read_body(small, 4 * CHUNK)) == b"x" * (3 * CHUNK)
