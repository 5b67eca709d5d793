"""만족도 조사: a citizen is asked once, in the daytime, after their ticket is resolved or their chat closed.

The question has buttons 1 to 5 (payloads "survey:<id>:<score>"); a score is thanked for and may be followed
by one comment (the citizen's next typed message within COMMENT_FOR, or "괜찮아요" to skip). Nothing else
about the conversation changes: a citizen who ignores the question just goes on, and a crisis in a comment
is a crisis first (the router checks before this).
"""

from __future__ import annotations

import functools
import logging
import re

from bot.delivery import Delivery
from bot.messages import Inbound, Outbound, fill
from bot.privacy import mask_personal_data
from bot.profile import CityProfile
from bot.shared import Shared
from bot.store.db import Database
from bot.store.models import utcnow
from bot.store.surveys import SurveyView, answer_survey, comment_survey, due_surveys, mark_asked

__all__ = ["Satisfaction"]

logger = logging.getLogger(__name__)

_ANSWER = re.compile(r"^survey:(\d{1,9}):([1-5]|none)$")  # a STANDING payload (bot/messages.py)
COMMENT_FOR = 600.0  # seconds in which the next typed message is the comment
ASK_EVERY = 60.0  # seconds between rounds of asking the surveys that are due


class Satisfaction:
    """Ask the due surveys, and take their answers out of the conversation before Rasa sees them."""

    def __init__(self, *, db: Database, delivery: Delivery, profile: CityProfile, shared: Shared) -> None:
        self.db, self.delivery, self.profile, self.shared = db, delivery, profile, shared
        self.texts = profile.messages

    def question(self, survey: SurveyView) -> Outbound:
        """The question for SURVEY, with its five buttons."""
        text = (
            fill(self.texts["survey_ticket"], number=survey.ref)
            if survey.kind == "ticket"
            else self.texts["survey_handoff"]
        )
        buttons = tuple({"title": f"{n}점", "payload": f"survey:{survey.id}:{n}"} for n in range(5, 0, -1))
        return Outbound(text=text, buttons=buttons)

    async def ask_due(self) -> int:
        """Send the questions that are due, if it is not night in the city; return how many were sent."""
        hours, now = self.profile.survey_hours or self.profile.business_hours, utcnow()
        if not hours.is_open(now, self.profile.timezone):
            return 0
        due: list[SurveyView] = await self.db.run_or(functools.partial(due_surveys, now=now), [])
        for survey in due:
            # Marked first: a question is never sent twice, even if sending fails (a lost question is fine).
            await self.db.run_or(functools.partial(mark_asked, survey_id=survey.id), None)
            await self.delivery.deliver(survey.channel, survey.sender, [self.question(survey)])
        return len(due)

    async def run(self) -> None:
        """Ask forever (a task of the gateway's lifespan); of several gateways, one asks each round."""
        await self.shared.every("surveys", ASK_EVERY, self.ask_due)

    async def answer(self, message: Inbound) -> list[Outbound] | None:
        """Return the reply if MESSAGE answers a survey (a score, a comment, or none); else None."""
        waiting = f"survey:comment:{message.conversation_id}"
        found = _ANSWER.match(message.payload or "")
        if found is None:
            if message.payload or not message.text.strip() or await self.shared.get(waiting) is None:
                return None
            survey_id = int(await self.shared.take(waiting) or 0)
            comment, _ = mask_personal_data(message.text.strip())
            await self.db.run_or(
                lambda s: comment_survey(
                    s, survey_id=survey_id, channel=message.channel, sender=message.user_id, comment=comment
                ),
                False,
            )
            return [Outbound(text=self.texts["survey_comment_thanks"])]
        survey_id, choice = int(found.group(1)), found.group(2)
        if choice == "none":
            await self.shared.take(waiting)
            return [Outbound(text=self.texts["survey_no_comment"])]
        kept = await self.db.run_or(
            lambda s: answer_survey(
                s, survey_id=survey_id, channel=message.channel, sender=message.user_id, score=int(choice)
            ),
            False,
        )
        if not kept:
            return [Outbound(text=self.texts["survey_already"])]
        await self.shared.put(waiting, str(survey_id), COMMENT_FOR)
        skip = {"title": self.texts["survey_no_comment_button"], "payload": f"survey:{survey_id}:none"}
        return [Outbound(text=fill(self.texts["survey_thanks"], score=choice), buttons=(skip,))]
