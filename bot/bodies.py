"""Request bodies read with a cap, and JSON read safely, at every channel's edge.

`await request.body()` reads everything first: one 256 MiB POST to the console took the gateway from 266 to
699 MiB. Here a declared Content-Length over the cap is refused before reading a byte, and a body without
one (chunked) is read only up to the cap.

parse_json refuses what would fail later with a server error: nesting deeper than MAX_DEPTH (Python's
parser raises RecursionError, not ValueError), and gives every string back clean (clean_text): a lone
surrogate cannot be stored as UTF-8, and PostgreSQL refuses NUL characters.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request

from bot.messages import clean_text

__all__ = ["MAX_DEPTH", "TooLarge", "clean_text", "parse_json", "read_body"]

MAX_DEPTH = 32


def parse_json(raw: bytes | str) -> Any:
    """Return the JSON document RAW with clean strings; ValueError for bad JSON or nesting over MAX_DEPTH."""
    try:
        document = json.loads(raw, parse_constant=_no_constant)
    except RecursionError as exc:
        raise ValueError("JSON nested too deeply") from exc
    return _cleaned(document, 0)


def _no_constant(name: str) -> Any:
    # NaN and ±Infinity are not JSON (Python reads them; a date of -Infinity overflowed Telegram's parser).
    raise ValueError(f"{name} is not JSON")


def _cleaned(value: Any, depth: int) -> Any:
    if depth > MAX_DEPTH:
        raise ValueError(f"JSON nested deeper than {MAX_DEPTH}")
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, dict):
        return {clean_text(k): _cleaned(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        return [_cleaned(v, depth + 1) for v in value]
    return value


class TooLarge(Exception):
    """The body is longer than the route takes (or says it is)."""


async def read_body(request: Request, limit: int) -> bytes:
    """Return REQUEST's body; TooLarge as soon as it is (or declares itself) longer than LIMIT bytes."""
    declared = request.headers.get("content-length", "").strip()
    if declared.isdigit() and int(declared) > limit:
        raise TooLarge(f"{declared} bytes declared, {limit} taken")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise TooLarge(f"more than {limit} bytes")
    return bytes(body)
