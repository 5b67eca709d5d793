"""Ticket status: a ticket's timeline by its number, or this conversation's recent tickets ("내 민원")."""

from __future__ import annotations

import logging
import re

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.exc import SQLAlchemyError

from actions.common import conversation_of, phrase, profile, sessions
from bot.profile import CityProfile
from bot.store.tickets import TicketView, find_ticket, parse_number, recent_tickets

__all__ = ["ActionCheckTicketStatus", "numbers_in"]

logger = logging.getLogger(__name__)

# Anything that looks like an attempt at a number (2026-123, 2026 000123), checked by parse_number after.
_NUMBER_LIKE = re.compile(r"(?<![\d-])(\d{2,4})\s*[-–—]\s*(\d+)(?![\d-])|(?<!\d)(20\d{2})\s(\d{6})(?!\d)")
_MAX_NUMBERS = 3
_RECENT = 5


def numbers_in(tracker: Tracker) -> list[str]:
    """Return the ticket numbers the latest message mentions, as written, in order and at most three."""
    text = str(tracker.latest_message.get("text") or "")
    found = [m.group(0) for m in _NUMBER_LIKE.finditer(text)]
    for entity in tracker.latest_message.get("entities") or []:
        if entity.get("entity") == "ticket_number" and entity.get("value") not in found:
            found.append(str(entity.get("value")))
    return [re.sub(r"\s+", "-", re.sub(r"\s*[-–—]\s*", "-", n.strip())) for n in found][:_MAX_NUMBERS]


def _timeline(ticket: TicketView, city: CityProfile, domain: DomainDict) -> str:
    lines = []
    for event in ticket.events:
        template = "utter_timeline_line_with_note" if event.note else "utter_timeline_line"
        lines.append(
            phrase(domain, template).format(
                time=city.local_time(event.at), status=city.status_labels[event.status], note=event.note
            )
        )
    return "\n".join(lines)


class ActionCheckTicketStatus(Action):
    """Show the timeline of the ticket the citizen named, or list their recent tickets."""

    def name(self) -> str:
        """Return the action's name."""
        return "action_check_ticket_status"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """Answer from the database; another conversation's ticket reads as not found."""
        city = profile()
        channel, sender = conversation_of(tracker)
        numbers = numbers_in(tracker)
        try:
            with sessions().begin() as session:
                if not numbers:
                    self._list(
                        dispatcher, domain, city, recent_tickets(session, channel=channel, sender=sender)
                    )
                for number in numbers:
                    if parse_number(number) is None:
                        dispatcher.utter_message(response="utter_ticket_number_malformed")
                        continue
                    ticket = find_ticket(session, number=number, channel=channel, sender=sender)
                    if ticket is None:
                        dispatcher.utter_message(
                            response="utter_ticket_not_found", number=number, phone=city.phone
                        )
                    else:
                        self._show(dispatcher, domain, city, ticket)
        except SQLAlchemyError as exc:
            logger.error("ticket lookup failed: %s", type(exc).__name__)
            dispatcher.utter_message(response="utter_tickets_database_down")
        return []

    @staticmethod
    def _show(
        dispatcher: CollectingDispatcher, domain: DomainDict, city: CityProfile, ticket: TicketView
    ) -> None:
        department = next((d for d in city.departments.values() if d.name == ticket.department), None)
        dispatcher.utter_message(
            response="utter_ticket_status",
            number=ticket.number,
            category=city.label("complaint", ticket.category),
            location=ticket.location_text or ticket.district or "",
            department=ticket.department,
            phone=department.phone if department else city.phone,
            status=city.status_labels[ticket.status],
            timeline=_timeline(ticket, city, domain),
        )

    def _list(
        self,
        dispatcher: CollectingDispatcher,
        domain: DomainDict,
        city: CityProfile,
        tickets: list[TicketView],
    ) -> None:
        if not tickets:
            dispatcher.utter_message(response="utter_no_tickets")
        elif len(tickets) == 1:
            self._show(dispatcher, domain, city, tickets[0])
        else:
            line = phrase(domain, "utter_ticket_line")
            text = "\n".join(
                line.format(
                    number=t.number,
                    category=city.label("complaint", t.category),
                    status=city.status_labels[t.status],
                )
                for t in tickets[:_RECENT]
            )
            buttons = [{"title": t.number, "payload": t.number} for t in tickets[:_RECENT]]
            dispatcher.utter_message(response="utter_ticket_list", tickets=text, buttons=buttons)
