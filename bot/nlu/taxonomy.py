"""The intent and category contract (docs/intents.md) and how a Rasa parse result maps onto it."""

from __future__ import annotations

from typing import Any

__all__ = [
    "CATEGORIES", "INTENTS", "NOT_A_GUESS", "SERVICE_INTENTS", "best_category", "button_guesses",
    "category_ranking", "interpret", "is_valid", "ranked_categories", "ranked_guesses",
]  # fmt: skip

# Service intents and their categories. Evaluation, the console and retraining depend on these names.
CATEGORIES: dict[str, tuple[str, ...]] = {
    "complaint": (
        "illegal_parking", "road_damage", "streetlight", "garbage", "noise", "water_leak",
        "animal", "illegal_ad", "facility_damage", "pollution", "other",
    ),
    "welfare": (
        "basic_livelihood", "senior", "disability", "child_family", "emergency", "housing_youth", "other",
    ),
    "info": (
        "civil_documents", "local_tax", "transport", "facilities", "events_tourism", "city_news",
        "contact", "other",
    ),
}  # fmt: skip
SERVICE_INTENTS = tuple(CATEGORIES)
INTENTS: tuple[str, ...] = (
    *SERVICE_INTENTS,
    "out_of_scope", "greet", "goodbye", "thanks", "affirm", "deny", "request_human", "check_ticket_status",
    "retry",
)  # fmt: skip

FALLBACK_INTENT = "nlu_fallback"

# Never a button of the ask-back: answers that only make sense after a question, greetings and the like,
# and out-of-scope (the ask-back's last button, a person, is the way out for those).
NOT_A_GUESS = frozenset(
    {FALLBACK_INTENT, "affirm", "deny", "greet", "goodbye", "thanks", "out_of_scope", "retry"}
)


def is_valid(intent: str, category: str | None) -> bool:
    """Return whether (INTENT, CATEGORY) is in the contract; non-service intents have no category."""
    if intent in CATEGORIES:
        return category in CATEGORIES[intent]
    return intent in INTENTS and category is None


def ranked_categories(parse_data: dict[str, Any]) -> list[tuple[str, str, float]]:
    """Return the response selector's (intent, category, confidence) for a parse result, best first."""
    selector = (parse_data.get("response_selector") or {}).get("default") or {}
    ranked = []
    for entry in selector.get("ranking") or []:
        intent, _, category = str(entry.get("intent_response_key") or "").partition("/")
        if category:
            ranked.append((intent, category, float(entry.get("confidence") or 0.0)))
    return ranked


def category_ranking(parse_data: dict[str, Any]) -> list[str]:
    """Return the response selector's retrieval keys ("complaint/streetlight"), best first."""
    return [f"{intent}/{category}" for intent, category, _ in ranked_categories(parse_data)]


def best_category(parse_data: dict[str, Any], intent: str) -> str | None:
    """Return the response selector's best category within INTENT, or None."""
    prefix = f"{intent}/"
    return next((key[len(prefix) :] for key in category_ranking(parse_data) if key.startswith(prefix)), None)


def interpret(parse_data: dict[str, Any]) -> tuple[str, str | None, float]:
    """Return (intent, category, confidence) of a Rasa parse result.

    The intent is the best-ranked one other than nlu_fallback, so that a low-confidence message is
    still read as its best guess (the dialogue asks back; evaluation counts the guess). The category is
    the best retrieval key within that intent.
    """
    ranking = [r for r in parse_data.get("intent_ranking") or [] if r.get("name") != FALLBACK_INTENT]
    if not ranking:
        intent = (parse_data.get("intent") or {}).get("name") or FALLBACK_INTENT
        return intent, None, float((parse_data.get("intent") or {}).get("confidence") or 0.0)
    intent, confidence = ranking[0]["name"], float(ranking[0].get("confidence") or 0.0)
    category = best_category(parse_data, intent) if intent in CATEGORIES else None
    return intent, category, confidence


def ranked_guesses(
    parse_data: dict[str, Any], n: int = 3, skip: frozenset[str] = frozenset()
) -> list[tuple[str, str | None, float]]:
    """Return the N likeliest (intent, category, score) of a parse result, best first.

    A pair's score is the intent's confidence times the category's share within that intent, so that a
    service intent offers its categories and a sure intent is not crowded out by its neighbours.
    """
    categories = ranked_categories(parse_data)
    pairs: list[tuple[str, str | None, float]] = []
    for entry in parse_data.get("intent_ranking") or []:
        intent, confidence = str(entry.get("name")), float(entry.get("confidence") or 0.0)
        if intent == FALLBACK_INTENT or intent in skip:
            continue
        if intent not in CATEGORIES:
            pairs.append((intent, None, confidence))
            continue
        within = [(c, p) for i, c, p in categories if i == intent]
        total = sum(p for _, p in within)
        if not within or total <= 0:
            pairs.append((intent, None, confidence))
            continue
        pairs += [(intent, c, confidence * p / total) for c, p in within]
    pairs.sort(key=lambda pair: -pair[2])
    return pairs[:n]


def button_guesses(parse_data: dict[str, Any], n: int = 3) -> list[tuple[str, str | None]]:
    """Return the N (intent, category) pairs the ask-back offers as buttons, likeliest first."""
    return [(intent, category) for intent, category, _ in ranked_guesses(parse_data, n, NOT_A_GUESS)]
