"""Subscribing in the chat: a menu of the profile's topics, one press to subscribe or stop, and "구독 해지"
that ends every subscription in one step.

The presses have standing payloads (bot/messages.STANDING): "subscribe:<topic>" and "unsubscribe:<topic>";
the words are the profile's (news.subscribe_words, news.unsubscribe_words), looked for in short typed
messages only, so that a sentence about something else that says 구독 goes to Rasa as before.
"""

from __future__ import annotations

import re

from bot.messages import Inbound, Outbound, fill, squash
from bot.profile import CityProfile, Topic
from bot.store.broadcasts import subscribe, subscribed, unsubscribe
from bot.store.db import Database, StoreUnavailable

__all__ = ["Subscriptions"]

_PRESS = re.compile(r"^(subscribe|unsubscribe):([a-z_]{1,32})(?::([가-힣0-9]{1,12}))?$")
SHORT = 30  # characters: longer messages are about something else


class Subscriptions:
    """Take the subscription menu, its presses and "구독 해지" before Rasa sees them.

    A per-읍·면·동 topic (Topic.per_district) is subscribed to as "KEY:<읍·면·동>": pressing its button asks
    which one, and a short message that names one ("성정1동 소식 받을래요") subscribes to it at once.
    """

    def __init__(self, *, db: Database, profile: CityProfile) -> None:
        self.db, self.profile, self.news, self.texts = db, profile, profile.news, profile.messages
        self.per_district = next((k for k, t in self.news.subscriptions.items() if t.per_district), None)

    async def answer(self, message: Inbound) -> list[Outbound] | None:
        """Return the reply if MESSAGE is about subscriptions; else None."""
        try:
            return await self._answer(message)
        except StoreUnavailable:
            return [Outbound(text=self.texts["subscriptions_unavailable"])]

    async def _answer(self, message: Inbound) -> list[Outbound] | None:
        who = {"channel": message.channel, "sender": message.user_id}
        pressed = _PRESS.match(message.payload or "")
        if pressed is not None:
            action, key, district = pressed.groups()
            topic = self.news.subscriptions.get(key)
            if topic is None or (district is not None and self.profile.dong_of(district) != district):
                return None
            if topic.per_district and district is None:
                if action == "subscribe":
                    return [Outbound(text=self._which())]
                return None
            return [await self._change(who, action, topic, district)]
        said = squash(message.payload or message.text)
        if not said or len(said) > SHORT or not self.news.subscriptions:
            return None

        # A press (Telegram's /news says "구독") is one of the words itself; a typed message contains one.
        def says(words: tuple[str, ...]) -> bool:
            return said in words if message.payload else any(word in said for word in words)

        district = None if message.payload else self.profile.dong_of(said)
        if says(self.news.unsubscribe_words):
            if district is not None and self.per_district is not None:
                # Naming a 읍·면·동 ends that one only (and never everything by mistake).
                mine = await self.db.run(lambda s: subscribed(s, **who))
                topic = self.news.subscriptions[self.per_district]
                if f"{self.per_district}:{district}" in mine:
                    return [await self._change(who, "unsubscribe", topic, district)]
                title = self._title(topic, district)
                return [Outbound(text=fill(self.texts["district_not_subscribed"], title=title))]
            ended = await self.db.run(lambda s: unsubscribe(s, **who))
            return [Outbound(text=self.texts["unsubscribed_all" if ended else "nothing_subscribed"])]
        if says(self.news.subscribe_words):
            if district is not None and self.per_district is not None:
                topic = self.news.subscriptions[self.per_district]
                return [await self._change(who, "subscribe", topic, district)]
            return [await self.menu(message)]
        return None

    def _which(self) -> str:
        example = next(iter(self.profile.districts.values()), ("",))[-1]
        return fill(self.texts["district_which"], example=example)

    def _title(self, topic: Topic, district: str | None) -> str:
        if district is None:
            return topic.title
        return fill(self.texts["district_subscription"], title=topic.title, district=district)

    async def _change(self, who: dict[str, str], action: str, topic: Topic, district: str | None) -> Outbound:
        key = topic.key if district is None else f"{topic.key}:{district}"
        title = self._title(topic, district)
        if action == "subscribe":
            await self.db.run(lambda s: subscribe(s, **who, topic=key))
            return Outbound(text=fill(self.texts["subscribed"], title=title, says=topic.says))
        await self.db.run(lambda s: unsubscribe(s, **who, topic=key))
        return Outbound(text=fill(self.texts["unsubscribed"], title=title))

    async def menu(self, message: Inbound) -> Outbound:
        """The topics, what each sends, and a button to start or stop each (per-읍·면·동 topics: a button to
        stop each 읍·면·동 and one to add another)."""
        mine = set(
            await self.db.run(lambda s: subscribed(s, channel=message.channel, sender=message.user_id))
        )
        lines, buttons = [], []

        def button(kind: str, title: str, payload: str) -> None:
            buttons.append({"title": fill(self.texts[f"{kind}_button"], title=title), "payload": payload})

        for key, topic in self.news.subscriptions.items():
            lines.append(f"· {topic.title}: {topic.says}")
            if topic.per_district:
                for district in sorted(t.split(":", 1)[1] for t in mine if t.startswith(f"{key}:")):
                    button("unsubscribe", self._title(topic, district), f"unsubscribe:{key}:{district}")
                button("subscribe", topic.title, f"subscribe:{key}")
                continue
            kind = "unsubscribe" if key in mine else "subscribe"
            button(kind, topic.title, f"{kind}:{key}")
        return Outbound(
            text=fill(self.texts["subscribe_menu"], topics="\n".join(lines)), buttons=tuple(buttons)
        )
