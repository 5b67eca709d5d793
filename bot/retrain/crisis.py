"""Teaching the crisis detector what agents judged in the console, behind a recall gate.

An agent's "위기 아님" turns the message that raised the alarm into a labelled ordinary example (masked,
bot/store/labels.py). Retraining writes them to data/crisis/false_alarms.jsonl only if the detector trained
with them keeps its recall on every crisis set; the gateway picks the file up within a minute
(bot/handoff/crisis.py keep_current).
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from bot.handoff.crisis import FALSE_ALARMS, evaluate, read_jsonl, scorer_of, train, training_rows
from bot.settings import PROJECT_ROOT
from bot.store.labels import crisis_labels

__all__ = ["GATE_SETS", "CrisisOutcome", "retrain_crisis"]

# Recall may not drop on any of these (and their false alarms are reported).
GATE_SETS = tuple(
    PROJECT_ROOT / "tests" / "data" / name
    for name in ("crisis.jsonl", "crisis_holdout.jsonl", "crisis_context.jsonl")
)


@dataclass
class CrisisOutcome:
    """What a retraining of the crisis detector did."""

    labels: int  # agents' judgements in the database
    promoted: bool
    # Per gate set: (serving recall, candidate recall, serving false alarms, candidate false alarms).
    scores: dict[str, tuple[float, float, float, float]] = field(default_factory=dict)
    reasons: list[str] = field(default_factory=list)

    def describe(self) -> str:
        """Return the outcome as lines for the command line."""
        if not self.scores:
            return f"crisis detector: no new judgements from agents ({self.labels} in all); nothing to learn"
        head = "crisis detector: " + (
            f"learnt {self.labels} judgements from agents; the gateway uses it within a minute"
            if self.promoted
            else "refused, it would miss crises it caught: " + "; ".join(self.reasons)
        )
        lines = [head, "  set                      recall (serving → candidate)   false alarms"]
        for name, (recall, new_recall, alarms, new_alarms) in self.scores.items():
            lines.append(
                f"  {name:<24} {recall:.3f} → {new_recall:.3f}                {alarms:.3f} → {new_alarms:.3f}"
            )
        return "\n".join(lines)


def _rows(sessions: sessionmaker[Session]) -> list[dict[str, Any]]:
    """Return the agents' judgements as training lines, one per text (the latest judgement wins)."""
    with sessions() as session:
        labels = crisis_labels(session)
    latest = {
        label.text: {
            "text": label.text, "crisis": label.crisis, "kind": label.kind if label.crisis else "negative",
        }
        for label in labels
    }  # fmt: skip
    return list(latest.values())


def retrain_crisis(
    sessions: sessionmaker[Session], *, target: Path = FALSE_ALARMS, sets: Sequence[Path] = GATE_SETS
) -> CrisisOutcome:
    """Train the detector with the agents' judgements; write TARGET if recall holds on every one of SETS."""
    rows = _rows(sessions)
    serving_rows = read_jsonl(target) if target.exists() else []
    if rows == serving_rows:
        return CrisisOutcome(labels=len(rows), promoted=False)
    base = training_rows(leave_out=target.name)
    serving, candidate = scorer_of(train(base + serving_rows)), scorer_of(train(base + rows))
    outcome = CrisisOutcome(labels=len(rows), promoted=False)
    for path in sets:
        before, after = evaluate(path, serving), evaluate(path, candidate)
        outcome.scores[path.name] = (
            before["recall"],
            after["recall"],
            before["false_alarm_rate"],
            after["false_alarm_rate"],
        )
        if after["recall"] < before["recall"]:
            outcome.reasons.append(f"{path.name} recall {before['recall']:.3f} → {after['recall']:.3f}")
    if not outcome.reasons:
        temporary = target.with_suffix(".tmp")
        temporary.write_text(
            "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows), encoding="utf-8"
        )
        os.replace(temporary, target)  # whole or not at all: the gateway may read it any moment
        outcome.promoted = True
    return outcome
