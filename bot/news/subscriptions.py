"""Subscribing in the chat: a menu of the profile's topics, one press to subscribe or stop, and "구독 해지"
that ends every subscription in one step.

The presses have standing payloads (bot/messages.STANDING): "subscribe:<topic>" and "unsubscribe:<topic>";
the words are the profile's (news.subscribe_words, news.unsubscribe_words), looked for in short typed
messages only, so that a sentence about something else that says 구독 goes to Rasa as before.
"""

from __future__ import annotations

import re

from bot.messages import Inbound, Outbound, fill, squash
from bot.profile import CityProfile
from bot.store.broadcasts import subscribe, subscribed, unsubscribe
from bot.store.db import Database, StoreUnavailable

__all__ = ["Subscriptions"]

_PRESS = re.compile(r"^(subscribe|unsubscribe):([a-z_]{1,32})$")
SHORT = 30  # characters: longer messages are about something else


class Subscriptions:
    """Take the subscription menu, its presses and "구독 해지" before Rasa sees them."""

    def __init__(self, *, db: Database, profile: CityProfile) -> None:
        self.db, self.news, self.texts = db, profile.news, profile.messages

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
            action, key = pressed.groups()
            topic = self.news.subscriptions.get(key)
            if topic is None:
                return None
            if action == "subscribe":
                await self.db.run(lambda s: subscribe(s, **who, topic=key))
                return [Outbound(text=fill(self.texts["subscribed"], title=topic.title, says=topic.says))]
            await self.db.run(lambda s: unsubscribe(s, **who, topic=key))
            return [Outbound(text=fill(self.texts["unsubscribed"], title=topic.title))]
        said = squash(message.payload or message.text)
        if not said or len(said) > SHORT or not self.news.subscriptions:
            return None

        # A press (Telegram's /news says "구독") is one of the words itself; a typed message contains one.
        def says(words: tuple[str, ...]) -> bool:
            return said in words if message.payload else any(word in said for word in words)

        if says(self.news.unsubscribe_words):
            ended = await self.db.run(lambda s: unsubscribe(s, **who))
            return [Outbound(text=self.texts["unsubscribed_all" if ended else "nothing_subscribed"])]
        if says(self.news.subscribe_words):
            return [await self.menu(message)]
        return None

    async def menu(self, message: Inbound) -> Outbound:
        """The topics, what each sends, and a button to start or stop each."""
        mine = set(
            await self.db.run(lambda s: subscribed(s, channel=message.channel, sender=message.user_id))
        )
        lines, buttons = [], []
        for key, topic in self.news.subscriptions.items():
            lines.append(f"· {topic.title}: {topic.says}")
            kind = "unsubscribe" if key in mine else "subscribe"
            title = fill(self.texts[f"{kind}_button"], title=topic.title)
            buttons.append({"title": title, "payload": f"{kind}:{key}"})
        return Outbound(
            text=fill(self.texts["subscribe_menu"], topics="\n".join(lines)), buttons=tuple(buttons)
        )
