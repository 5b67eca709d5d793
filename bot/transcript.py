"""Storing each conversation's messages in the order they happened, after the citizen has the answer."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

from sqlalchemy.orm import Session

from bot.messages import Inbound, Outbound
from bot.store.conversations import mark_answered, record_message
from bot.store.db import Database

__all__ = ["Transcript"]


class Transcript:
    """The conversation log: messages in, answers out, in each conversation's order."""

    def __init__(self, db: Database) -> None:
        self.db = db
        # Each conversation's answers being stored after they went out (at most one task a conversation).
        self._saving: dict[str, asyncio.Task[None]] = {}
        self._after: set[asyncio.Task[None]] = set()

    @staticmethod
    def record_in(session: Session, message: Inbound) -> int:
        """Store the citizen's MESSAGE in SESSION's transaction; return its id."""
        data = {k: v for k, v in message.metadata().items() if k != "channel"}
        if message.payload:
            data["payload"] = message.payload
        return record_message(
            session, channel=message.channel, sender=message.user_id, direction="in", text=message.text,
            data=data,
        )  # fmt: skip

    def after_saving(self, conversation_id: str, then: Callable[[], Coroutine[Any, Any, None]]) -> None:
        """Run THEN once the answers being stored in CONVERSATION_ID are (at once if none are)."""

        def start(_: object = None) -> None:
            follow = asyncio.create_task(then())
            self._after.add(follow)
            follow.add_done_callback(self._after.discard)

        task = self._saving.get(conversation_id)
        if task is None:
            start()
        else:
            task.add_done_callback(start)

    async def settled(self, conversation_id: str | None = None) -> None:
        """Wait until the answers already given (in CONVERSATION_ID, or in every one) are stored."""
        if conversation_id is None:
            await asyncio.gather(*self._saving.values())
        elif (task := self._saving.get(conversation_id)) is not None:
            await asyncio.shield(task)

    def write_soon(self, message: Inbound, answers: list[Outbound], message_id: int | None) -> None:
        """Store ANSWERS to MESSAGE in the background; the conversation's next write waits for it."""
        conversation_id = message.conversation_id
        task = asyncio.create_task(self.write(message.channel, message.user_id, answers, message_id))
        self._saving[conversation_id] = task

        def done(_: asyncio.Task[None]) -> None:
            if self._saving.get(conversation_id) is task:
                del self._saving[conversation_id]

        task.add_done_callback(done)

    async def write(
        self, channel: str, sender: str, answers: list[Outbound], message_id: int | None = None
    ) -> None:
        """Store ANSWERS sent to SENDER; mark the citizen's message MESSAGE_ID answered."""

        def save(session: Session) -> None:
            for answer in answers:
                record_message(
                    session, channel=channel, sender=sender, direction="out",
                    text=answer.text, data={"buttons": list(answer.buttons), "image": answer.image}
                    | ({"author": answer.author} if answer.author else {})
                    | ({"expects": answer.expects} if answer.expects is not None else {}),
                )  # fmt: skip
            if message_id is not None:
                mark_answered(session, message_id=message_id)

        await self.db.run_or(save, None)
