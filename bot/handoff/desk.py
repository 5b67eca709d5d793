"""What agents do with handed-off chats: read, claim, reply, close, label, file tickets; and the sweeps.

What agents read has personal data masked unless they open it deliberately, which is logged with their reason.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
from typing import Any

from sqlalchemy.orm import Session

from bot.delivery import Delivery
from bot.handoff.hub import Hub
from bot.handoff.reception import Reception, asked_again
from bot.handoff.review import review_queue, understanding
from bot.messages import MAX_TEXT, Outbound, fill
from bot.nlu.taxonomy import CATEGORIES, INTENTS
from bot.privacy import mask_personal_data
from bot.profile import CityProfile
from bot.rasa import RasaClient
from bot.shared import LocalShared, Shared
from bot.store import handoffs
from bot.store.agents import record_access
from bot.store.conversations import open_question, transcript
from bot.store.db import Database
from bot.store.labels import add_crisis_label, add_label, labels_of
from bot.store.models import Message, utcnow
from bot.store.surveys import plan_survey
from bot.store.tickets import due_date, file_ticket, recent_tickets
from bot.transcript import Transcript

__all__ = ["Conflict", "Desk", "DeskError", "Invalid", "NotFound"]

logger = logging.getLogger(__name__)
MAX_REPLY = 2000


class DeskError(Exception):
    """A request the desk refuses."""


class NotFound(DeskError):
    """No such chat, message or action."""


class Conflict(DeskError):
    """The chat is not in a state that allows it (another agent's, or no longer waiting)."""


class Invalid(DeskError):
    """The request lacks something or names what does not exist."""


class Forbidden(DeskError):
    """The agent may not do this (open the personal data of a chat another agent holds)."""


class Desk:
    """The agents' operations on the queue."""

    def __init__(
        self,
        *,
        db: Database,
        hub: Hub,
        delivery: Delivery,
        transcript: Transcript,
        reception: Reception,
        rasa: RasaClient,
        profile: CityProfile,
        callback_after: dt.timedelta,
        grace: float,
        shared: Shared | None = None,
    ) -> None:
        self.db, self.hub, self.delivery, self.transcript = db, hub, delivery, transcript
        self.shared = shared or LocalShared()
        self.reception, self.rasa, self.profile = reception, rasa, profile
        self.texts = profile.messages
        self.callback_after = callback_after
        self.grace = grace

    async def _open(self, handoff_id: int) -> handoffs.HandoffView:
        handoff = await self.db.run(lambda s: handoffs.get(s, handoff_id))
        if handoff is None:
            raise NotFound("no such chat")
        return handoff

    async def _mine(self, handoff_id: int, agent_id: int) -> handoffs.HandoffView:
        handoff = await self._open(handoff_id)
        if handoff.status != "assigned" or handoff.agent_id != agent_id:
            raise Conflict("this chat is not assigned to you")
        return handoff

    async def _tell(self, handoff: handoffs.HandoffView, *messages: Outbound) -> bool:
        return await self.delivery.deliver(handoff.channel, handoff.sender, list(messages))

    # --- reading ---

    async def queue(self) -> list[dict[str, Any]]:
        """Return the open chats (urgent first, then the longest waiting) and the last closed ones."""
        return [h.as_json() for h in await self.db.run(lambda s: handoffs.listing(s, closed=20))]

    async def review(self, *, limit: int = 50) -> list[dict[str, Any]]:
        """Return the review queue: unlabelled citizen messages the bot was least sure about."""
        return [i.as_json() for i in await self.db.run(lambda s: review_queue(s, limit=limit))]

    async def detail(
        self, handoff_id: int, *, agent_id: int, reveal: str | None = None, oversees: bool = False
    ) -> dict[str, Any]:
        """Return a chat: the handoff, its transcript with what the bot understood, labels and tickets.

        Personal data is masked unless REVEAL gives the agent's reason, which is logged; only the agent
        holding the chat may open it, or one who OVERSEES (a supervisor or admin); else Forbidden.
        """
        handoff = await self._open(handoff_id)
        if reveal is not None and not oversees and handoff.agent_id != agent_id:
            raise Forbidden("only the agent holding this chat, or a supervisor, may open its personal data")
        await self.transcript.settled(
            f"{handoff.channel}:{handoff.sender}"
        )  # the bot's last answers included

        def read(session: Session) -> tuple[list[Message], dict[int, dict[str, Any]], list[dict[str, Any]]]:
            if reveal is not None:
                record_access(session, agent_id=agent_id, handoff_id=handoff_id, reason=reveal)
            messages = transcript(session, channel=handoff.channel, sender=handoff.sender)
            labels = labels_of(session, message_ids=[m.id for m in messages])
            tickets = recent_tickets(session, channel=handoff.channel, sender=handoff.sender, limit=10)
            return messages, labels, [t.as_json(with_contact=reveal is not None) for t in tickets]

        messages, labels, tickets = await self.db.run(read)
        if reveal is not None:
            logger.info("agent %s opened the personal data of chat %s", agent_id, handoff_id)
        understood = understanding(
            messages, await self.rasa.user_events(f"{handoff.channel}:{handoff.sender}")
        )
        shown = []
        for m in messages:
            data = json.loads(m.data or "{}")
            who = "citizen" if m.direction == "in" else ("agent" if data.get("author") else "bot")
            shown.append(
                {
                    "id": m.id, "from": who, "at": _iso(m.created_at),
                    "text": m.raw_text if reveal is not None else mask_personal_data(m.text, plates=True)[0],
                    "buttons": [b.get("title") for b in data.get("buttons") or []],
                    "photo": data.get("image_url") or data.get("image"),
                    "shared_place": bool(data.get("location")),
                    "understood": understood.get(m.id), "label": labels.get(m.id),
                }
            )  # fmt: skip
        return {
            "handoff": handoff.as_json(),
            "messages": shown,
            "tickets": tickets,
            "revealed": reveal is not None,
        }

    # --- changing ---

    async def claim(self, handoff_id: int, agent_id: int) -> None:
        """Take the waiting chat; Conflict if another agent was first."""
        handoff = await self._open(handoff_id)
        if not await self.db.run(lambda s: handoffs.claim(s, handoff_id, agent_id)):
            raise Conflict("another agent took this chat, or it is not waiting")
        await self.hub.publish({"type": "queue"})
        await self._tell(handoff, Outbound(text=self.texts["handoff_claimed"], author=self.texts["agent"]))

    async def reply(self, handoff_id: int, agent_id: int, text: str) -> bool:
        """Send the agent's TEXT to the citizen; return whether it was pushed (False: waits in the outbox)."""
        text = text.strip()
        if not text or len(text) > MAX_REPLY:
            raise Invalid(f"a reply of 1 to {MAX_REPLY} characters is needed")
        handoff = await self._mine(handoff_id, agent_id)
        pushed = await self._tell(handoff, Outbound(text=text, author=self.texts["agent"]))
        await self.hub.publish({"type": "message", "handoff": handoff_id})
        return pushed

    async def close(self, handoff_id: int, agent_id: int) -> None:
        """End the chat: the citizen is told that the bot is back, and Rasa resumes."""
        await self._mine(handoff_id, agent_id)

        def close(session: Session) -> handoffs.HandoffView | None:
            closed = handoffs.close(session, handoff_id, agent_id=agent_id)
            if closed is not None:  # the citizen is asked about the chat, once, in the daytime
                plan_survey(
                    session, kind="handoff", ref=str(closed.id), channel=closed.channel, sender=closed.sender,
                    agent_id=agent_id,
                )  # fmt: skip
            return closed

        handoff = await self.db.run(close)
        if handoff is None:
            raise Conflict("this chat is not assigned to you")
        await self.hub.publish({"type": "queue"})
        await self._tell(handoff, Outbound(text=self.texts["handoff_closed"]))
        await self.reception.resume(f"{handoff.channel}:{handoff.sender}", [handoff.id])

    async def false_alarm(self, handoff_id: int, agent_id: int) -> None:
        """End a crisis chat as a false alarm: no longer urgent, the bot goes on where the citizen was.

        The message that raised the alarm becomes a labelled ordinary example (masked) for the crisis
        detector's next training (python -m bot.retrain, with its recall gate).
        """
        handoff = await self._open(handoff_id)
        if not handoff.reason.startswith("crisis") or not handoff.is_open:
            raise Conflict("this chat is not an open crisis alarm")
        kind = handoff.reason.partition(":")[2] or "unknown"

        def end(session: Session) -> tuple[handoffs.HandoffView | None, dict[str, Any] | None]:
            ended = handoffs.end_false_alarm(session, handoff_id, agent_id=agent_id)
            if ended is None:
                return None, None
            add_crisis_label(
                session, handoff_id=handoff_id, channel=handoff.channel, sender=handoff.sender,
                since=handoff.created_at, kind=kind, crisis=False, agent_id=agent_id,
            )  # fmt: skip
            return ended, open_question(session, channel=handoff.channel, sender=handoff.sender)

        ended, question = await self.db.run(end)
        if ended is None:
            raise Conflict("another agent has this chat, or it has ended")
        await self.hub.publish({"type": "queue"})
        await self.reception.resume(f"{handoff.channel}:{handoff.sender}", [handoff.id])
        back = [asked_again(question)] if question else []
        await self._tell(ended, Outbound(text=self.texts["crisis_checked"]), *back)

    async def label(self, message_id: int, agent_id: int, intent: str, category: str | None) -> None:
        """Record what a citizen's message meant (it teaches the next model)."""
        category = category or None
        if intent not in INTENTS or (category is not None and category not in CATEGORIES.get(intent, ())):
            raise Invalid("unknown intent or category")
        if intent in CATEGORIES and category is None:
            raise Invalid(f"{intent} needs a category")

        def add(session: Session) -> bool:
            return add_label(
                session, message_id=message_id, intent=intent, category=category, agent_id=agent_id
            )

        if not await self.db.run(add):
            raise NotFound("no such citizen message")

    async def file_ticket(
        self, handoff_id: int, agent_id: int, *, category: str, description: str, location: str
    ) -> str:
        """File a complaint for the citizen of an assigned chat; tell them its number; return it."""
        if category not in CATEGORIES["complaint"]:
            raise Invalid("unknown complaint category")
        description = description.strip()
        if not description:
            raise Invalid("a description is needed")
        handoff = await self._mine(handoff_id, agent_id)
        profile = self.profile
        department = profile.department("complaint", category)
        masked, _ = mask_personal_data(description[:MAX_TEXT])

        def add(session: Session) -> str:
            return file_ticket(
                session, category=category, department=department.name, description=masked,
                location_text=location.strip()[:500] or None, district=profile.district_of(location),
                channel=handoff.channel, sender=handoff.sender, note=self.texts["note_agent_filed"],
                due_at=due_date(utcnow(), profile.deadline_days(category), profile.timezone),
            ).number  # fmt: skip

        number: str = await self.db.run(add)
        await self._tell(
            handoff,
            Outbound(
                text=fill(self.texts["handoff_ticket_filed"], number=number), author=self.texts["agent"]
            ),
        )
        await self.hub.publish({"type": "message", "handoff": handoff_id})
        return number

    # --- agents coming and going, and the sweeps ---

    async def agent_left(self, agent_id: int) -> None:
        """After the grace period, put a gone agent's chats back in the queue and tell their citizens."""
        await asyncio.sleep(self.grace)
        if await self.hub.online(agent_id):
            return  # a reload, or another tab
        released: list[handoffs.HandoffView] = await self.db.run_or(
            lambda s: handoffs.release_agent(s, agent_id), []
        )
        for handoff in released:
            await self._tell(handoff, Outbound(text=self.texts["handoff_released"]))
        if released:
            logger.info("agent %s left; %d chats went back to the queue", agent_id, len(released))
            await self.hub.publish({"type": "queue"})

    async def sweep(self) -> None:
        """Offer a callback to chats waiting too long; push what waits in the outbox where a channel can."""
        offered: list[handoffs.HandoffView] = await self.db.run_or(
            lambda s: handoffs.offer_callbacks(s, older_than=self.callback_after), []
        )
        for handoff in offered:
            button = {"title": self.texts["callback_button"], "payload": self.texts["callback_button"]}
            await self._tell(handoff, Outbound(text=self.texts["handoff_offer_callback"], buttons=(button,)))
        await self.delivery.flush()

    async def run_sweeps(self, every: float = 5.0) -> None:
        """Sweep forever (a task of the gateway's lifespan); of several gateways, one sweeps each round."""
        await self.shared.every("sweep", every, self.sweep)


def _iso(moment: dt.datetime) -> str:
    return (moment if moment.tzinfo else moment.replace(tzinfo=dt.timezone.utc)).isoformat()
