"""소통라이브's messages the city sends first: the reminder before the broadcast and, after it, each
question's answer, to the citizens who said yes when they asked or agreed.

Every ROUND seconds one gateway of several (the shared state's `every`) claims in the database what is due,
then sends it: the reminder of a session airing within the profile's remind_before, and the answers
recorded, once the broadcast is over (broadcast_minutes after it starts; bot.store.live.answers_due). A
claim is taken once (an UPDATE that only one caller wins), so nobody is sent a reminder or an answer twice;
a gateway killed between claiming and sending loses that round's messages for those citizens rather than
doubling them.
"""

from __future__ import annotations

import functools
import logging
from typing import Any

from bot.delivery import Delivery
from bot.messages import Outbound, fill
from bot.profile import CityProfile
from bot.shared import Shared
from bot.store import live
from bot.store.db import Database

__all__ = ["LiveNotifier"]

logger = logging.getLogger(__name__)

ROUND = 60.0


class LiveNotifier:
    """Send 소통라이브's reminders and answers when they are due."""

    def __init__(self, *, db: Database, delivery: Delivery, profile: CityProfile, shared: Shared) -> None:
        self.db, self.delivery, self.profile, self.shared = db, delivery, profile, shared

    async def round(self) -> dict[str, int]:
        """Send what is due now; return how many reminders and answers were sent (pushed or kept)."""
        sent = {"reminders": 0, "answers": 0}
        texts = self.profile.messages
        before = self.profile.live.remind_before
        for view, people in await self.db.run_or(functools.partial(live.remind_due, before=before), []):
            reminder = Outbound(
                text=fill(
                    texts["live_reminder"],
                    airs=self.profile.local_moment(view.airs_at),
                    title=view.title,
                    url=view.stream_url,
                )
            )
            for channel, sender in people:
                await self._send(channel, sender, [reminder])
                sent["reminders"] += 1
            logger.info("소통라이브 %d: reminded %d citizens", view.id, len(people))
        after = self.profile.live.broadcast
        for due in await self.db.run_or(functools.partial(live.answers_due, after=after), []):
            if not await self.db.run_or(functools.partial(live.mark_answer_sent, group=due["group"]), False):
                continue  # another gateway has it
            buttons = (
                ({"title": texts["live_answer_button"], "url": due["answer_url"]},)
                if due["answer_url"]
                else ()
            )
            message = Outbound(
                text=fill(
                    texts["live_answer"], title=due["title"], question=due["question"], answer=due["answer"]
                ),
                buttons=buttons,
            )
            for channel, sender in due["recipients"]:
                await self._send(channel, sender, [message])
                sent["answers"] += 1
        return sent

    async def _send(self, channel: str, sender: str, messages: list[Outbound]) -> Any:
        try:
            await self.delivery.deliver(channel, sender, messages)
        except Exception:  # noqa: BLE001 - one citizen's failure must not stop the others
            logger.exception("a 소통라이브 message to a %s conversation failed", channel)

    async def run_forever(self) -> None:
        """Send what is due every ROUND seconds (a task of the gateway's lifespan)."""
        await self.shared.every("live", ROUND, self.round)
