"""The routing point: every channel's message goes through Router.route, and only there.

A crisis message gets the emergency numbers and an urgent handoff, even when Rasa is down; a handed-off
chat goes to people; everything else to Rasa. When Rasa is down the citizen's message is kept (unanswered).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from sqlalchemy.orm import Session

from bot.handoff.crisis import kind_of
from bot.handoff.reception import Reception
from bot.messages import Inbound, Outbound, is_foreign
from bot.rasa import RasaClient, RasaUnavailable
from bot.store import handoffs
from bot.store.conversations import open_question
from bot.store.db import Database
from bot.transcript import Transcript

__all__ = ["Router"]


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
    ) -> None:
        self.rasa, self.db, self.transcript, self.reception = rasa, db, transcript, reception
        self.texts, self.foreign_help = texts, foreign_help

    async def route(self, message: Inbound) -> list[Outbound]:
        """Store MESSAGE, get the answers (the bot's, or people's queue), return them, then store them."""
        await self.transcript.settled(message.conversation_id)  # the last answers first: order is kept

        def take_in(
            session: Session,
        ) -> tuple[int | None, handoffs.HandoffView | None, list[int], dict[str, Any] | None]:
            message_id = self.transcript.record_in(session, message)
            handoff, pending = handoffs.state(session, channel=message.channel, sender=message.user_id)
            question = open_question(session, channel=message.channel, sender=message.user_id)
            return message_id, handoff, pending, question

        nothing: tuple[None, None, list[int], None] = (None, None, [], None)
        message_id, handoff, pending, question = await self.db.run_or(take_in, nothing)
        # Judged in its context: an answer to the form's question ("사진 못 찍었어요") needs strong evidence.
        # In the event loop: 0.1 ms a message, 4 ms for the longest; a thread would hold the GIL anyway.
        expects = question["expects"] if question else None
        crisis = None if message.payload else kind_of(message.text, expects=expects)
        if crisis is not None:
            answers = await self.reception.crisis(message, crisis, handoff, question)
        elif handoff is not None:
            answers = await self.reception.message(message, handoff, question)
        elif expects is None and not message.payload and is_foreign(message.text):
            # The bot answers in Korean only: say so in English, with a line that helps in many languages.
            answers = [Outbound(text=self.texts["foreign_language"], buttons=self.foreign_help)]
        else:
            if pending:
                await self.reception.resume(message.conversation_id, pending)
            try:
                answers, signals = await self.rasa.send(message)
            except RasaUnavailable:
                return [Outbound(text=self.texts["rasa_down"])]
            if answers:  # which question this turn leaves open, for the next message's context
                asked = next((str(s["expects"]) for s in signals if s.get("expects")), "")
                answers[-1] = dataclasses.replace(answers[-1], expects=asked)
            request = next((s["handoff"] for s in signals if isinstance(s.get("handoff"), dict)), None)
            if request is not None:
                guesses = request.get("guesses") if isinstance(request.get("guesses"), list) else []
                reason = str(request.get("reason") or "requested")
                answers += await self.reception.request(message, reason, "normal", guesses)
        # Stored once they are on their way: the citizen does not wait for the database a second time.
        self.transcript.write_soon(message, answers, message_id)
        return answers
