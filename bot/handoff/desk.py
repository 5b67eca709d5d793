"""What agents do with handed-off chats: read, claim, reply, close, label, file tickets; and the sweeps.

Every change reaches the citizen through Router.deliver (pushed on the web chat and Telegram, with the next
message on Kakao) and the consoles through the hub. What agents read has personal data masked (phone
numbers, 주민등록번호, card numbers, e-mail addresses, car plates) unless they open it deliberately, which
is logged in access_log with their reason.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import json
import logging
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.channels.base import MAX_TEXT, Outbound
from bot.handoff import queue
from bot.handoff.review import review_queue, understanding
from bot.nlu.taxonomy import CATEGORIES, INTENTS
from bot.privacy import mask_personal_data
from bot.router import Router
from bot.store.conversations import mark_delivered, peek_outbox, pending_senders, transcript
from bot.store.models import AccessLog, Label, Message, utcnow
from bot.store.tickets import file_ticket, recent_tickets

__all__ = ["Desk", "DeskError"]

logger = logging.getLogger(__name__)
MAX_REPLY = 2000


class DeskError(Exception):
    """A request the desk refuses: STATUS is the HTTP status the console gets."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class Desk:
    """The agents' operations on the queue."""

    def __init__(self, router: Router, *, callback_after: dt.timedelta, grace: float) -> None:
        self.router = router
        self.texts = router.profile.messages
        self.callback_after = callback_after
        self.grace = grace

    async def _db(self, work: Any) -> Any:
        result = await self.router.store(lambda s: ("ok", work(s)))
        if result is None:
            raise DeskError(503, "the database is unreachable")
        return result[1]

    async def _open(self, handoff_id: int) -> queue.HandoffView:
        handoff = await self._db(lambda s: queue.get(s, handoff_id))
        if handoff is None:
            raise DeskError(404, "no such chat")
        return handoff

    async def _mine(self, handoff_id: int, agent_id: int) -> queue.HandoffView:
        handoff = await self._open(handoff_id)
        if handoff.status != "assigned" or handoff.agent_id != agent_id:
            raise DeskError(409, "this chat is not assigned to you")
        return handoff

    async def _tell(self, handoff: queue.HandoffView, *messages: Outbound) -> bool:
        return await self.router.deliver(handoff.channel, handoff.sender, list(messages))

    # --- reading ---

    async def queue(self) -> list[dict[str, Any]]:
        """Return the open chats (urgent first, then the longest waiting) and the last closed ones."""
        return [h.as_json() for h in await self._db(lambda s: queue.queue(s, closed=20))]

    async def review(self, *, limit: int = 50) -> list[dict[str, Any]]:
        """Return the review queue: unlabelled citizen messages the bot was least sure about."""
        return [i.as_json() for i in await self._db(lambda s: review_queue(s, limit=limit))]

    async def detail(self, handoff_id: int, *, agent_id: int, reveal: str | None = None) -> dict[str, Any]:
        """Return a chat: the handoff, its transcript with what the bot understood, labels and tickets.

        Personal data is masked unless REVEAL gives the agent's reason, which is logged.
        """
        handoff = await self._open(handoff_id)
        await self.router.saved(f"{handoff.channel}:{handoff.sender}")  # the bot's last answers included

        def read(session: Session) -> tuple[list[Message], dict[int, dict[str, Any]], list[dict[str, Any]]]:
            if reveal is not None:
                session.add(
                    AccessLog(agent_id=agent_id, handoff_id=handoff_id, reason=reveal, created_at=utcnow())
                )
            messages = transcript(session, channel=handoff.channel, sender=handoff.sender)
            ids = [m.id for m in messages]
            labels = {
                label.message_id: {"intent": label.intent, "category": label.category}
                for label in session.scalars(
                    select(Label).where(Label.message_id.in_(ids)).order_by(Label.id)
                )
            }
            tickets = recent_tickets(session, channel=handoff.channel, sender=handoff.sender, limit=10)
            return messages, labels, [t.as_json(with_contact=reveal is not None) for t in tickets]

        messages, labels, tickets = await self._db(read)
        if reveal is not None:
            logger.info("agent %s opened the personal data of chat %s", agent_id, handoff_id)
        understood = understanding(
            messages, await self.router.rasa.user_events(f"{handoff.channel}:{handoff.sender}")
        )
        shown = []
        for m in messages:
            data = json.loads(m.data or "{}")
            who = "citizen" if m.direction == "in" else ("agent" if data.get("author") else "bot")
            shown.append(
                {
                    "id": m.id, "from": who, "at": _iso(m.created_at),
                    "text": m.text if reveal is not None else mask_personal_data(m.text, plates=True)[0],
                    "buttons": [b.get("title") for b in data.get("buttons") or []],
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
        """Take the waiting chat; 409 if another agent was first."""
        handoff = await self._open(handoff_id)
        if not await self._db(lambda s: queue.claim(s, handoff_id, agent_id)):
            raise DeskError(409, "another agent took this chat, or it is not waiting")
        await self.router.hub.publish({"type": "queue"})
        await self._tell(handoff, Outbound(text=self.texts["handoff_claimed"], author=self.texts["agent"]))

    async def reply(self, handoff_id: int, agent_id: int, text: str) -> bool:
        """Send the agent's TEXT to the citizen; return whether it was pushed (False: waits in the outbox)."""
        text = text.strip()
        if not text or len(text) > MAX_REPLY:
            raise DeskError(400, f"a reply of 1 to {MAX_REPLY} characters is needed")
        handoff = await self._mine(handoff_id, agent_id)
        pushed = await self._tell(handoff, Outbound(text=text, author=self.texts["agent"]))
        await self.router.hub.publish({"type": "message", "handoff": handoff_id})
        return pushed

    async def close(self, handoff_id: int, agent_id: int) -> None:
        """End the chat: the citizen is told that the bot is back, and Rasa resumes."""
        await self._mine(handoff_id, agent_id)
        handoff = await self._db(lambda s: queue.close(s, handoff_id, agent_id=agent_id))
        if handoff is None:
            raise DeskError(409, "this chat is not assigned to you")
        await self.router.hub.publish({"type": "queue"})
        await self._tell(handoff, Outbound(text=self.texts["handoff_closed"]))
        await self.router.resume(f"{handoff.channel}:{handoff.sender}", [handoff.id])

    async def label(self, message_id: int, agent_id: int, intent: str, category: str | None) -> None:
        """Record what a citizen's message meant (it teaches the next model)."""
        category = category or None
        if intent not in INTENTS or (category is not None and category not in CATEGORIES.get(intent, ())):
            raise DeskError(400, "unknown intent or category")
        if intent in CATEGORIES and category is None:
            raise DeskError(400, f"{intent} needs a category")

        def add(session: Session) -> bool:
            message = session.get(Message, message_id)
            if message is None or message.direction != "in":
                return False
            session.add(
                Label(
                    message_id=message_id,
                    intent=intent,
                    category=category,
                    agent_id=agent_id,
                    created_at=utcnow(),
                )
            )
            return True

        if not await self._db(add):
            raise DeskError(404, "no such citizen message")

    async def file_ticket(
        self, handoff_id: int, agent_id: int, *, category: str, description: str, location: str
    ) -> str:
        """File a complaint for the citizen of an assigned chat; tell them its number; return it."""
        if category not in CATEGORIES["complaint"]:
            raise DeskError(400, "unknown complaint category")
        description = description.strip()
        if not description:
            raise DeskError(400, "a description is needed")
        handoff = await self._mine(handoff_id, agent_id)
        profile = self.router.profile
        department = profile.department("complaint", category)
        masked, _ = mask_personal_data(description[:MAX_TEXT])

        def add(session: Session) -> str:
            return file_ticket(
                session, category=category, department=department.name, description=masked,
                location_text=location.strip()[:500] or None, district=profile.district_of(location),
                channel=handoff.channel, sender=handoff.sender, note="상담원이 대신 접수",
            ).number  # fmt: skip

        number: str = await self._db(add)
        await self._tell(
            handoff,
            Outbound(
                text=self.texts["handoff_ticket_filed"].format(number=number), author=self.texts["agent"]
            ),
        )
        await self.router.hub.publish({"type": "message", "handoff": handoff_id})
        return number

    # --- agents coming and going, and the sweeps ---

    async def agent_left(self, agent_id: int) -> None:
        """After the grace period, put a gone agent's chats back in the queue and tell their citizens."""
        await asyncio.sleep(self.grace)
        if self.router.hub.online(agent_id):
            return  # a reload, or another tab
        released = await self.router.store(lambda s: queue.release_agent(s, agent_id)) or []
        for handoff in released:
            await self._tell(handoff, Outbound(text=self.texts["handoff_released"]))
        if released:
            logger.info("agent %s left; %d chats went back to the queue", agent_id, len(released))
            await self.router.hub.publish({"type": "queue"})

    async def sweep(self) -> None:
        """Offer a callback to chats waiting too long; push what waits in the outbox where a channel can."""
        offered = (
            await self.router.store(lambda s: queue.offer_callbacks(s, older_than=self.callback_after)) or []
        )
        for handoff in offered:
            button = {"title": self.texts["callback_button"], "payload": self.texts["callback_button"]}
            await self._tell(handoff, Outbound(text=self.texts["handoff_offer_callback"], buttons=(button,)))
        for channel, push in self.router.pushers.items():
            senders = await self.router.store(functools.partial(pending_senders, channel=channel)) or []
            for sender in senders:
                ids, waiting = await self.router.store(
                    functools.partial(peek_outbox, channel=channel, sender=sender)
                ) or ([], [])
                if waiting and await push(sender, [Outbound.from_json(m) for m in waiting]):
                    await self.router.store(functools.partial(mark_delivered, ids=ids))

    async def run_sweeps(self, every: float = 5.0) -> None:
        """Sweep forever (a task of the gateway's lifespan)."""
        while True:
            await asyncio.sleep(every)
            try:
                await self.sweep()
            except Exception:  # noqa: BLE001 - the sweep must survive anything; the next one retries
                logger.exception("a handoff sweep failed")


def _iso(moment: dt.datetime) -> str:
    return (moment if moment.tzinfo else moment.replace(tzinfo=dt.timezone.utc)).isoformat()
