"""Measure a trained model on labelled messages: intent and category accuracy and macro-F1; entities.

Usage:
    python -m bot.evaluate --data tests/data/nlu_holdout.jsonl [--entities tests/data/entity_holdout.yml]
                           [--model models/minwon.tar.gz] [--json]

Each line of the --data file is {"text": "…", "intent": "complaint", "category": "streetlight"}, with
"category": null for intents that have none (docs/intents.md), and optionally "register" (title, formal,
chat…: scores are then also given per register). A file with a bad line is refused as a whole (exit status
2, every bad line named) before any model is loaded. A low-confidence message counts as the model's best
guess; how often the bot would ask back instead is the fallback rate, and how often the right answer is
among its three best guesses (the ask-back's buttons) the top-3 rate.

The --entities file is Rasa NLU YAML with annotated places and ticket numbers
(`[두정동 먹자골목](location)에 …`). Entities are scored per type: exactly (same start and end), by
overlap (a found span that overlaps an annotated one of its type), and per message as the complaint form
reads them (the text from the first found place to the last, against the same of the annotations).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import logging
import os
import sys
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.nlu.taxonomy import (
    CATEGORIES,
    FALLBACK_INTENT,
    INTENTS,
    NOT_A_GUESS,
    button_guesses,
    interpret,
    is_valid,
)
from bot.settings import load_settings

__all__ = [
    "DataError", "EntityReport", "Example", "Prediction", "Predictor", "Report", "Span", "all_or_nothing",
    "check_example", "evaluate", "evaluate_entities", "load_agent", "load_entity_examples", "load_examples",
    "newest_model", "rasa_predictor", "score", "score_entities",
]  # fmt: skip

logger = logging.getLogger(__name__)


class DataError(ValueError):
    """A labelled file that cannot be used; the message names the file and line."""


@dataclass(frozen=True)
class Example:
    """One labelled message."""

    text: str
    intent: str
    category: str | None
    register: str | None = None


@dataclass(frozen=True)
class Span:
    """An entity in a message: its type and where it is (character offsets, end exclusive)."""

    entity: str
    start: int
    end: int


@dataclass(frozen=True)
class Prediction:
    """What a model made of one message."""

    intent: str
    category: str | None
    fallback: bool = False
    entities: tuple[Span, ...] = ()
    # The ask-back's three buttons (intent, category), best first (taxonomy.button_guesses).
    guesses: tuple[tuple[str, str | None], ...] = ()
    # The best intent's confidence and its lead over the second (what the fallback threshold reads).
    confidence: float = 1.0
    margin: float = 1.0


@dataclass
class Report:
    """Scores of one model on one labelled set."""

    n: int
    intent_accuracy: float
    intent_macro_f1: float
    category_n: int
    category_accuracy: float
    category_macro_f1: float
    out_of_scope_recall: float | None
    fallback_rate: float
    confusions: list[tuple[str, str, int]] = field(default_factory=list)
    latencies_ms: list[float] = field(default_factory=list)
    # Per expected intent and per expected intent/category: (right, of how many).
    per_label: dict[str, tuple[int, int]] = field(default_factory=dict)
    # The share of messages a button can answer whose intent and category are among the three buttons.
    top3: float | None = None
    # Per register: (examples, intent accuracy, category accuracy, fallback rate).
    per_register: dict[str, tuple[int, float, float | None, float]] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        """Return the report as the JSON object `--json` prints."""
        return {
            "n": self.n,
            "intent": {"accuracy": self.intent_accuracy, "macro_f1": self.intent_macro_f1},
            "category": {
                "n": self.category_n,
                "accuracy": self.category_accuracy,
                "macro_f1": self.category_macro_f1,
            },
            "out_of_scope_recall": self.out_of_scope_recall,
            "fallback_rate": self.fallback_rate,
            "top3": self.top3,
            "per_register": {
                r: {"n": n, "intent": i, "category": c, "fallback_rate": f}
                for r, (n, i, c, f) in self.per_register.items()
            },
            "confusions": [{"expected": e, "predicted": p, "count": c} for e, p, c in self.confusions],
        }

    def as_text(self) -> str:
        """Return the report for people."""
        oos = "n/a" if self.out_of_scope_recall is None else f"{self.out_of_scope_recall:.3f}"
        lines = [
            f"examples:             {self.n}",
            f"intent accuracy:      {self.intent_accuracy:.3f}   macro-F1 {self.intent_macro_f1:.3f}",
            f"category accuracy:    {self.category_accuracy:.3f}   macro-F1 {self.category_macro_f1:.3f}"
            f"   (over {self.category_n} examples with a category)",
            f"out-of-scope recall:  {oos}",
            f"fallback rate:        {self.fallback_rate:.3f}   (the bot would ask back)",
        ]
        if self.top3 is not None:
            lines.append(f"top-3 rate:           {self.top3:.3f}   (intent and category among the 3 guesses)")
        if self.per_register:
            lines.append("per register:          n   intent  category  fallback")
            for register, (n, i, c, f) in self.per_register.items():
                cat = "   n/a" if c is None else f"{c:6.3f}"
                lines.append(f"  {register:<16} {n:5d}   {i:.3f}    {cat}     {f:.3f}")
        if self.confusions:
            lines.append("most frequent confusions (expected -> predicted):")
            lines += [f"  {c:3d}  {e} -> {p}" for e, p, c in self.confusions]
        return "\n".join(lines)


@dataclass
class EntityReport:
    """Entity scores of one model on one annotated set, per entity type."""

    n: int  # messages
    # Per entity type: spans annotated, found, found exactly, found overlapping an annotated span (and the
    # annotated ones exactly found or overlapped); messages with one annotated, with one found, and where
    # the text from the first found to the last is that of the annotated ones ("joined").
    counts: dict[str, dict[str, int]]
    misses: list[tuple[str, str, str]] = field(default_factory=list)  # (text, annotated, found)

    def scores(self, entity: str) -> dict[str, float]:
        """Return exact and overlap precision, recall and F1 of ENTITY; per message, precision and recall."""
        c = self.counts[entity]
        result = {}
        for kind in ("exact", "overlap"):
            precision = c[kind] / c["found"] if c["found"] else 0.0
            recall = c[f"{kind}_gold"] / c["gold"] if c["gold"] else 0.0
            result[f"{kind}_precision"], result[f"{kind}_recall"] = precision, recall
            result[f"{kind}_f1"] = (
                2 * precision * recall / (precision + recall) if precision + recall else 0.0
            )
        result["joined_precision"] = c["joined"] / c["messages_found"] if c["messages_found"] else 0.0
        result["joined_recall"] = c["joined"] / c["messages_gold"] if c["messages_gold"] else 0.0
        return result

    def as_json(self) -> dict[str, Any]:
        """Return the report as the JSON object `--json` prints."""
        return {
            "n": self.n,
            "entities": {e: {**self.counts[e], **self.scores(e)} for e in sorted(self.counts)},
        }

    def as_text(self) -> str:
        """Return the report for people."""
        lines = [f"entity messages:      {self.n}"]
        for entity in sorted(self.counts):
            s, c = self.scores(entity), self.counts[entity]
            lines.append(
                f"{entity + ':':<22}exact P {s['exact_precision']:.3f} R {s['exact_recall']:.3f} "
                f"F1 {s['exact_f1']:.3f}   overlap P {s['overlap_precision']:.3f} "
                f"R {s['overlap_recall']:.3f} F1 {s['overlap_f1']:.3f}   "
                f"({c['gold']} annotated, {c['found']} found)"
            )
            lines.append(
                f"{'':<22}as one phrase per message: P {s['joined_precision']:.3f} R {s['joined_recall']:.3f}"
                f"   ({c['messages_gold']} messages annotated, {c['messages_found']} with one found)"
            )
        if self.misses:
            lines.append("some misses (annotated -> found):")
            lines += [f"  {gold or '-'} -> {found or '-'}   in {text}" for text, gold, found in self.misses]
        return "\n".join(lines)


def check_example(obj: Any, where: str) -> Example:
    """Return the example of one labelled record ({text, intent, category}); raise DataError naming WHERE."""
    if not isinstance(obj, dict):
        raise DataError(f"{where}: expected a JSON object")
    missing = [k for k in ("text", "intent", "category") if k not in obj]
    if missing:
        raise DataError(f"{where}: missing field {', '.join(missing)}")
    text, intent, category = obj["text"], obj["intent"], obj["category"]
    if not isinstance(text, str) or not text.strip():
        raise DataError(f"{where}: text must be a non-empty string")
    if intent not in INTENTS:
        raise DataError(f"{where}: unknown intent {intent!r}")
    if not is_valid(intent, category):
        expected = "null" if intent not in CATEGORIES else " | ".join(CATEGORIES[intent])
        raise DataError(f"{where}: category {category!r} does not fit intent {intent!r} ({expected})")
    register = obj.get("register")
    if register is not None and not isinstance(register, str):
        raise DataError(f"{where}: register must be a string")
    return Example(text, intent, category, register)


def load_examples(path: Path) -> list[Example]:
    """Read and check a labelled JSON Lines file; raise DataError naming every bad line."""
    try:
        raw_lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: cannot read: {exc}") from exc
    examples, problems = [], []
    for number, line in enumerate(raw_lines, start=1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            examples.append(check_example(json.loads(line), where))
        except json.JSONDecodeError as exc:
            problems.append(f"{where}: not JSON ({exc.msg})")
        except DataError as exc:
            problems.append(str(exc))
    return all_or_nothing(path, examples, problems)


def all_or_nothing(path: Path, examples: list[Example], problems: list[str]) -> list[Example]:
    """Return the EXAMPLES of PATH, or raise DataError naming every problem (or that there are none)."""
    if problems:
        raise DataError("\n".join(problems))
    if not examples:
        raise DataError(f"{path}: no examples")
    return examples


def load_entity_examples(path: Path) -> list[tuple[str, tuple[Span, ...]]]:
    """Read an annotated Rasa NLU YAML file: (text, its entities) per example; DataError if unusable."""
    from rasa.shared.exceptions import RasaException
    from rasa.shared.nlu.training_data.loading import load_data

    try:
        data = load_data(str(path))
    except (OSError, UnicodeDecodeError, RasaException, ValueError) as exc:
        raise DataError(f"{path}: cannot read: {exc}") from exc
    examples = [
        (str(m.get("text")), tuple(Span(e["entity"], e["start"], e["end"]) for e in m.get("entities") or []))
        for m in data.training_examples
        if m.get("text")
    ]
    if not examples:
        raise DataError(f"{path}: no examples")
    return examples


def score_entities(
    examples: list[tuple[str, tuple[Span, ...]]], found: list[tuple[Span, ...]], top_misses: int = 15
) -> EntityReport:
    """Compare the entities FOUND in each message with those annotated in EXAMPLES."""
    types = sorted({s.entity for _, spans in examples for s in spans} | {s.entity for f in found for s in f})
    keys = ("gold", "found", "exact", "exact_gold", "overlap", "overlap_gold",
            "messages_gold", "messages_found", "joined")  # fmt: skip
    counts = {t: dict.fromkeys(keys, 0) for t in types}
    misses: list[tuple[str, str, str]] = []
    for (text, gold), predicted in zip(examples, found, strict=True):
        for t in types:
            g = [s for s in gold if s.entity == t]
            p = [s for s in predicted if s.entity == t]
            c = counts[t]
            c["gold"] += len(g)
            c["found"] += len(p)
            c["exact"] += sum(s in g for s in p)
            c["exact_gold"] += sum(s in p for s in g)
            c["overlap"] += sum(any(_overlap(s, o) for o in g) for s in p)
            c["overlap_gold"] += sum(any(_overlap(s, o) for o in p) for s in g)
            c["messages_gold"] += bool(g)
            c["messages_found"] += bool(p)
            c["joined"] += bool(g) and _joined(g) == _joined(p)
        if set(gold) != set(predicted) and len(misses) < top_misses:
            misses.append((text, ", ".join(text[s.start : s.end] for s in gold),
                           ", ".join(text[s.start : s.end] for s in predicted)))  # fmt: skip
    return EntityReport(n=len(examples), counts=counts, misses=misses)


def _joined(spans: list[Span]) -> tuple[int, int] | None:
    """Return where the text from the first of SPANS to the last starts and ends."""
    return (min(s.start for s in spans), max(s.end for s in spans)) if spans else None


def _overlap(a: Span, b: Span) -> bool:
    return a.start < b.end and b.start < a.end


def _macro_f1(gold: list[str], predicted: list[str]) -> float:
    """Unweighted mean F1 over the labels that occur in GOLD."""
    f1s = []
    for label in sorted(set(gold)):
        tp = sum(g == p == label for g, p in zip(gold, predicted))
        fp = sum(p == label and g != label for g, p in zip(gold, predicted))
        fn = sum(g == label and p != label for g, p in zip(gold, predicted))
        f1s.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    return sum(f1s) / len(f1s) if f1s else 0.0


def _full(intent: str, category: str | None) -> str:
    return f"{intent}/{category}" if category else intent


def score(examples: list[Example], predictions: list[Prediction], top_confusions: int = 10) -> Report:
    """Compare PREDICTIONS with the labels of EXAMPLES."""
    gold_i = [e.intent for e in examples]
    pred_i = [p.intent for p in predictions]
    with_cat = [(e, p) for e, p in zip(examples, predictions) if e.category is not None]
    gold_c = [_full(e.intent, e.category) for e, _ in with_cat]
    pred_c = [_full(p.intent, p.category) for _, p in with_cat]
    oos = [p.intent == "out_of_scope" for e, p in zip(examples, predictions) if e.intent == "out_of_scope"]
    confusions = collections.Counter(
        (_full(e.intent, e.category), _full(p.intent, p.category))
        for e, p in zip(examples, predictions)
        if (e.intent, e.category) != (p.intent, p.category)
    )
    per_label: dict[str, list[int]] = collections.defaultdict(lambda: [0, 0])
    for e, p in zip(examples, predictions):
        scored = [(e.intent, e.intent == p.intent)]
        if e.category is not None:
            scored.append((_full(e.intent, e.category), (e.intent, e.category) == (p.intent, p.category)))
        for gold, right in scored:
            per_label[gold][0] += right
            per_label[gold][1] += 1
    n = len(examples)
    # Out-of-scope messages, greetings and bare answers are never a button: the ask-back's way out for
    # them is its last button, a person. The top-3 rate is over the messages a button can answer.
    guessed = [
        (e.intent, e.category) in p.guesses
        for e, p in zip(examples, predictions)
        if p.guesses and e.intent not in NOT_A_GUESS
    ]
    registers: dict[str, list[tuple[Example, Prediction]]] = collections.defaultdict(list)
    for e, p in zip(examples, predictions):
        if e.register:
            registers[e.register].append((e, p))
    per_register = {}
    for register, pairs in sorted(registers.items()):
        cats = [(e, p) for e, p in pairs if e.category is not None]
        per_register[register] = (
            len(pairs),
            sum(e.intent == p.intent for e, p in pairs) / len(pairs),
            sum((e.intent, e.category) == (p.intent, p.category) for e, p in cats) / len(cats)
            if cats
            else None,
            sum(p.fallback for _, p in pairs) / len(pairs),
        )
    return Report(
        n=n,
        intent_accuracy=sum(g == p for g, p in zip(gold_i, pred_i)) / n,
        intent_macro_f1=_macro_f1(gold_i, pred_i),
        category_n=len(with_cat),
        category_accuracy=sum(g == p for g, p in zip(gold_c, pred_c)) / len(with_cat) if with_cat else 0.0,
        category_macro_f1=_macro_f1(gold_c, pred_c),
        out_of_scope_recall=sum(oos) / len(oos) if oos else None,
        fallback_rate=sum(p.fallback for p in predictions) / n,
        confusions=[(e, p, c) for (e, p), c in confusions.most_common(top_confusions)],
        per_label={label: (right, total) for label, (right, total) in sorted(per_label.items())},
        top3=sum(guessed) / len(guessed) if guessed else None,
        per_register=per_register,
    )


Predictor = Callable[[str], Awaitable[Prediction]]


async def evaluate(examples: Iterable[Example], predict: Predictor) -> Report:
    """Predict every example one by one, timing each, and score the predictions."""
    examples = list(examples)
    predictions, latencies = [], []
    for example in examples:
        started = time.perf_counter()
        predictions.append(await predict(example.text))
        latencies.append((time.perf_counter() - started) * 1000)
    report = score(examples, predictions)
    report.latencies_ms = latencies
    return report


async def evaluate_entities(examples: list[tuple[str, tuple[Span, ...]]], predict: Predictor) -> EntityReport:
    """Predict the entities of every annotated example and score them."""
    return score_entities(examples, [(await predict(text)).entities for text, _ in examples])


def newest_model(models_dir: Path) -> Path | None:
    """Return the most recently trained model archive in MODELS_DIR, if any."""
    models = sorted(models_dir.glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)
    return models[-1] if models else None


def _quiet_rasa() -> None:
    """Keep Rasa and TensorFlow to warnings: their debug logs would print every message's text."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from rasa.utils.log_utils import configure_structlog

    configure_structlog(logging.WARNING)
    for name in ("rasa", "tensorflow", "absl"):
        logging.getLogger(name).setLevel(logging.WARNING)


def load_agent(model_path: Path) -> Any:
    """Load a trained Rasa model into an Agent, with Rasa's logs kept to warnings."""
    _quiet_rasa()
    from rasa.core.agent import Agent  # heavy: imported only when a model is really needed

    return Agent.load(str(model_path))


def rasa_predictor(model_path: Path) -> Predictor:
    """Load a trained Rasa model and return a predictor that parses with it (NLU only)."""
    agent = load_agent(model_path)

    async def predict(text: str) -> Prediction:
        parse_data = await agent.parse_message(text)
        intent, category, confidence = interpret(parse_data)
        fallback = (parse_data.get("intent") or {}).get("name") == FALLBACK_INTENT
        ranked = [r for r in parse_data.get("intent_ranking") or [] if r.get("name") != FALLBACK_INTENT]
        second = float(ranked[1].get("confidence") or 0.0) if len(ranked) > 1 else 0.0
        entities = tuple(
            Span(str(e["entity"]), int(e["start"]), int(e["end"]))
            for e in parse_data.get("entities") or []
            if "start" in e and "end" in e
        )
        guesses = tuple(button_guesses(parse_data))
        return Prediction(intent, category, fallback, entities, guesses, confidence, confidence - second)

    return predict


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    parser = argparse.ArgumentParser(prog="python -m bot.evaluate", description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="labelled JSON Lines file")
    parser.add_argument("--entities", type=Path, help="annotated Rasa NLU YAML file: score entities too")
    parser.add_argument("--model", type=Path, help="model archive (default: the newest in models/)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)

    try:
        examples = load_examples(args.data)
        entity_examples = load_entity_examples(args.entities) if args.entities else []
    except DataError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    model = args.model or newest_model(load_settings().models_dir)
    if model is None or not model.is_file():
        print(f"error: no trained model at {model or 'models/'}; run `make train`", file=sys.stderr)
        return 2

    predict = rasa_predictor(model)
    report = asyncio.run(evaluate(examples, predict))
    entity_report = asyncio.run(evaluate_entities(entity_examples, predict)) if entity_examples else None
    if args.json:
        out = report.as_json() | ({"entities": entity_report.as_json()} if entity_report else {})
        print(json.dumps(out, ensure_ascii=False))
    else:
        print(report.as_text() + (f"\n{entity_report.as_text()}" if entity_report else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
