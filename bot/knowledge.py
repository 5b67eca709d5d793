"""The city's knowledge base: short answers to the questions citizens ask, per welfare and info category.

data/knowledge/<city profile>/*.yml holds the entries (each with the ways people ask it, the answer, quick
links, its public source and the date it was checked). A question is matched only against the entries of the
category the NLU chose: syllable n-grams of the question against each entry's phrasings and its answer (cosine
similarity), the best entry if it is close enough, else None and the bot gives the category's general answer.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from sklearn.feature_extraction.text import TfidfVectorizer

from bot.messages import squash
from bot.nlu.taxonomy import CATEGORIES
from bot.settings import PROJECT_ROOT

__all__ = [
    "KNOWLEDGE_DIR",
    "MIN_SCORE",
    "Entry",
    "KnowledgeBase",
    "KnowledgeError",
    "Match",
    "knowledge_base",
]

KNOWLEDGE_DIR = PROJECT_ROOT / "data" / "knowledge"
# Below this similarity the best entry answers another question: the category's general answer is safer.
# Chosen on tests/data/knowledge_questions_*.jsonl (make bench-knowledge reports the sweep): the lowest
# cost of wrong answers + ⅓ × general answers where an entry would have answered (0.35 and 0.40 tie).
MIN_SCORE = 0.35
_INTENTS = ("welfare", "info")


class KnowledgeError(ValueError):
    """A knowledge-base file that cannot be used as it is."""


@dataclass(frozen=True)
class Entry:
    """One question the city answers, the ways people ask it, and where the answer comes from."""

    id: str
    intent: str
    category: str
    questions: tuple[str, ...]
    answer: str
    links: tuple[str, ...]
    url: str | None
    source: str
    checked: dt.date


@dataclass(frozen=True)
class Match:
    """The entry that answers a question, and how close the question was to one of its phrasings."""

    entry: Entry
    score: float


def _entry(raw: dict[str, Any], intent: str, where: str) -> Entry:
    try:
        entry = Entry(
            id=str(raw["id"]),
            intent=intent,
            category=str(raw["category"]),
            questions=tuple(str(q).strip() for q in raw["questions"] if str(q).strip()),
            answer=str(raw["answer"]).strip(),
            links=tuple(str(k) for k in raw.get("links") or ()),
            url=str(raw["url"]) if raw.get("url") else None,
            source=str(raw["source"]).strip(),
            checked=raw["checked"]
            if isinstance(raw["checked"], dt.date)
            else dt.date.fromisoformat(raw["checked"]),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise KnowledgeError(f"{where}: entry {raw.get('id', '?')}: {exc!r}") from exc
    problems = []
    if entry.category not in CATEGORIES[intent]:
        problems.append(f"unknown category {entry.category!r}")
    if not entry.questions or not entry.answer or not entry.source:
        problems.append("needs questions, an answer and a source")
    if entry.url and not entry.url.startswith("https://"):
        problems.append("its url must be https")
    if problems:
        raise KnowledgeError(f"{where}: entry {entry.id}: " + "; ".join(problems))
    return entry


class KnowledgeBase:
    """Entries, and the question matcher over them."""

    def __init__(self, entries: list[Entry]) -> None:
        ids = [e.id for e in entries]
        if len(ids) != len(set(ids)):
            raise KnowledgeError(
                "entry ids must be unique: " + ", ".join(sorted({i for i in ids if ids.count(i) > 1}))
            )
        self.entries = entries
        # Each entry is found by its questions and by its answer (which names what it covers: 부양의무자…).
        phrasings = [q for e in entries for q in (*e.questions, e.answer)]
        self._owners = [n for n, e in enumerate(entries) for _ in (*e.questions, e.answer)]
        # Syllable n-grams with the spaces taken out: people space (and misspell) as they like.
        self._vectorizer = TfidfVectorizer(
            analyzer="char", ngram_range=(1, 3), sublinear_tf=True, preprocessor=squash
        )
        self._matrix = self._vectorizer.fit_transform(phrasings) if phrasings else None

    @classmethod
    def load(cls, folder: Path) -> KnowledgeBase:
        """Read every *.yml of FOLDER (welfare.yml, info.yml: the file names the intent); empty if none."""
        entries = []
        for path in sorted(folder.glob("*.yml")):
            intent = path.stem
            if intent not in _INTENTS:
                raise KnowledgeError(f"{path.name}: the file name must be one of {', '.join(_INTENTS)}")
            raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
            entries += [_entry(item, intent, path.name) for item in raw.get("entries") or []]
        return cls(entries)

    def match(
        self, intent: str, category: str | None, text: str, *, min_score: float = MIN_SCORE
    ) -> Match | None:
        """Return the entry of INTENT's CATEGORY (any of INTENT's if None) that TEXT asks, or None."""
        ranked = self.ranked(intent, category, text)
        if not ranked or ranked[0].score < min_score:
            return None
        return ranked[0]

    def ranked(self, intent: str, category: str | None, text: str) -> list[Match]:
        """Return INTENT's (CATEGORY's) entries by similarity to TEXT, best first, with their best scores."""
        if self._matrix is None or not squash(text):
            return []
        scores = (self._matrix @ self._vectorizer.transform([text]).T).toarray().ravel()
        best: dict[int, float] = {}
        for row in np.argsort(-scores):
            owner = self._owners[row]
            entry = self.entries[owner]
            if (
                entry.intent == intent
                and (category is None or entry.category == category)
                and owner not in best
            ):
                best[owner] = float(scores[row])
        return [Match(self.entries[n], score) for n, score in best.items()]


@functools.cache
def knowledge_base(city: str) -> KnowledgeBase:
    """Return the knowledge base of the city profile CITY (loaded once a process)."""
    return KnowledgeBase.load(KNOWLEDGE_DIR / city)
