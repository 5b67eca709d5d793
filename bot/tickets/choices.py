"""A citizen's answer to "같은 곳의 비슷한 신고가 이미 접수되어 있어요": join the first report, or keep apart.

The complaint form files the citizen's ticket first and then, if an open one of the same 읍·면·동 and
category looks like the same problem (bot/tickets/duplicates.py), offers two buttons with standing payloads
(bot/messages.STANDING): "merge:<theirs>:<the first>" merges their ticket into the first one, which it then
follows (its steps reach the citizen), and "merge:<theirs>:keep" leaves it as it is. Only the citizen who
filed a ticket can merge it, and only into an open ticket.
"""

from __future__ import annotations

import re

from sqlalchemy.orm import Session

from bot.messages import Inbound, Outbound, fill
from bot.profile import CityProfile
from bot.store.db import Database
from bot.store.tickets import CannotMerge, TicketNotFound, find_ticket, merge_ticket

__all__ = ["TicketChoices"]

_CHOICE = re.compile(r"^merge:(\d{4}-\d{6,9}):(\d{4}-\d{6,9}|keep)$")


class TicketChoices:
    """Take the presses of the duplicate offer's buttons before Rasa sees them."""

    def __init__(self, *, db: Database, profile: CityProfile) -> None:
        self.db, self.texts = db, profile.messages

    async def answer(self, message: Inbound) -> list[Outbound] | None:
        """Return the reply if MESSAGE chooses for a ticket of the citizen's; else None."""
        found = _CHOICE.match(message.payload or "")
        if found is None:
            return None
        number, into = found.groups()
        mine = await self.db.run_or(
            lambda s: find_ticket(s, number=number, channel=message.channel, sender=message.user_id), None
        )
        if mine is None or into == "keep":  # another's ticket is not theirs to merge: nothing changes
            return [Outbound(text=fill(self.texts["duplicate_kept"], number=number))]

        def join(session: Session) -> bool:
            try:
                merge_ticket(session, number=number, into=into, note=into, actor="citizen")
            except (CannotMerge, TicketNotFound):
                return False
            return True

        if not await self.db.run_or(join, False):
            return [Outbound(text=fill(self.texts["duplicate_too_late"], number=number))]
        return [Outbound(text=fill(self.texts["duplicate_joined"], number=number, into=into))]
