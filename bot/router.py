"""The routing point: every channel's message goes through Router.route, and only there.

A message goes to the bot (Rasa) unless its conversation is handed off to people: then it goes to the agent
consoles and not to Rasa. A crisis message (bot/handoff/crisis.py) gets the emergency numbers and an urgent
handoff at once, whatever else it says and even when Rasa is down. Messages are stored both ways; when Rasa
is down the citizen's message is kept (unanswered) and the citizen gets an apology with the city's phone.

Answers that are not replies (an agent's message, a ticket's new status) go out with Router.deliver: pushed
where the channel can push (web chat, Telegram), else kept in the outbox for the citizen's next message
(Kakao).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from bot.channels.base import Inbound, Outbound
from bot.handoff import queue
from bot.handoff.crisis import kind_of
from bot.handoff.hub import Hub
from bot.privacy import mask_personal_data
from bot.profile import CityProfile, squash
from bot.rasa import RasaClient, RasaUnavailable
from bot.store.conversations import mark_answered, queue_outbox, record_message, texts_since
from bot.store.models import utcnow
from bot.store.tickets import file_ticket

__all__ = ["Pusher", "Router"]

logger = logging.getLogger(__name__)
T = TypeVar("T")
# Sends messages to a citizen now; returns False when it cannot (no open page, the messenger refused).
Pusher = Callable[[str, list[Outbound]], Awaitable[bool]]
_CANCEL = {"취소", "상담취소", "연결취소", "그만", "취소할게요", "안기다릴게요"}


class Router:
    """Route citizens' messages to the bot or to people, and store the conversation."""

    def __init__(self, rasa: RasaClient, sessions: sessionmaker[Session], profile: CityProfile) -> None:
        self.rasa = rasa
        self.sessions = sessions
        self.profile = profile
        self.hub = Hub()
        self.pushers: dict[str, Pusher] = {}
        self.texts = profile.messages
        # Each conversation's answers being stored after they went out (at most one task a conversation).
        self._saving: dict[str, asyncio.Task[None]] = {}

    async def route(self, message: Inbound) -> list[Outbound]:
        """Store MESSAGE, get the answers (the bot's, or people's queue), return them, then store them."""
        # In the event loop: 0.1 ms a message, 4 ms for the longest; a thread would hold the GIL anyway.
        crisis = None if message.payload else kind_of(message.text)
        await self.saved(message.conversation_id)  # the last answers first, so that the order is kept

        def take_in(session: Session) -> tuple[int, queue.HandoffView | None, list[int]]:
            message_id = record_message(
                session, channel=message.channel, sender=message.user_id, direction="in", text=message.text,
                data={k: v for k, v in message.metadata().items() if k != "channel"}
                | ({"payload": message.payload} if message.payload else {}),
            )  # fmt: skip
            handoff, pending = queue.state(session, channel=message.channel, sender=message.user_id)
            return message_id, handoff, pending

        message_id, handoff, pending = await self.store(take_in) or (None, None, [])
        if crisis is not None:
            answers = await self._crisis(message, crisis, handoff)
        elif handoff is not None:
            answers = await self._to_people(message, handoff)
        else:
            if pending:
                await self.resume(message.conversation_id, pending)
            try:
                answers, signals = await self.rasa.send(message)
            except RasaUnavailable:
                return [Outbound(text=self.texts["rasa_down"])]
            request = next((s["handoff"] for s in signals if isinstance(s.get("handoff"), dict)), None)
            if request is not None:
                guesses = request.get("guesses") if isinstance(request.get("guesses"), list) else []
                answers += await self._queue(
                    message, str(request.get("reason") or "requested"), "normal", guesses
                )
        # Stored once they are on their way: the citizen does not wait for the database a second time.
        self._save_soon(message, answers, message_id)
        return answers

    async def deliver(self, channel: str, sender: str, messages: list[Outbound]) -> bool:
        """Send MESSAGES to a citizen now if the channel can push; else keep them for their next message.

        Returns whether they were pushed. They are stored in the conversation either way.
        """
        await self.saved(f"{channel}:{sender}")
        await self._save(Inbound(channel=channel, user_id=sender, text=""), messages, None)
        push = self.pushers.get(channel)
        if push is not None and await push(sender, messages):
            return True
        payload = [m.as_json() for m in messages]
        await self.store(lambda s: queue_outbox(s, channel=channel, sender=sender, messages=payload))
        return False

    async def store(self, work: Callable[[Session], T]) -> T | None:
        """Run WORK in a transaction in a thread; return its result, or None (logged) if the database failed.

        Channels use it too, so that no database work blocks the event loop and an outage never reaches
        the citizen.
        """

        def run() -> T:
            with self.sessions.begin() as session:
                return work(session)

        try:
            return await asyncio.to_thread(run)
        except SQLAlchemyError as exc:
            logger.error("a database transaction failed: %s", type(exc).__name__)
            return None

    # --- handoff ---

    async def _crisis(self, message: Inbound, kind: str, handoff: queue.HandoffView | None) -> list[Outbound]:
        logger.warning("a crisis message (%s) from a %s conversation: urgent handoff", kind, message.channel)
        answers = [Outbound(text=self.texts["crisis"], buttons=tuple(self.profile.handoff.emergency))]
        if handoff is None:
            try:
                await self.rasa.pause(message.conversation_id)
            except RasaUnavailable:
                pass  # the gateway does not send to Rasa while the handoff is open; resume is harmless
        return answers + await self._queue(message, f"crisis:{kind}", "urgent", [])

    async def _queue(
        self, message: Inbound, reason: str, priority: str, guesses: list[dict[str, Any]]
    ) -> list[Outbound]:
        """Open (or escalate) the conversation's handoff; return what the citizen is told."""

        def open_(session: Session) -> tuple[queue.HandoffView, int]:
            handoff, _ = queue.open_handoff(
                session, channel=message.channel, sender=message.user_id, reason=reason, priority=priority,
                guesses=guesses,
            )  # fmt: skip
            return handoff, queue.position(session, handoff)

        opened = await self.store(open_)
        if opened is None:
            # Rasa paused the conversation, but no one would answer it: let the bot go on.
            await self.resume(message.conversation_id, [])
            return [Outbound(text=self.texts["handoff_unavailable"])]
        handoff, position = opened
        await self.hub.publish({"type": "queue"})
        if handoff.status == "assigned":
            return []
        return self._queued_texts(message.channel, position)

    def _queued_texts(self, channel: str, position: int) -> list[Outbound]:
        hours = self.profile.business_hours
        now = utcnow()
        cancel = {
            "title": self.texts["cancel_handoff_button"],
            "payload": self.texts["cancel_handoff_button"],
        }
        if hours.is_open(now, self.profile.timezone):
            answers = [
                Outbound(text=self.texts["handoff_queued"].format(position=position), buttons=(cancel,))
            ]
        else:
            back = hours.next_open(now, self.profile.timezone)
            callback = {"title": self.texts["callback_button"], "payload": self.texts["callback_button"]}
            text = self.texts["handoff_after_hours"].format(
                hours=hours.text, next_open=f"{_WEEKDAYS[back.weekday()]} {back:%H:%M}"
            )
            answers = [Outbound(text=text, buttons=(callback, cancel))]
        if channel not in self.pushers:
            answers.append(Outbound(text=self.texts["handoff_kakao"]))
        return answers

    async def _to_people(self, message: Inbound, handoff: queue.HandoffView) -> list[Outbound]:
        """A message in a handed-off chat: a request to leave the queue, or one for the agent."""
        said = squash(message.payload or message.text)
        if handoff.status == "waiting" and said == squash(self.texts["callback_button"]):
            return await self._callback(message, handoff)
        if said in _CANCEL or said == squash(self.texts["cancel_handoff_button"]):
            ended = await self.store(lambda s: queue.abandon(s, handoff.id))
            if ended is not None:
                await self.hub.publish({"type": "queue"})
                await self.resume(message.conversation_id, [handoff.id])
                return [Outbound(text=self.texts["handoff_cancelled"])]
        await self.hub.publish({"type": "message", "handoff": handoff.id})
        if handoff.status == "waiting":
            position = await self.store(lambda s: queue.position(s, handoff))
            return [Outbound(text=self.texts["handoff_waiting"].format(position=position or 1))]
        return []

    async def _callback(self, message: Inbound, handoff: queue.HandoffView) -> list[Outbound]:
        """File the waiting chat as a ticket that the city answers in this conversation; end the wait."""
        department = self.profile.departments[self.profile.handoff.callback_department]

        def file(session: Session) -> str | None:
            if queue.abandon(session, handoff.id) is None:
                return None  # an agent took it meanwhile
            button = squash(self.texts["callback_button"])
            said = texts_since(
                session, channel=handoff.channel, sender=handoff.sender, since=handoff.created_at
            )
            description, _ = mask_personal_data(
                "\n".join(t for t in said if t.strip() and squash(t) != button)
            )
            ticket = file_ticket(
                session, category="other", department=department.name,
                description=description or self.texts["callback_button"], channel=message.channel,
                sender=message.user_id, note="상담 대기 중 연락 요청",
            )  # fmt: skip
            queue.set_ticket(session, handoff.id, ticket.number)
            return ticket.number

        number = await self.store(file)
        if number is None:
            return []
        await self.hub.publish({"type": "queue"})
        await self.resume(message.conversation_id, [handoff.id])
        return [Outbound(text=self.texts["handoff_callback_filed"].format(number=number))]

    async def resume(self, conversation_id: str, ids: list[int]) -> None:
        """Let the bot answer again; remember handoffs IDS as done (or retry with the next message)."""
        try:
            await self.rasa.resume(conversation_id)
        except RasaUnavailable:
            return
        if ids:
            await self.store(lambda s: queue.mark_resumed(s, ids))

    async def saved(self, conversation_id: str | None = None) -> None:
        """Wait until the answers already given (in CONVERSATION_ID, or in every one) are stored."""
        if conversation_id is None:
            await asyncio.gather(*self._saving.values())
        elif (task := self._saving.get(conversation_id)) is not None:
            await asyncio.shield(task)

    def _save_soon(self, message: Inbound, answers: list[Outbound], message_id: int | None) -> None:
        conversation_id = message.conversation_id
        task = asyncio.create_task(self._save(message, answers, message_id))
        self._saving[conversation_id] = task

        def done(_: asyncio.Task[None]) -> None:
            if self._saving.get(conversation_id) is task:
                del self._saving[conversation_id]

        task.add_done_callback(done)

    async def _save(self, message: Inbound, answers: list[Outbound], message_id: int | None) -> None:
        def save(session: Session) -> None:
            for answer in answers:
                record_message(
                    session, channel=message.channel, sender=message.user_id, direction="out",
                    text=answer.text, data={"buttons": list(answer.buttons), "image": answer.image}
                    | ({"author": answer.author} if answer.author else {}),
                )  # fmt: skip
            if message_id is not None:
                mark_answered(session, message_id=message_id)

        await self.store(save)


_WEEKDAYS = ("월요일", "화요일", "수요일", "목요일", "금요일", "토요일", "일요일")
