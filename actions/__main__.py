"""The action server: rasa_sdk's, on 127.0.0.1 unless set otherwise, answering only Rasa.

Usage:
    ACTIONS_TOKEN=… python -m actions      (make run starts it; ACTIONS_HOST, ACTIONS_PORT)

`rasa run actions` listens on every interface and runs any action for anyone: a forged call with
`sender_id="telegram:<id>"` and `next_action=action_check_ticket_status` read that citizen's tickets, and
`action_submit_complaint` filed tickets in anyone's name. Here every call but the health check must carry
the shared secret in the X-Actions-Token header, which Rasa sends (endpoints.yml); others get 401.
"""

from __future__ import annotations

import hmac
import logging
import sys

from rasa_sdk.endpoint import create_app
from sanic import Sanic
from sanic.request import Request
from sanic.response import HTTPResponse, json

from bot.settings import load_settings

__all__ = ["HEADER", "authenticated_app", "main"]

logger = logging.getLogger(__name__)
HEADER = "X-Actions-Token"
_OPEN = ("/health",)


def authenticated_app(token: str) -> Sanic:
    """Return rasa_sdk's app for the project's actions, refusing calls without TOKEN."""
    if not token:
        raise ValueError("the action server needs a secret (ACTIONS_TOKEN)")
    app = create_app("actions", cors_origins=[])

    @app.middleware("request")
    async def check(request: Request) -> HTTPResponse | None:
        if request.path in _OPEN:
            return None
        given = request.headers.get(HEADER, "")
        if not hmac.compare_digest(given.encode(), token.encode()):
            logger.warning("refused a call to %s without the right %s", request.path, HEADER)
            return json({"error": f"the {HEADER} header is missing or wrong"}, status=401)
        return None

    return app


def main() -> int:
    """Serve the actions until stopped."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    settings = load_settings()
    if not settings.actions_token:
        print("error: set ACTIONS_TOKEN (the secret Rasa sends; make run makes one)", file=sys.stderr)
        return 2
    app = authenticated_app(settings.actions_token)
    logger.info("action server on %s:%s", settings.actions_host, settings.actions_port)
    app.run(settings.actions_host, settings.actions_port, workers=1, access_log=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
