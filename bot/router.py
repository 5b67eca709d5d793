"""The routing point: every channel's message goes through Router.route, and only there.

Today every message goes to Rasa; the handoff issue diverts a handed-off conversation's messages to its
agent here. Messages are stored both ways; when Rasa is down the citizen's message is kept (unanswered)
and the citizen gets an apology with the city's phone number.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from bot.channels.base import Inbound, Outbound
from bot.profile import CityProfile
from bot.rasa import RasaClient, RasaUnavailable
from bot.store.conversations import mark_answered, record_message

__all__ = ["Router"]

logger = logging.getLogger(__name__)
T = TypeVar("T")


class Router:
    """Route citizens' messages to the bot and store the conversation."""

    def __init__(self, rasa: RasaClient, sessions: sessionmaker[Session], profile: CityProfile) -> None:
        self.rasa = rasa
        self.sessions = sessions
        self.profile = profile

    async def route(self, message: Inbound) -> list[Outbound]:
        """Store MESSAGE, get the bot's answers, store them, and return them."""
        message_id = await self.store(
            lambda s: record_message(
                s, channel=message.channel, sender=message.user_id, direction="in", text=message.text,
                data={k: v for k, v in message.metadata().items() if k != "channel"}
                | ({"payload": message.payload} if message.payload else {}),
            )
        )  # fmt: skip
        try:
            answers = await self.rasa.send(message)
        except RasaUnavailable:
            return [Outbound(text=self.profile.messages["rasa_down"])]

        def save_answers(session: Session) -> None:
            for answer in answers:
                record_message(
                    session, channel=message.channel, sender=message.user_id, direction="out",
                    text=answer.text, data={"buttons": list(answer.buttons), "image": answer.image},
                )  # fmt: skip
            if message_id is not None:
                mark_answered(session, message_id=message_id)

        await self.store(save_answers)
        return answers

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
