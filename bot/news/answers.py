"""The city's posts as an answer: the ones the question asks about, or the newest, as cards.

A card is channel-neutral: {"title", "text", "url", "button", "image"?}; every channel draws it within its
own limits (Kakao: a carousel of basicCard, or textCard without a picture; Telegram: a photo with a caption,
or a text with its link; the web chat: a card the citizen swipes).
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from bot.news.terms import terms
from bot.profile import CityProfile
from bot.store.posts import PostView, newest_posts, search_posts

__all__ = ["asks_for_newest", "card", "news_answer"]


def _wanted(city: CityProfile, question: str) -> list[str]:
    return terms(question, skip=city.news.generic_words, question=True)


def asks_for_newest(city: CityProfile, question: str) -> bool:
    """Return whether QUESTION names nothing but news (요즘 천안 소식, 이번 주 행사 뭐 있어요?)."""
    return not _wanted(city, question)


def news_answer(session: Session, city: CityProfile, question: str, topic: str) -> tuple[str, list[PostView]]:
    """Return the message key of the line over the cards, and the posts for QUESTION of info TOPIC.

    A question that names something (흥타령, 빵빵데이) gets the posts about it from every feed; a question
    of only generic words (요즘 천안 소식) the newest of the topic's blog categories; a named thing that no
    post mentions is said so, over the newest.
    """
    news = city.news
    wanted = _wanted(city, question)
    if wanted:
        found = search_posts(session, wanted, limit=news.cards)
        if found:
            return "news_found", found
    newest = newest_posts(session, limit=news.cards, categories=news.topics.get(topic, ()))
    return ("news_not_found" if wanted else "news_newest"), newest


def card(post: PostView, city: CityProfile) -> dict[str, str]:
    """Return POST as a card: its title, its date and summary, its link, and its picture if it has one."""
    made = {
        "title": post.title,
        "text": f"{city.local_date(post.published_at)} · {post.summary}".strip(" ·"),
        "url": post.link,
        "button": city.messages["news_open"],
    }
    if post.image:
        made["image"] = post.image
    return made
