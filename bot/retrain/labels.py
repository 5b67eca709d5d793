"""Labelled examples: imported from files or taken from the console, exported to data/nlu/feedback.yml.

The export masks personal data (phone numbers, 주민등록번호, card numbers, e-mail addresses, car plates),
drops duplicates and texts already in the training data, and leaves out a text labelled two ways (by two
agents, by an import, or against the training data) until someone decides (`python -m bot.retrain decide`).
"""

from __future__ import annotations

import collections
import contextlib
import csv
import io
import json
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from bot.evaluate import DataError, Example, all_or_nothing, check_example, load_examples
from bot.messages import MAX_TEXT
from bot.nlu.taxonomy import is_valid
from bot.privacy import mask_personal_data
from bot.store.labels import add_imported, agent_labels, imported_labels

__all__ = [
    "Export", "Labelled", "collect", "decide", "export_feedback", "import_file", "key", "read_labelled_file",
    "training_index",
]  # fmt: skip

HEADER = (
    "# Written by `python -m bot.retrain` from what agents labelled and from imported labels. Do not edit:\n"
    "# it is rewritten on every run. Personal data is masked. To change a label, label the message again\n"
    "# in the console or use `python -m bot.retrain decide`.\n"
)


@dataclass(frozen=True)
class Labelled:
    """A text with the intent (and category) someone gave it, and where that came from."""

    text: str
    intent: str
    category: str | None
    source: str

    @property
    def label(self) -> str:
        """Return "intent/category", or the intent alone."""
        return f"{self.intent}/{self.category}" if self.category else self.intent


@dataclass
class Export:
    """What an export wrote and what it left out."""

    examples: list[Labelled] = field(default_factory=list)
    new: collections.Counter[str] = field(default_factory=collections.Counter)  # per label, not there before
    duplicates: int = 0
    already_trained: int = 0
    conflicts: list[tuple[str, list[str]]] = field(default_factory=list)  # (masked text, its labels)
    unusable: list[str] = field(default_factory=list)  # texts Rasa's format cannot hold as written


def key(text: str) -> str:
    """Return the form under which two texts count as the same example (NFC, one space between words)."""
    return " ".join(unicodedata.normalize("NFC", text).split())


def _masked(text: str) -> str:
    return key(mask_personal_data(text, plates=True)[0])


# --- reading labelled files ---


def read_labelled_file(path: Path) -> list[Example]:
    """Read JSON Lines (like the held-out set) or CSV with text, intent, category columns.

    Raises DataError naming every bad line; a file with one bad line gives nothing.
    """
    if path.suffix.lower() != ".csv":
        return load_examples(path)
    try:
        raw = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: cannot read: {exc}") from exc
    reader = csv.DictReader(io.StringIO(raw))
    missing = [c for c in ("text", "intent", "category") if c not in (reader.fieldnames or [])]
    if missing:
        raise DataError(f"{path}:1: the header needs the columns text, intent, category (missing {missing})")
    examples, problems = [], []
    for row in reader:
        record = {"text": (row.get("text") or "").strip(), "intent": (row.get("intent") or "").strip()}
        record["category"] = (row.get("category") or "").strip() or None
        try:
            examples.append(check_example(record, f"{path}:{reader.line_num}"))
        except DataError as exc:
            problems.append(str(exc))
    return all_or_nothing(path, examples, problems)


def import_file(session: Session, *, path: Path) -> int:
    """Store the examples of PATH (masked) for the next export; all or nothing. Return how many."""
    examples = read_labelled_file(path)
    rows = [(_masked(e.text[:MAX_TEXT]), e.intent, e.category) for e in examples]
    add_imported(session, rows=rows, source=path.name[:200], decision=False)
    return len(examples)


def decide(session: Session, *, text: str, intent: str, category: str | None) -> None:
    """Settle the label of TEXT, which wins over every other label of the same text."""
    if not is_valid(intent, category):
        raise DataError(f"unknown intent {intent!r} or a category {category!r} that does not fit it")
    add_imported(session, rows=[(_masked(text), intent, category)], source="decision", decision=True)


# --- collecting and exporting ---


def collect(session: Session) -> tuple[list[Labelled], dict[str, Labelled]]:
    """Return every label (masked texts) and the decisions by text key.

    A message counts once per agent: an agent who labels it again changes their label.
    """
    labelled: list[Labelled] = []
    for label, message in agent_labels(session):
        payload = json.loads(message.data or "{}").get("payload")
        if payload and str(payload).startswith("/"):
            continue  # a button's intent payload, not words a citizen wrote
        text = str(payload or message.text)[:MAX_TEXT]
        labelled.append(Labelled(_masked(text), label.intent, label.category, f"message {message.id}"))
    decisions: dict[str, Labelled] = {}
    for row in imported_labels(session):
        item = Labelled(_masked(row.text), row.intent, row.category, row.source)
        if row.decision:
            decisions[key(item.text)] = item
        else:
            labelled.append(item)
    return [item for item in labelled if item.text], decisions


def _load(nlu_files: Iterable[Path]) -> Any:
    """Return the training data of NLU_FILES as one Rasa TrainingData."""
    from rasa.shared.nlu.training_data.loading import load_data
    from rasa.shared.nlu.training_data.training_data import TrainingData

    return TrainingData().merge(*(load_data(str(path)) for path in nlu_files))


def training_index(data: Any) -> dict[str, set[str]]:
    """Return the labels of every example of Rasa's training DATA by text key."""
    from rasa.shared.nlu.constants import INTENT, INTENT_RESPONSE_KEY, TEXT

    index: dict[str, set[str]] = collections.defaultdict(set)
    for message in data.training_examples:
        label = message.get(INTENT_RESPONSE_KEY) or message.get(INTENT)
        if message.get(TEXT) and label:
            index[key(message.get(TEXT))].add(label)
    return index


def _entities(
    text: str, locations: list[str], regexes: list[tuple[str, re.Pattern[str]]]
) -> list[dict[str, object]]:
    """Annotate the places of the lookup table and the regex entities (ticket numbers), as the data does."""
    spans: list[tuple[int, int, str]] = []
    for name, pattern in regexes:
        spans += [(m.start(), m.end(), name) for m in pattern.finditer(text)]
    for name in sorted(locations, key=len, reverse=True):  # longest first: 불당동 before 불당
        for m in re.finditer(re.escape(name), text):
            if m.start() > 0 and text[m.start() - 1].isalnum():
                continue  # inside a word
            spans.append((m.start(), m.end(), "location"))
    chosen: list[tuple[int, int, str]] = []
    for start, end, entity in spans:
        if all(end <= s or start >= e for s, e, _ in chosen):
            chosen.append((start, end, entity))
    return [{"start": s, "end": e, "value": text[s:e], "entity": entity} for s, e, entity in sorted(chosen)]


def _entity_sources(data: Any) -> tuple[list[str], list[tuple[str, re.Pattern[str]]]]:
    """Return the places of the location lookup table and the regex entities of Rasa's training DATA."""
    locations = [
        place
        for table in data.lookup_tables
        if table.get("name") == "location"
        for place in table["elements"]
    ]
    return locations, [(r["name"], re.compile(r["pattern"])) for r in data.regex_features]


def export_feedback(
    labelled: list[Labelled], decisions: dict[str, Labelled], *, data_dir: Path, feedback: Path
) -> Export:
    """Write the labelled examples that are not yet in the training data to FEEDBACK; return what happened."""
    from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_RESPONSE_KEY, TEXT
    from rasa.shared.nlu.training_data.entities_parser import ENTITY_REGEX
    from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLWriter
    from rasa.shared.nlu.training_data.message import Message as RasaMessage
    from rasa.shared.nlu.training_data.training_data import TrainingData

    nlu_files = [p for p in sorted((data_dir / "nlu").rglob("*.yml")) if p.resolve() != feedback.resolve()]
    training_data = _load(nlu_files)
    trained = training_index(training_data)
    before: dict[str, set[str]] = {}
    if feedback.is_file():
        with contextlib.suppress(Exception):  # an unreadable earlier export is rewritten all the same
            before = training_index(_load([feedback]))
    report = Export()

    by_key: dict[str, list[Labelled]] = collections.defaultdict(list)
    for item in labelled:
        by_key[key(item.text)].append(item)
    for text_key in decisions:
        by_key.setdefault(text_key, [])
    chosen: list[Labelled] = []
    for text_key, items in sorted(by_key.items()):
        decided = decisions.get(text_key)
        labels = {i.label for i in items}
        if decided is None and len(labels) > 1:
            counts = collections.Counter(i.label for i in items)
            report.conflicts.append((text_key, [f"{label} ×{n}" for label, n in sorted(counts.items())]))
            continue
        item = decided or items[0]
        report.duplicates += max(0, len(items) - 1)
        in_data = trained.get(text_key, set())
        if in_data and in_data != {item.label}:
            report.conflicts.append(
                (text_key, [f"{item.label} (labelled)", *(f"{x} (training data)" for x in sorted(in_data))])
            )
            continue
        if in_data:
            report.already_trained += 1
            continue
        chosen.append(Labelled(text_key, item.intent, item.category, item.source))

    # A text with brackets that read as an entity annotation ("[x](y)") would come back changed.
    report.unusable = [i.text for i in chosen if ENTITY_REGEX.search(i.text)]
    chosen = [i for i in chosen if not ENTITY_REGEX.search(i.text)]
    locations, regexes = _entity_sources(training_data)
    messages = []
    for item in chosen:
        data: dict[str, object] = {
            TEXT: item.text, INTENT: item.intent, ENTITIES: _entities(item.text, locations, regexes),
        }  # fmt: skip
        if item.category:
            data[INTENT_RESPONSE_KEY] = item.label
        messages.append(RasaMessage(data=data))
    report.examples = chosen
    report.new = collections.Counter(i.label for i in chosen if key(i.text) not in before)
    if messages:
        feedback.parent.mkdir(parents=True, exist_ok=True)
        text = HEADER + RasaYAMLWriter().dumps(TrainingData(training_examples=messages))
        feedback.write_text(text, encoding="utf-8")
    else:
        feedback.unlink(missing_ok=True)
    return report
