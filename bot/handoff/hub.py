"""Live updates for the agent consoles: every open console socket hears what changed, and fetches it.

Events: {"type": "queue"} (a chat was queued, claimed, released or closed) and
{"type": "message", "handoff": id} (a message in a handed-off chat). Each gateway keeps its own consoles
here; events are published through the shared state (bot/shared.py: Redis pub/sub when several gateways
run), so a console on any gateway hears what happened on every one. Which agents have a console open is
shared too: an agent whose console moved to another gateway (a reload through the load balancer) is still
online there.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from typing import Any

from starlette.websockets import WebSocket

from bot.shared import LocalShared, Shared

__all__ = ["PRESENCE", "Hub"]

logger = logging.getLogger(__name__)
# How long (seconds) an open console counts as present without being refreshed (the console's socket
# refreshes it at each session check): a gateway that died takes its consoles' presence with it this late.
PRESENCE = 45.0


class Hub:
    """The open console sockets, by agent."""

    def __init__(self, shared: Shared | None = None) -> None:
        self.consoles: dict[int, set[WebSocket]] = defaultdict(set)
        self.sessions: dict[WebSocket, int] = {}
        self.shared = shared or LocalShared()
        self.shared.listen("console", self._send)

    def _member(self, websocket: WebSocket) -> str:
        return f"{self.shared.gateway_id}:{id(websocket)}"

    async def join(self, agent_id: int, websocket: WebSocket, *, session_id: int | None = None) -> None:
        """Start sending events to WEBSOCKET (the console of login SESSION_ID)."""
        self.consoles[agent_id].add(websocket)
        if session_id is not None:
            self.sessions[websocket] = session_id
        await self.here(agent_id, websocket)

    async def here(self, agent_id: int, websocket: WebSocket) -> None:
        """Say again that the console WEBSOCKET of the agent is open (for PRESENCE seconds more)."""
        await self.shared.mark(f"online:{agent_id}", self._member(websocket), PRESENCE)

    async def close_session(self, session_id: int) -> None:
        """Close the consoles of login SESSION_ID (a logout); their sockets then leave as any other."""
        for websocket in [w for w, s in self.sessions.items() if s == session_id]:
            self.sessions.pop(websocket, None)
            try:
                await websocket.close(code=4401)
            except Exception:  # noqa: BLE001 - already closed in some state
                logger.info("a console socket was already closed")

    async def leave(self, agent_id: int, websocket: WebSocket) -> bool:
        """Stop sending to WEBSOCKET; return whether the agent has no console open here any more."""
        self.consoles[agent_id].discard(websocket)
        self.sessions.pop(websocket, None)
        await self.shared.unmark(f"online:{agent_id}", self._member(websocket))
        if not self.consoles[agent_id]:
            del self.consoles[agent_id]
            return True
        return False

    async def online(self, agent_id: int) -> bool:
        """Return whether the agent has a console open, on any gateway."""
        return bool(self.consoles.get(agent_id)) or await self.shared.present(f"online:{agent_id}")

    async def publish(self, event: dict[str, Any]) -> None:
        """Send EVENT to every open console, on every gateway."""
        await self.shared.publish("console", event)

    async def _send(self, event: dict[str, Any]) -> None:
        """Send EVENT to this gateway's open consoles; drop sockets that went away."""
        for agent_id, sockets in list(self.consoles.items()):
            for websocket in list(sockets):
                try:
                    await websocket.send_json(event)
                except Exception:  # noqa: BLE001 - a closed socket in any state; the console reconnects
                    logger.info("a console socket went away")
                    await self.leave(agent_id, websocket)
