"""The same problem reported twice: a complaint like an open one of the same 읍·면·동 and category.

Two reports are compared on what tells one spot and one thing from another: the place words (a landmark,
a gate, a crossing) weigh most, then the description. Both are compared as sets of two-character pieces
(the particles and endings of Korean change a word's last letters, not its first two), with the 읍·면·동's
own name and spaces left out, since every candidate shares them. `python -m bench.duplicates` measures it on
pairs written for this project (tests/data/duplicate_pairs.yml).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from bot.alike import similarity
from bot.store.tickets import TicketView, open_tickets_like

__all__ = ["THRESHOLD", "likely_duplicates", "similarity"]

THRESHOLD = 0.2  # a score from here up is "the same problem" (chosen on the pairs: see bench/duplicates.py)


def likely_duplicates(
    session: Session, ticket: TicketView, *, days: int = 14, limit: int = 3
) -> list[tuple[TicketView, float]]:
    """Return the open tickets of TICKET's 읍·면·동 and category filed within DAYS before it that look
    like the same problem, most alike first, with their scores."""
    if not ticket.district:
        return []
    found = [
        (other, similarity(
            ticket.description, ticket.location_text, other.description, other.location_text, ticket.district
        ))
        for other in open_tickets_like(session, ticket, since=ticket.created_at - dt.timedelta(days=days))
    ]  # fmt: skip
    found = [(other, score) for other, score in found if score >= THRESHOLD]
    return sorted(found, key=lambda pair: -pair[1])[:limit]
