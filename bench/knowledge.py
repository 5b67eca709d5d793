"""Knowledge-base retrieval: does a citizen's question find the entry that answers it? (make bench-nlu)

Usage:
    python -m bench.knowledge --questions tests/data/knowledge_questions_*.jsonl [--model M] --out F.md

The questions were written apart from the entries, by a writer who saw what each entry answers but not how
its own questions are phrased; some have no entry (the bot should give the category's general answer).
Retrieval alone is scored within the question's own category; with --model, end to end within the category
the trained model chose (what the bot does).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import sys
from dataclasses import dataclass
from pathlib import Path

from bot.knowledge import KNOWLEDGE_DIR, MIN_SCORE, KnowledgeBase
from bot.settings import PROJECT_ROOT

THRESHOLDS = (0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6)


@dataclass(frozen=True)
class Question:
    """A question, its category and the entry that answers it (None: no entry does)."""

    text: str
    intent: str
    category: str
    entry: str | None


def load_questions(paths: list[Path]) -> list[Question]:
    """Read the question files (JSON Lines: text, intent, category, entry)."""
    rows = [
        json.loads(line)
        for path in paths
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    return [Question(r["text"], r["intent"], r["category"], r.get("entry")) for r in rows]


@dataclass(frozen=True)
class Score:
    """How questions fared at one threshold."""

    right: int  # answered with the right entry, or (no entry) given the general answer
    wrong_entry: int  # answered with another entry
    fell_back: int  # had an entry, got the general answer
    total: int

    def row(self, label: str) -> str:
        share = lambda n: f"{n / max(1, self.total):.3f}"  # noqa: E731
        return f"| {label} | {share(self.right)} | {share(self.wrong_entry)} | {share(self.fell_back)} |"


def score(
    kb: KnowledgeBase, questions: list[Question], categories: list[tuple[str, str | None]], threshold: float
) -> Score:
    """Score QUESTIONS retrieved within CATEGORIES (one (intent, category) each) at THRESHOLD."""
    right = wrong = fell_back = 0
    for question, (intent, category) in zip(questions, categories, strict=True):
        hit = kb.match(intent, category, question.text, min_score=threshold) if category else None
        found = hit.entry.id if hit else None
        if found == question.entry:
            right += 1
        elif found is None:
            fell_back += 1
        else:
            wrong += 1
    return Score(right, wrong, fell_back, len(questions))


def top_k(kb: KnowledgeBase, questions: list[Question], k: int) -> float:
    """Return how often the right entry is among the K best of its own category (questions with one)."""
    answerable = [q for q in questions if q.entry]
    hits = sum(
        q.entry in [m.entry.id for m in kb.ranked(q.intent, q.category, q.text)[:k]] for q in answerable
    )
    return hits / max(1, len(answerable))


def _predicted(model: Path, questions: list[Question]) -> list[tuple[str, str | None]]:
    from bot.evaluate import rasa_predictor  # Rasa loads only when a model is asked for

    predict = rasa_predictor(model)

    async def run() -> list[tuple[str, str | None]]:
        out = []
        for q in questions:
            p = await predict(q.text)
            out.append((p.intent, p.category) if p.intent == q.intent else (p.intent, None))
        return out

    return asyncio.run(run())


def report(
    kb: KnowledgeBase, questions: list[Question], predicted: list[tuple[str, str | None]] | None
) -> str:
    """Return the Markdown report."""
    own: list[tuple[str, str | None]] = [(q.intent, q.category) for q in questions]
    answerable = [q for q in questions if q.entry]
    now = dt.datetime.now(dt.timezone.utc)
    folder = KNOWLEDGE_DIR.relative_to(PROJECT_ROOT)
    unanswerable = len(questions) - len(answerable)
    lines = [
        "# Knowledge base",
        "",
        f"`make bench-nlu` (python -m bench.knowledge), {now:%Y-%m-%d %H:%M} UTC. {len(kb.entries)} entries"
        f" in {folder}/; {len(questions)} questions written apart from them ({len(answerable)} with an"
        f" entry, {unanswerable} without).",
        "",
        "Within the question's own category (retrieval alone): the right entry is the best match for "
        f"**{top_k(kb, questions, 1):.3f}** of the questions that have one, among the three best for "
        f"{top_k(kb, questions, 3):.3f}.",
        "",
        "Answers at each similarity threshold (right: the right entry, or the general answer where no "
        f"entry answers; the bot uses {MIN_SCORE}):",
        "",
        "| threshold | right | another entry | general answer instead of the entry |",
        "| ---: | ---: | ---: | ---: |",
    ]
    lines += [
        score(kb, questions, own, t).row(f"{t:.2f}" + (" (bot)" if t == MIN_SCORE else ""))
        for t in THRESHOLDS
    ]
    if predicted is not None:
        end = score(kb, questions, predicted, MIN_SCORE)
        lines += [
            "",
            "End to end, within the category the trained model chose (a wrong category finds no entry):",
            "",
            "| | right | another entry | general answer instead of the entry |",
            "| --- | ---: | ---: | ---: |",
            end.row("models/minwon.tar.gz"),
        ]
    misses = [(q, kb.ranked(q.intent, q.category, q.text)[:1]) for q in answerable]
    wrong = [(q, m[0]) for q, m in misses if m and m[0].entry.id != q.entry][:15]
    lines += ["", "Questions whose best match is another entry (first 15):", ""]
    lines += [f"- “{q.text}”: {q.entry} → {m.entry.id} ({m.score:.2f})" for q, m in wrong] or ["- (none)"]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Write the knowledge-base report."""
    parser = argparse.ArgumentParser(prog="python -m bench.knowledge", description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=Path, nargs="+", required=True)
    parser.add_argument("--city", default="cheonan")
    parser.add_argument("--model", type=Path, help="score end to end with this model's categories too")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    kb = KnowledgeBase.load(KNOWLEDGE_DIR / args.city)
    questions = load_questions(args.questions)
    predicted = _predicted(args.model, questions) if args.model else None
    args.out.write_text(report(kb, questions, predicted), encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
