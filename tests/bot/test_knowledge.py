"""The knowledge base: complete entries with sources, and retrieval measured on questions written apart."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from bench.knowledge import load_questions, score, top_k
from bot.knowledge import KNOWLEDGE_DIR, MIN_SCORE, KnowledgeBase, KnowledgeError, knowledge_base
from bot.nlu.taxonomy import CATEGORIES
from bot.profile import load_profile

QUESTIONS = sorted((Path(__file__).resolve().parents[1] / "data").glob("knowledge_questions_*.jsonl"))


def test_every_entry_has_its_source_a_checked_date_and_links_the_profile_has() -> None:
    kb, profile = knowledge_base("cheonan"), load_profile("cheonan")
    assert len(kb.entries) >= 200
    for intent in ("welfare", "info"):
        for category in CATEGORIES[intent]:
            assert sum(e.intent == intent and e.category == category for e in kb.entries) >= 8, category
    for entry in kb.entries:
        assert "http" in entry.source and entry.checked <= dt.date.today(), entry.id
        assert entry.links and all(key in profile.links for key in entry.links), entry.id
        assert profile.link_buttons(entry.links), entry.id  # at least one link whose address was checked
        # 해요체, a messenger's length: "…신청하세요.", "…지원했어요(2025년)."
        assert len(entry.answer) <= 300 and re.search(r"(요|니다)[.!]?( ?\([^)]*\))?\.?$", entry.answer), (
            entry.id
        )
        assert entry.url is None or entry.url.startswith("https://"), entry.id


def test_a_broken_file_is_refused_naming_the_entry(tmp_path: Path) -> None:
    (tmp_path / "welfare.yml").write_text(
        "entries:\n- {id: a, category: nonsense, questions: [x], answer: y, links: [], source: z,"
        " checked: 2026-12-06}\n",
        encoding="utf-8",
    )
    with pytest.raises(KnowledgeError, match="welfare.yml: entry a: unknown category 'nonsense'"):
        KnowledgeBase.load(tmp_path)
    (tmp_path / "welfare.yml").write_text("entries: []\n", encoding="utf-8")
    (tmp_path / "news.yml").write_text("entries: []\n", encoding="utf-8")
    with pytest.raises(KnowledgeError, match="news.yml: the file name must be one of welfare, info"):
        KnowledgeBase.load(tmp_path)


def test_an_empty_knowledge_base_answers_nothing(tmp_path: Path) -> None:
    assert KnowledgeBase.load(tmp_path).match("welfare", "senior", "기초연금 얼마예요") is None


@pytest.mark.skipif(not QUESTIONS, reason="no question set")
def test_a_question_finds_the_entry_that_answers_it() -> None:
    """Questions written apart from the entries (tests/data/knowledge_questions_*.jsonl)."""
    kb, questions = KnowledgeBase.load(KNOWLEDGE_DIR / "cheonan"), load_questions(QUESTIONS)
    assert len(questions) >= 300
    assert top_k(kb, questions, 1) >= 0.85
    at_bot = score(kb, questions, [(q.intent, q.category) for q in questions], MIN_SCORE)
    assert at_bot.wrong_entry / at_bot.total <= 0.10  # another question's answer is the costly mistake
