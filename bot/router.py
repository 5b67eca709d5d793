"""The routing point: every channel's message goes through Router.route, and only there.

A crisis message gets the emergency numbers and an urgent handoff, even when Rasa is down; a handed-off
chat goes to people; everything else to Rasa. When Rasa is down the citizen's message is kept (unanswered).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Protocol

from sqlalchemy.orm import Session

from bot.delivery import Delivery
from bot.handoff.crisis import kind_of
from bot.handoff.reception import Reception
from bot.messages import Inbound, Outbound, is_foreign
from bot.rasa import RasaClient, RasaUnavailable
from bot.requests import different_requests, split_candidates
from bot.shared import LocalShared, Shared
from bot.store import handoffs
from bot.store.conversations import (
    defer,
    deferred,
    mark_answered,
    missed_by_the_bot,
    open_question,
    settle_deferred,
    waiting_for_the_bot,
)
from bot.store.db import Database
from bot.store.models import Message, utcnow
from bot.transcript import Transcript

__all__ = ["CATCH_UP_FOR", "DEFERRED_FOR", "Router"]

logger = logging.getLogger(__name__)

# How long a second request said with a complaint waits for the form to end (then it is dropped).
DEFERRED_FOR = dt.timedelta(minutes=30)
# Messages that came while Rasa was down are answered when it is back, if it is back within this.
CATCH_UP_FOR = dt.timedelta(hours=1)
# The longest a conversation's turn may hold it (seconds): Rasa's timeout and storing the answers; and the
# longest the next message of the conversation waits for it.
TURN, TURN_WAIT = 45.0, 3.0


class Standing(Protocol):
    """What answers presses of standing buttons (bot/messages.STANDING) before Rasa sees them."""

    async def answer(self, message: Inbound) -> list[Outbound] | None:
        """Return the reply if MESSAGE is theirs to answer, else None."""


class Router:
    """Route citizens' messages to the bot or to people."""

    def __init__(
        self,
        *,
        rasa: RasaClient,
        db: Database,
        transcript: Transcript,
        reception: Reception,
        texts: dict[str, str],
        foreign_help: tuple[dict[str, str], ...] = (),
        shared: Shared | None = None,
        delivery: Delivery | None = None,
        standing: Sequence[Standing] = (),
        menus: Callable[[list[Outbound]], Awaitable[list[Outbound]]] | None = None,
    ) -> None:
        """DELIVERY sends what the bot answers later (catch_up) where the citizen is; STANDING take the
        presses of buttons that stay valid whatever the conversation's state (만족도 조사, a complaint's
        "함께 처리해 주세요") before Rasa sees them: the first that answers a message has it. MENUS adds what
        is offered for a while to the bot's main menu (소통라이브 while it takes questions)."""
        self.standing, self.menus = tuple(standing), menus
        self.rasa, self.db, self.transcript, self.reception = rasa, db, transcript, reception
        self.texts, self.foreign_help = texts, foreign_help
        self.shared = shared or LocalShared()
        self.delivery = delivery

    async def route(self, message: Inbound) -> list[Outbound]:
        """Store MESSAGE, get the answers (the bot's, or people's queue), return them, then store them.

        One turn at a time per conversation, whichever gateway a message reached: the turn holds the
        conversation's key in the shared state until its answers are stored, so the next message (here or
        on another gateway) is stored after them and sees the question they left open. A message waits at
        most TURN_WAIT for that (a crisis must not wait for a slow turn), then goes on, as Rasa's own lock
        keeps the conversation's turns apart there.
        """
        key = f"turn:{message.conversation_id}"
        token = await self.shared.acquire(key, TURN, wait=TURN_WAIT)
        try:
            return await self._route(message, holds_turn=token is not None)
        finally:
            self.transcript.after_saving(message.conversation_id, lambda: self.shared.release(key, token))

    async def _standing(self, message: Inbound) -> list[Outbound] | None:
        for answerer in self.standing:
            answers = await answerer.answer(message)
            if answers is not None:
                return answers
        return None

    async def _route(self, message: Inbound, *, holds_turn: bool = True) -> list[Outbound]:
        await self.transcript.settled(message.conversation_id)  # the last answers first: order is kept

        def take_in(session: Session) -> tuple[Any, ...]:
            message_id = self.transcript.record_in(session, message)
            who = {"channel": message.channel, "sender": message.user_id}
            handoff, pending = handoffs.state(session, **who)
            question = open_question(session, **who)
            later = deferred(session, **who, since=utcnow() - DEFERRED_FOR)
            # What came while Rasa was down and is not answered yet: it goes to Rasa first, in order.
            missed = waiting_for_the_bot(session, since=utcnow() - CATCH_UP_FOR, **who, before=message_id)
            missed_now = [_replayed(m) for ms in missed.values() for m in ms]
            return message_id, handoff, pending, question, later, missed_now

        message_id, handoff, pending, question, later, missed = await self.db.run_or(
            take_in, (None, None, [], None, None, [])
        )
        # Judged in its context: an answer to the form's question ("사진 못 찍었어요") needs strong evidence.
        # In the event loop: 0.1 ms a message, 4 ms for the longest; a thread would hold the GIL anyway.
        expects = question["expects"] if question else None
        crisis = None if message.payload else kind_of(message.text, expects=expects)
        # Typed, with no form question waiting for it: perhaps in another language, or two requests.
        free = expects is None and not message.payload
        if crisis is not None:
            answers = await self.reception.crisis(message, crisis, handoff, question)
        elif handoff is not None:
            answers = await self.reception.message(message, handoff, question)
        elif (taken := await self._standing(message)) is not None:
            answers = taken
        elif free and is_foreign(message.text):
            # The bot answers in Korean only: say so in English, with a line that helps in many languages.
            answers = [Outbound(text=self.texts["foreign_language"], buttons=self.foreign_help)]
        else:
            if pending:
                await self.reception.resume(message.conversation_id, pending)
            parts = await self._two_requests(message) if free else None
            try:
                # (Without the turn, the one who holds it may be replaying them: it is left to them.)
                late = await self._replay(missed) if missed and holds_turn else []
                answers, signals = await self._bot(
                    dataclasses.replace(message, text=parts[0]) if parts else message
                )
                answers = late + answers
            except RasaUnavailable:
                # "보내신 메시지는 저장해 두었어요" only if it was; then it goes to Rasa when it is back.
                if message_id is not None:
                    kept = message_id
                    await self.db.run_or(lambda s: missed_by_the_bot(s, message_id=kept), None)
                return [
                    Outbound(text=self.texts["rasa_down" if message_id is not None else "rasa_down_unsaved"])
                ]
            request = _handoff_request(signals)
            if request is not None:
                guesses: list[dict[str, Any]] = (
                    request["guesses"] if isinstance(request.get("guesses"), list) else []
                )
                reason = str(request.get("reason") or "requested")
                answers += await self.reception.request(message, reason, "normal", guesses)
            elif parts:
                # Said together, taken in turn: the second once the first leaves no question open.
                answers.insert(0, Outbound(text=self.texts["two_requests"]))
                if _leaves_open(answers):
                    if message_id is not None:  # (with the database down, the second request is not kept)
                        kept = message_id
                        await self.db.run_or(lambda s: defer(s, message_id=kept, text=parts[1]), None)
                else:
                    answers += await self._follow(message, parts[1])
            elif later is not None and not _leaves_open(answers):
                answers += await self._follow(message, later[1])
                await self.db.run_or(lambda s: settle_deferred(s, message_id=later[0]), None)
            if self.menus is not None:
                answers = await self.menus(answers)
        # Stored once they are on their way: the citizen does not wait for the database a second time.
        self.transcript.write_soon(message, answers, message_id)
        return answers

    async def catch_up(self) -> int:
        """Answer the messages that came while Rasa was down, now that it answers; return how many.

        Each conversation's waiting messages (since CATCH_UP_FOR ago, and not followed by an answered one)
        go to Rasa in order; the answers, after a word that they are late, are delivered as an agent's are
        (pushed, or with a Kakao citizen's next message). A conversation in a turn now, or with a person,
        is left: its citizen is being answered. The first message Rasa does not take ends the round.
        """
        if self.delivery is None:
            return 0
        waiting: dict[tuple[str, str], list[tuple[int, Inbound]]] = await self.db.run_or(
            lambda s: {
                k: [_replayed(m) for m in v]
                for k, v in waiting_for_the_bot(s, since=utcnow() - CATCH_UP_FOR).items()
            },
            {},
        )
        answered = 0
        for (channel, sender), messages in waiting.items():
            key = f"turn:{channel}:{sender}"
            token = await self.shared.acquire(key, TURN, wait=0)
            if token is None:
                continue
            try:
                answered += await self._answer_late(channel, sender, messages)
            except RasaUnavailable:
                break
            finally:
                await self.shared.release(key, token)
        return answered

    async def _answer_late(self, channel: str, sender: str, messages: list[tuple[int, Inbound]]) -> int:
        """Answer one conversation's waiting MESSAGES (unless a person has it); return how many."""
        assert self.delivery is not None
        handoff, _ = await self.db.run_or(
            functools.partial(handoffs.state, channel=channel, sender=sender), (None, [])
        )
        if handoff is not None:
            return 0
        await self.delivery.deliver(channel, sender, await self._replay(messages))
        return len(messages)

    async def _replay(self, messages: list[tuple[int, Inbound]]) -> list[Outbound]:
        """Send MESSAGES that Rasa missed to it in order; return its answers after a word that they are late.

        Each is marked answered once Rasa took it; RasaUnavailable leaves the rest waiting.
        """
        answers = [Outbound(text=self.texts["rasa_back"])]
        for message_id, message in messages:
            got, signals = await self._bot(message)
            answers += got
            request = _handoff_request(signals)
            if request is not None:
                answers += await self.reception.request(
                    message, str(request.get("reason") or "requested"), "normal", []
                )
            await self.db.run_or(functools.partial(mark_answered, message_id=message_id), None)
        return answers

    async def run_catch_up(self, every: float = 10.0) -> None:
        """Catch up now and then (a task of the gateway's lifespan); of several gateways, one per round."""
        await self.shared.every("catch-up", every, self.catch_up)

    async def _bot(self, message: Inbound) -> tuple[list[Outbound], list[dict[str, Any]]]:
        """Send MESSAGE to Rasa; mark on the last answer which question the turn leaves open ("" none)."""
        answers, signals = await self.rasa.send(message)
        if answers:
            asked = next((str(s["expects"]) for s in signals if s.get("expects")), "")
            answers[-1] = dataclasses.replace(answers[-1], expects=asked)
        return answers, signals

    async def _two_requests(self, message: Inbound) -> tuple[str, str] | None:
        """Return MESSAGE's two requests when it makes two (each read by the NLU on its own), else None."""
        parts = split_candidates(message.text)
        if parts is None:
            return None
        first, second = [await self.rasa.parse(message.conversation_id, part) for part in parts]
        return parts if different_requests(first, second) else None

    async def _follow(self, message: Inbound, text: str) -> list[Outbound]:
        """Answer TEXT, the second request of MESSAGE, now (nothing if Rasa does not answer)."""
        try:
            answers, _ = await self._bot(dataclasses.replace(message, text=text, payload=None))
        except RasaUnavailable:
            return []
        return [Outbound(text=self.texts["second_request"]), *answers]


def _handoff_request(signals: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The handoff an action asked for in Rasa's custom messages, if one did."""
    return next((s["handoff"] for s in signals if isinstance(s.get("handoff"), dict)), None)


def _replayed(message: Message) -> tuple[int, Inbound]:
    """A stored citizen's message as it came (its raw text, its press, photo or place), to send again."""
    data = json.loads(message.data or "{}")
    return message.id, Inbound(
        channel=message.channel, user_id=message.sender, text=message.raw_text, payload=data.get("payload"),
        image_url=data.get("image_url"), location=data.get("location"),
    )  # fmt: skip


def _leaves_open(answers: list[Outbound]) -> bool:
    """Return whether the bot's turn ended with a question of the complaint form."""
    return any(a.expects for a in answers)
