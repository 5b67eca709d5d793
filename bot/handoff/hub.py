"""Live updates for the agent consoles: every open console socket hears what changed, and fetches it.

Events: {"type": "queue"} (a chat was queued, claimed, released or closed) and
{"type": "message", "handoff": id} (a message in a handed-off chat). One gateway process keeps its
consoles here; several gateways would share these events over Redis pub/sub (DESIGN.md).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from typing import Any

from starlette.websockets import WebSocket

__all__ = ["Hub"]

logger = logging.getLogger(__name__)


class Hub:
    """The open console sockets, by agent."""

    def __init__(self) -> None:
        self.consoles: dict[int, set[WebSocket]] = defaultdict(set)
        self.sessions: dict[WebSocket, int] = {}

    def join(self, agent_id: int, websocket: WebSocket, *, session_id: int | None = None) -> None:
        """Start sending events to WEBSOCKET (the console of login SESSION_ID)."""
        self.consoles[agent_id].add(websocket)
        if session_id is not None:
            self.sessions[websocket] = session_id

    async def close_session(self, session_id: int) -> None:
        """Close the consoles of login SESSION_ID (a logout); their sockets then leave as any other."""
        for websocket in [w for w, s in self.sessions.items() if s == session_id]:
            self.sessions.pop(websocket, None)
            try:
                await websocket.close(code=4401)
            except Exception:  # noqa: BLE001 - already closed in some state
                logger.info("a console socket was already closed")

    def leave(self, agent_id: int, websocket: WebSocket) -> bool:
        """Stop sending to WEBSOCKET; return whether the agent has no console open any more."""
        self.consoles[agent_id].discard(websocket)
        self.sessions.pop(websocket, None)
        if not self.consoles[agent_id]:
            del self.consoles[agent_id]
            return True
        return False

    def online(self, agent_id: int) -> bool:
        """Return whether the agent has a console open."""
        return bool(self.consoles.get(agent_id))

    async def publish(self, event: dict[str, Any]) -> None:
        """Send EVENT to every open console; drop sockets that went away."""
        for agent_id, sockets in list(self.consoles.items()):
            for websocket in list(sockets):
                try:
                    await websocket.send_json(event)
                except Exception:  # noqa: BLE001 - a closed socket in any state; the console reconnects
                    logger.info("a console socket went away")
                    self.leave(agent_id, websocket)
