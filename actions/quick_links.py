"""Welfare and information answers: the knowledge base's answer to the question asked, or the category's
general answer with the city's department and quick links."""

from __future__ import annotations

import logging

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.exc import SQLAlchemyError

from actions.common import profile, sessions
from bot.knowledge import knowledge_base
from bot.news.answers import asks_for_newest, card, news_answer
from bot.nlu.taxonomy import CATEGORIES, ranked_categories
from bot.profile import CityProfile
from bot.settings import load_settings

__all__ = ["ActionAnswerWithLinks"]

logger = logging.getLogger(__name__)

# Below this, the response selector's topic is a guess: the citizen picks the topic from buttons instead.
_TOPIC_CONFIDENCE = 0.3
_WHICH_TOPIC = {"welfare": "utter_which_welfare", "info": "utter_which_info"}


def _posts(city: CityProfile, text: str, category: str) -> tuple[str, list[dict[str, str]]]:
    """Return the line over the cards and the cards of the city's posts for TEXT of info topic CATEGORY;
    ("", []) if the database fails (the general answer goes instead)."""
    try:
        with sessions().begin() as session:
            line, posts = news_answer(session, city, text, category)
    except SQLAlchemyError as exc:
        logger.error("reading the city's posts failed: %s", type(exc).__name__)
        return "", []
    return line, [card(post, city) for post in posts]


class ActionAnswerWithLinks(Action):
    """Answer a welfare or info question for its category, or ask which topic when none is clear."""

    def name(self) -> str:
        """Return the action's name."""
        return "action_answer_with_links"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """Send the knowledge base's answer, else utter_<intent>/<category> with the department and links."""
        city = profile()
        message = tracker.latest_message
        intent = str((message.get("intent") or {}).get("name") or "")
        if intent not in ("welfare", "info"):
            intent = "info"
        category = self._topic(tracker, intent)
        if category is None or city.names_intent(intent, str(message.get("text") or "")):
            titles = [city.label(intent, c) for c in CATEGORIES[intent]]
            dispatcher.utter_message(
                response=_WHICH_TOPIC[intent], buttons=[{"title": t, "payload": t} for t in titles]
            )
            return []
        text = str(message.get("text") or "")
        # City news and events: the city's own posts, as cards (bot/news). A question that names nothing
        # (요즘 천안 소식) gets the newest; one that names something gets the knowledge base's answer, if it
        # has one, with the posts about it.
        news = intent == "info" and category in city.news.topics
        line, cards = _posts(city, text, category) if news else ("", [])
        newest = news and asks_for_newest(city, text)
        hit = None if newest else knowledge_base(load_settings().city_profile).match(intent, category, text)
        if hit is not None:
            # The answer to the question asked; its links, and the page it is about; posts about it too.
            entry = hit.entry
            buttons = city.link_buttons(entry.links)
            if entry.url:
                buttons.append({"title": city.messages["knowledge_page"], "url": entry.url})
            dispatcher.utter_message(response="utter_knowledge", answer=entry.answer, buttons=buttons[:4])
            if line == "news_found":
                dispatcher.utter_message(json_message={"cards": cards})
            return []
        if cards:
            dispatcher.utter_message(text=city.messages[line], json_message={"cards": cards})
            return []
        department = city.department(intent, category)
        dispatcher.utter_message(
            response=f"utter_{intent}/{category}",
            buttons=city.answer_buttons(intent, category),
            department=department.name,
            phone=department.phone,
        )
        return []

    @staticmethod
    def _topic(tracker: Tracker, intent: str) -> str | None:
        """Return the best category of INTENT for the latest message, if the selector is sure enough."""
        for ranked_intent, category, confidence in ranked_categories(tracker.latest_message):
            if ranked_intent == intent:
                if confidence < _TOPIC_CONFIDENCE:
                    return None
                return category if category in CATEGORIES[intent] else None
        return None
