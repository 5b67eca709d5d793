"""The citizen's side of a handoff: joining the queue, waiting, leaving it, a callback, a crisis."""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

from sqlalchemy.orm import Session

from bot.delivery import Delivery
from bot.handoff.hub import Hub
from bot.messages import Inbound, Outbound, fill, squash
from bot.privacy import mask_personal_data, sign
from bot.profile import CityProfile
from bot.rasa import RasaClient, RasaUnavailable
from bot.shared import Limit, LocalShared, Shared
from bot.store import handoffs
from bot.store.conversations import texts_since
from bot.store.db import Database, StoreUnavailable
from bot.store.models import utcnow
from bot.store.tickets import file_ticket

__all__ = ["Reception", "asked_again"]

logger = logging.getLogger(__name__)


def asked_again(question: dict[str, Any]) -> Outbound:
    """Return the form's open QUESTION (conversations.open_question) as the bot asks it again."""
    return dataclasses.replace(Outbound.from_json(question), expects=question["expects"])


class Reception:
    """Put citizens in the agents' queue and answer them while they wait."""

    def __init__(
        self, *, db: Database, rasa: RasaClient, hub: Hub, delivery: Delivery, profile: CityProfile,
        handoffs_per_hour: float = 10.0, open_handoffs: int = 5, kakao_operator: bool = False,
        shared: Shared | None = None,
    ) -> None:  # fmt: skip
        """HANDOFFS_PER_HOUR: handoffs one client address may open (web chat; a page of another site or a
        script opening urgent handoffs from fresh ids would bury real crises), OPEN_HANDOFFS: how many of
        them may be open at once. KAKAO_OPERATOR: the Kakao
        channel uses 상담톡 or 1:1 채팅, and a waiting Kakao citizen is offered Kakao's own button to it."""
        self.kakao_operator, self.open_handoffs = kakao_operator, open_handoffs
        self.db, self.rasa, self.hub, self.delivery = db, rasa, hub, delivery
        self.profile = profile
        self.texts = profile.messages
        self.per_origin = Limit(
            shared or LocalShared(), "handoffs", handoffs_per_hour / 3600, handoffs_per_hour
        )

    async def crisis(
        self,
        message: Inbound,
        kind: str,
        handoff: handoffs.HandoffView | None,
        question: dict[str, Any] | None = None,
    ) -> list[Outbound]:
        """Give the emergency numbers and queue the chat as urgent; keep a complaint form in progress.

        Out of business hours no one would answer soon: the citizen gets the lines that answer around the
        clock, first and only, and no offer to wait or to leave a callback request.
        """
        logger.warning("a crisis message (%s) from a %s conversation: urgent handoff", kind, message.channel)
        if handoff is None:
            try:
                await self.rasa.pause(message.conversation_id)
            except RasaUnavailable:
                pass  # the gateway does not send to Rasa while the handoff is open; resume is harmless
        open_now = self._open_now()
        queued = await self.request(message, f"crisis:{kind}", "urgent", [], form_waits=question is not None)
        # The numbers to call come now, on every channel: no callback waits for an agent with them.
        queued = [dataclasses.replace(q, holds=False) for q in queued]
        return [self._emergency(open_now, question)] + (queued if open_now else [])

    def _open_now(self) -> bool:
        return self.profile.business_hours.is_open(utcnow(), self.profile.timezone)

    def _emergency(self, open_now: bool, question: dict[str, Any] | None) -> Outbound:
        """The crisis block: the numbers to call (out of hours, the on-call lines too), and a way back."""
        lines = self.profile.handoff.emergency + (() if open_now else self.profile.handoff.on_call)
        go_on = self.texts["continue_form_button"]
        buttons = lines + (({"title": go_on, "payload": go_on},) if question else ())
        return Outbound(text=self.texts["crisis" if open_now else "crisis_after_hours"], buttons=buttons)

    async def request(
        self,
        message: Inbound,
        reason: str,
        priority: str,
        guesses: list[dict[str, Any]],
        form_waits: bool = False,
    ) -> list[Outbound]:
        """Open (or escalate) the conversation's handoff; return what the citizen is told.

        FORM_WAITS: a complaint form waits behind the handoff, and the way out of the queue the citizen is
        offered is "신고 이어서 하기" (a channel shows the last message's buttons, so the crisis block's own
        button would be hidden behind the queue's).

        Past its address's limit the chat is not queued: the citizen is told to call (a crisis message has
        had the emergency numbers already), and the bot goes on.
        """
        if message.origin is not None and not await self.per_origin.take(message.origin):
            logger.warning("a handoff from a web-chat address over its hourly limit was not queued")
            await self.resume(message.conversation_id, [])
            return [Outbound(text=self.texts["handoff_limit"])]
        origin = None if message.origin is None else sign(f"address:{message.origin}")

        def open_(session: Session) -> tuple[handoffs.HandoffView, int]:
            handoff, _ = handoffs.open_handoff(
                session, channel=message.channel, sender=message.user_id, reason=reason, priority=priority,
                guesses=guesses, origin=origin, max_open=self.open_handoffs,
            )  # fmt: skip
            return handoff, handoffs.position(session, handoff)

        try:
            handoff, position = await self.db.run(open_)
        except handoffs.TooManyOpen:
            logger.warning(
                "a handoff from a web-chat address with %d open ones was not queued", self.open_handoffs
            )
            await self.resume(message.conversation_id, [])
            return [Outbound(text=self.texts["handoff_limit"])]
        except StoreUnavailable:
            # Rasa paused the conversation, but no one would answer it: let the bot go on.
            await self.resume(message.conversation_id, [])
            return [Outbound(text=self.texts["handoff_unavailable"])]
        await self.hub.publish({"type": "queue"})
        if handoff.status == "assigned":
            return []
        return self._queued_texts(message.channel, position, form_waits)

    def _queued_texts(self, channel: str, position: int, form_waits: bool) -> list[Outbound]:
        hours = self.profile.business_hours
        now = utcnow()
        leave = self.texts["continue_form_button" if form_waits else "cancel_handoff_button"]
        cancel = {"title": leave, "payload": leave}
        if hours.is_open(now, self.profile.timezone):
            answers = [
                Outbound(
                    text=self.texts["handoff_queued"].format(position=position), buttons=(cancel,), holds=True
                )
            ]
        else:
            back = hours.next_open(now, self.profile.timezone)
            callback = {"title": self.texts["callback_button"], "payload": self.texts["callback_button"]}
            text = self.texts["handoff_after_hours"].format(
                hours=hours.text, next_open=f"{self.profile.weekday(back)} {back:%H:%M}"
            )
            answers = [Outbound(text=text, buttons=(callback, cancel))]
        if not self.delivery.can_push(channel):
            answers.append(self._kakao_wait(channel))
        return answers

    def _kakao_wait(self, channel: str) -> Outbound:
        """How a citizen who cannot be pushed to gets an agent's answer (Kakao: with the next message, or
        at once through Kakao's own 상담직원 연결 where the channel uses it)."""
        if channel == "kakao" and self.kakao_operator:
            button = {"title": self.texts["kakao_operator_button"], "operator": "kakao"}
            return Outbound(text=self.texts["handoff_kakao_operator"], buttons=(button,))
        return Outbound(text=self.texts["handoff_kakao"])

    async def message(
        self, message: Inbound, handoff: handoffs.HandoffView, question: dict[str, Any] | None = None
    ) -> list[Outbound]:
        """A message in a handed-off chat: a request to leave the queue, or one for the agent.

        Leaving it while a complaint form waits ("신고 이어서 하기" after a crisis block, or "상담 취소")
        brings the form's open QUESTION back, so the complaint goes on where it stopped.
        """
        said = squash(message.payload or message.text)
        if handoff.status == "waiting" and said == squash(self.texts["callback_button"]):
            return await self._callback(message, handoff)
        goes_on = question is not None and said == squash(self.texts["continue_form_button"])
        if goes_on or self.profile.leaves_queue(said):
            ended = await self.db.run_or(lambda s: handoffs.abandon(s, handoff.id), None)
            if ended is not None:
                await self.hub.publish({"type": "queue"})
                await self.resume(message.conversation_id, [handoff.id])
                if question is None:
                    return [Outbound(text=self.texts["handoff_cancelled"])]
                return [Outbound(text=self.texts["form_continued"]), asked_again(question)]
        await self.hub.publish({"type": "message", "handoff": handoff.id})
        if handoff.priority == "urgent" and not self._open_now():
            # No one is at work: no queue position to wait for, the lines that answer now instead.
            return [self._emergency(False, question)]
        if handoff.status == "waiting":
            position = await self.db.run_or(lambda s: handoffs.position(s, handoff), None)
            return [Outbound(text=self.texts["handoff_waiting"].format(position=position or 1))]
        return []

    async def _callback(self, message: Inbound, handoff: handoffs.HandoffView) -> list[Outbound]:
        """File the waiting chat as a ticket that the city answers in this conversation; end the wait."""
        department = self.profile.departments[self.profile.handoff.callback_department]
        button = squash(self.texts["callback_button"])

        def file(session: Session) -> str | None:
            if handoffs.abandon(session, handoff.id) is None:
                return None  # an agent took it meanwhile
            said = texts_since(
                session, channel=handoff.channel, sender=handoff.sender, since=handoff.created_at
            )
            description, _ = mask_personal_data(
                "\n".join(t for t in said if t.strip() and squash(t) != button)
            )
            ticket = file_ticket(
                session, category="other", department=department.name,
                description=description or self.texts["callback_button"], channel=message.channel,
                sender=message.user_id, note=self.texts["note_callback"],
            )  # fmt: skip
            handoffs.set_ticket(session, handoff.id, ticket.number)
            return ticket.number

        number = await self.db.run_or(file, None)
        if number is None:
            return []
        await self.hub.publish({"type": "queue"})
        await self.resume(message.conversation_id, [handoff.id])
        return [Outbound(text=fill(self.texts["handoff_callback_filed"], number=number))]

    async def resume(self, conversation_id: str, ids: list[int]) -> None:
        """Let the bot answer again; remember handoffs IDS as done (or retry with the next message)."""
        try:
            await self.rasa.resume(conversation_id)
        except RasaUnavailable:
            return
        if ids:
            await self.db.run_or(lambda s: handoffs.mark_resumed(s, ids), None)
