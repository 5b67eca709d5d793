"""소통라이브 in the chat: leaving a question for the mayor, agreeing (공감) with others', seeing and
withdrawing one's own, and saying yes to the reminder and the answer.

Taken before Rasa like the other standing answers: presses whose payloads start with "live:", a short typed
message with one of the profile's live.words, and the one message after "질문 남기기" (the question itself:
the shared state remembers for ASKING_FOR seconds that the conversation was asked for one). Questions are
stored masked (bot.privacy) and cut to the profile's length; the session's window is checked when a
question or a vote arrives, so a late one gets a clear answer.

While a session takes questions, the main menu that Rasa sends gets a "소통라이브 질문" button (decorate).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import time
from typing import Any

from sqlalchemy.orm import Session

from bot.messages import Inbound, Outbound, fill, squash
from bot.privacy import mask_personal_data
from bot.profile import CityProfile
from bot.shared import LocalShared, Shared
from bot.store import live
from bot.store.db import Database, StoreUnavailable
from bot.store.models import utcnow

__all__ = ["LiveChat"]

_PRESS = re.compile(r"^live:(menu|ask|cancel|browse|mine|follow|vote|withdraw)(?::(\d{1,12}))?$")
SHORT = 30  # characters: a longer message that names 소통라이브 is about something else
ASKING_FOR = 900.0  # seconds the next message is taken as the question after "질문 남기기"
MIN_QUESTION = 5
MENU_PAYLOAD = "민원 신고"  # a message with this button is the main menu (domain.yml)
CACHE_FOR = 30.0


class LiveChat:
    """Answer 소통라이브's messages and presses before Rasa sees them."""

    def __init__(self, *, db: Database, profile: CityProfile, shared: Shared | None = None) -> None:
        self.db, self.profile, self.texts, self.settings = db, profile, profile.messages, profile.live
        self.shared = shared or LocalShared()
        self._taking: tuple[float, bool] = (0.0, False)

    # --- what the citizen sees of times ---

    def _times(self, view: live.LiveSessionView) -> dict[str, str]:
        when = self.profile.local_moment
        return {
            "title": view.title, "opens": when(view.opens_at), "closes": when(view.closes_at),
            "airs": when(view.airs_at), "url": view.stream_url,
        }  # fmt: skip

    def _text(self, key: str, **values: Any) -> str:
        return fill(self.texts[key], **values)

    # --- the standing answer ---

    async def answer(self, message: Inbound) -> list[Outbound] | None:
        """Return the reply if MESSAGE is about 소통라이브; else None."""
        try:
            return await self._answer(message)
        except StoreUnavailable:
            return [Outbound(text=self.texts["live_unavailable"])]

    async def _answer(self, message: Inbound) -> list[Outbound] | None:
        asking = f"live:asking:{message.conversation_id}"
        pressed = _PRESS.match(message.payload or "")
        if pressed is None:
            # The message after "질문 남기기" is the question, unless it is a press of something else.
            # (A question may name 소통라이브 or 시장님; only one of the words alone asks for the menu.)
            session_id = await self.shared.take(asking)
            said = squash(message.payload or message.text)
            if session_id is not None and not message.payload and said and said not in self.settings.words:
                return await self._question(message, int(session_id))
            if said and len(said) <= SHORT and any(w in said for w in self.settings.words):
                return await self._menu()
            return None
        action, number = pressed.group(1), int(pressed.group(2) or 0)
        now = utcnow()
        current = await self.db.run(lambda s: _current(s, now))
        if action == "cancel":
            await self.shared.take(asking)
            return [Outbound(text=self.texts["live_cancelled"])]
        if action in ("menu", "ask") and (current is None or not current.taking(now)):
            return [self._not_taking(current, now)]
        if current is None:
            return [Outbound(text=self.texts["live_none"])]
        if action == "menu":
            return await self._menu()
        if action == "ask":
            return await self._ask(message, current)
        if action == "browse":
            return await self._browse(message, current)
        if action == "mine":
            return await self._mine(message, current)
        if action == "follow":
            return await self._follow(message, number or current.id)
        if action == "vote":
            return await self._vote(message, number, current)
        return await self._withdraw(message, number)

    def _not_taking(self, current: live.LiveSessionView | None, now: dt.datetime) -> Outbound:
        if current is None:
            return Outbound(text=self.texts["live_none"])
        key = "live_soon" if now < current.opens_at else "live_closed"
        return Outbound(text=self._text(key, **self._times(current)))

    def _buttons(self, *keys: str) -> tuple[dict[str, str], ...]:
        payloads = {
            "live_ask_button": "live:ask", "live_browse_button": "live:browse",
            "live_mine_button": "live:mine",
        }  # fmt: skip
        return tuple({"title": self.texts[k], "payload": payloads[k]} for k in keys)

    async def _menu(self) -> list[Outbound]:
        now = utcnow()
        current = await self.db.run(lambda s: _current(s, now))
        if current is None or not current.taking(now):
            return [self._not_taking(current, now)]
        return [
            Outbound(
                text=self._text("live_menu", **self._times(current)),
                buttons=self._buttons("live_ask_button", "live_browse_button", "live_mine_button"),
            )
        ]

    async def _ask(self, message: Inbound, current: live.LiveSessionView) -> list[Outbound]:
        who = {"channel": message.channel, "sender": message.user_id}
        mine = await self.db.run(lambda s: live.questions_of(s, session_id=current.id, **who))
        if len(mine) >= self.settings.most_questions:
            return [
                Outbound(
                    text=self._text("live_most", most=self.settings.most_questions),
                    buttons=self._buttons("live_mine_button"),
                )
            ]
        await self.shared.put(f"live:asking:{message.conversation_id}", str(current.id), ASKING_FOR)
        cancel = {"title": self.texts["live_cancel_button"], "payload": "live:cancel"}
        return [
            Outbound(text=self._text("live_ask", length=self.settings.question_length), buttons=(cancel,))
        ]

    async def _question(self, message: Inbound, session_id: int) -> list[Outbound]:
        text = " ".join(message.text.split())
        if len(text) > self.settings.question_length or len(squash(text)) < MIN_QUESTION:
            # Asked again: the next message is still the question.
            await self.shared.put(f"live:asking:{message.conversation_id}", str(session_id), ASKING_FOR)
            cancel = {"title": self.texts["live_cancel_button"], "payload": "live:cancel"}
            key = "live_too_long" if len(text) > self.settings.question_length else "live_too_short"
            return [Outbound(text=self._text(key, length=self.settings.question_length), buttons=(cancel,))]
        masked, found = mask_personal_data(text, plates=True)
        topic = self.settings.topic_of(masked)
        district = self.profile.dong_of(masked)
        who = {"channel": message.channel, "sender": message.user_id}

        def store(s: Session) -> tuple[Any, live.LiveSessionView | None, bool]:
            view = live.get_session(s, session_id)
            try:
                added = live.add_question(
                    s, session_id=session_id, channel=message.channel, sender=message.user_id,
                    text=masked, district=district, topic=topic, most=self.settings.most_questions,
                )  # fmt: skip
            except live.Closed:
                return "closed", view, False
            return added, view, live.follows(s, session_id=session_id, **who)

        added, view, following = await self.db.run(store)
        if added == "closed" or view is None:
            if view is None:
                return [Outbound(text=self.texts["live_none"])]
            return [Outbound(text=self._text("live_late", **self._times(view)))]
        if added is None:
            return [
                Outbound(
                    text=self._text("live_most", most=self.settings.most_questions),
                    buttons=self._buttons("live_mine_button"),
                )
            ]
        question, grouped = added
        lines = [
            self._text("live_asked", topic=self.settings.topics.get(question.topic, (question.topic,))[0])
        ]
        if grouped:
            lines.append(self.texts["live_grouped"])
        if found:
            lines.append(self.texts["live_masked"])
        answers = [
            Outbound(text=" ".join(lines), buttons=self._buttons("live_browse_button", "live_mine_button"))
        ]
        if not following:
            answers.append(self._follow_offer(session_id))
        return answers

    def _follow_offer(self, session_id: int) -> Outbound:
        minutes = int(self.settings.remind_before.total_seconds() // 60)
        button = {"title": self.texts["live_follow_button"], "payload": f"live:follow:{session_id}"}
        return Outbound(text=self._text("live_follow_offer", minutes=minutes), buttons=(button,))

    async def _follow(self, message: Inbound, session_id: int) -> list[Outbound]:
        who = {"channel": message.channel, "sender": message.user_id}

        def store(s: Session) -> bool:
            if live.get_session(s, session_id) is None:
                return False
            live.follow(s, session_id=session_id, **who)
            return True

        if not await self.db.run(store):
            return [Outbound(text=self.texts["live_none"])]
        return [Outbound(text=self.texts["live_followed"])]

    async def _browse(self, message: Inbound, current: live.LiveSessionView) -> list[Outbound]:
        found = await self.db.run(
            lambda s: live.open_questions_for(
                s, session_id=current.id, channel=message.channel, sender=message.user_id
            )
        )
        if not found:
            return [Outbound(text=self.texts["live_browse_none"], buttons=self._buttons("live_ask_button"))]
        cards = tuple(
            {
                "title": self._text(
                    "live_supporters", count=q.votes, topic=self.settings.topics.get(q.topic, (q.topic,))[0]
                ),
                "text": q.text,
                "button": self.texts["live_vote_button"],
                "payload": f"live:vote:{q.id}",
            }
            for q in found
        )
        return [Outbound(text=self.texts["live_browse"], cards=cards)]

    async def _vote(
        self, message: Inbound, question_id: int, current: live.LiveSessionView
    ) -> list[Outbound]:
        who = {"channel": message.channel, "sender": message.user_id}

        def store(s: Session) -> tuple[Any, bool, int | None, live.LiveSessionView | None]:
            row = live.group_of(s, question_id)
            session_id = row.session_id if row is not None else None
            own = live.get_session(s, session_id) if session_id is not None else None
            try:
                done = live.vote(s, question_id=question_id, channel=message.channel, sender=message.user_id)
            except live.Closed:
                return "closed", False, session_id, own
            following = session_id is not None and live.follows(s, session_id=session_id, **who)
            return done, following, session_id, own

        done, following, session_id, own = await self.db.run(store)
        if done == "closed":  # said with the question's own session's times, not the one open now
            return [self._not_taking(own or current, utcnow())]
        if done is None or session_id is None:
            return [Outbound(text=self.texts["live_vote_gone"], buttons=self._buttons("live_browse_button"))]
        new, count = done
        text = self._text("live_voted" if new else "live_voted_again", count=count)
        answers = [Outbound(text=text, buttons=self._buttons("live_browse_button", "live_ask_button"))]
        if not following:
            answers.append(self._follow_offer(session_id))
        return answers

    async def _mine(self, message: Inbound, current: live.LiveSessionView) -> list[Outbound]:
        who = {"channel": message.channel, "sender": message.user_id}
        mine = await self.db.run(lambda s: live.questions_of(s, session_id=current.id, **who))
        if not mine:
            return [Outbound(text=self.texts["live_mine_none"], buttons=self._buttons("live_ask_button"))]
        lines = "\n".join(f"{n}. {q.text} (공감 {q.votes})" for n, q in enumerate(mine, 1))
        buttons = tuple(
            {"title": self._text("live_withdraw_button", number=n), "payload": f"live:withdraw:{q.id}"}
            for n, q in enumerate(mine, 1)
        )
        return [Outbound(text=self._text("live_mine", questions=lines), buttons=buttons)]

    async def _withdraw(self, message: Inbound, question_id: int) -> list[Outbound]:
        who = {"channel": message.channel, "sender": message.user_id}
        done = await self.db.run(lambda s: live.withdraw(s, question_id=question_id, **who))
        if not done:
            return [Outbound(text=self.texts["live_withdraw_gone"])]
        return [Outbound(text=self.texts["live_withdrawn"], buttons=self._buttons("live_ask_button"))]

    # --- the main menu's button while a session takes questions ---

    async def decorate(self, answers: list[Outbound]) -> list[Outbound]:
        """Add "소통라이브 질문" to the main menu in ANSWERS while a session takes questions."""
        if not any(any(b.get("payload") == MENU_PAYLOAD for b in a.buttons) for a in answers):
            return answers
        if not await self._is_taking():
            return answers
        extra = {"title": self.texts["live_menu_button"], "payload": "live:menu"}
        return [
            dataclasses.replace(a, buttons=(*a.buttons, extra))
            if any(b.get("payload") == MENU_PAYLOAD for b in a.buttons)
            else a
            for a in answers
        ]

    async def _is_taking(self) -> bool:
        checked, taking = self._taking
        if time.monotonic() - checked < CACHE_FOR:
            return taking
        now = utcnow()
        current = await self.db.run_or(lambda s: _current(s, now), None)
        taking = current is not None and current.taking(now)
        self._taking = (time.monotonic(), taking)
        return taking


def _current(s: Session, now: dt.datetime) -> live.LiveSessionView | None:
    """The session a citizen means now: the one taking questions; else the next to open; else the last one
    that closed and has not long aired."""
    views = live.sessions(s, limit=50)
    taking = [v for v in views if v.taking(now)]
    if taking:
        return taking[0]
    soon = sorted((v for v in views if v.opens_at > now), key=lambda v: v.opens_at)
    if soon:
        return soon[0]
    recent = [v for v in views if v.closes_at <= now < v.airs_at + dt.timedelta(days=1)]
    return recent[0] if recent else None
