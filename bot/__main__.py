"""Start the gateway: python -m bot (HOST and PORT settings; default 127.0.0.1:8000).

Usage:
    .venv/bin/python -m bot          (make run starts it with Rasa and the action server)
"""

from __future__ import annotations

import logging
import os
import sys

import uvicorn

from bot.channels.web import MAX_FRAME
from bot.gateway import create_app
from bot.settings import SettingsError, load_settings


def main() -> int:
    """Check the settings and serve until stopped."""
    os.umask(0o077)  # the database, its WAL and the key file hold citizens' words: this user's only
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # httpx logs every request's URL at INFO, and Rasa's API takes its auth token in the URL.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    try:
        settings = load_settings()
        app = create_app(settings)
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    # wsproto: Rasa pins websockets 10, which uvicorn's default WebSocket implementation no longer supports.
    # A web-socket message is at most MAX_FRAME bytes, and never compressed: a compressed 16 KB frame
    # inflated to 16 MiB before any size was checked.
    uvicorn.run(
        app, host=settings.host, port=settings.port, ws="wsproto", ws_max_size=MAX_FRAME,
        ws_per_message_deflate=False, log_level="info", access_log=False,
    )  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
