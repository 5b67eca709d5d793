"""Telling a citizen that their ticket moved: the text from the city profile, queued in their outbox."""

from __future__ import annotations

from sqlalchemy.orm import Session

from bot.messages import fill
from bot.profile import CityProfile
from bot.store.conversations import queue_outbox
from bot.store.surveys import plan_survey
from bot.store.tickets import TicketView, merged_with

__all__ = ["tell_citizen", "tell_moved"]


def tell_citizen(session: Session, ticket: TicketView, profile: CityProfile) -> None:
    """Queue the ticket's latest step for the citizen's messenger, in SESSION's transaction (so that the
    change and the news are kept together). The gateway pushes it (web chat, Telegram) or sends it with
    the citizen's next message (Kakao). A resolved ticket's citizen is asked, once, how it went (the
    question goes in the daytime: bot/insights/satisfaction.py)."""
    if ticket.channel in ("rest", "demo"):
        return  # not a messenger conversation: nobody to tell
    step = ticket.events[-1]
    if step.kind == "status" and ticket.status == "resolved":
        plan_survey(
            session, kind="ticket", ref=ticket.number, channel=ticket.channel, sender=ticket.sender,
            department=ticket.department,
        )  # fmt: skip
    if step.kind == "reassign":
        text = fill(profile.messages["ticket_reassigned"], number=ticket.number, department=ticket.department)
    elif step.kind == "merge":
        text = fill(profile.messages["ticket_merged"], number=ticket.number, into=ticket.merged_into)
    else:
        status = profile.status_labels[ticket.status]
        text = fill(profile.messages["ticket_update"], number=ticket.number, status=status, note=step.note)
    message = {"text": text.strip(), "buttons": []}
    queue_outbox(session, channel=ticket.channel, sender=ticket.sender, messages=[message])


def tell_moved(session: Session, ticket: TicketView, profile: CityProfile) -> None:
    """Tell the citizen of TICKET, which just took a status step, and those of the reports merged into it
    (they took the same step: bot.store.tickets.update_status)."""
    for each in [ticket, *merged_with(session, ticket.number)]:
        tell_citizen(session, each, profile)
