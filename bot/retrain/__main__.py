"""Turn what agents labelled into a better model that serves, with a quality gate and no restart.

Usage:
    python -m bot.retrain [--tolerance 0.005] [--oos-tolerance 0]
                                                export, validate, train, judge, promote (make retrain)
    python -m bot.retrain --rollback            serve the model that served before the current one
    python -m bot.retrain import FILE           labelled JSON Lines or CSV (text, intent, category)
    python -m bot.retrain decide TEXT --intent I [--category C]   settle a text labelled two ways
    python -m bot.retrain history [--json]      which model served when, with data size and scores
    python -m bot.retrain crisis                only the crisis detector (make retrain does both)

The gate scores the serving model and the candidate on the held-out set and on the development set
written in citizens' registers (tests/data/nlu_dev_real.jsonl), and refuses a candidate that is worse on
either by more than the tolerance, or that reads more out-of-scope messages as services.

The crisis detector learns first, from what agents marked "위기 아님" in the console, if its recall holds
on every crisis set (bot/retrain/crisis.py).

Exit status: 0 done (a refused candidate too: the report says why), 1 a step failed, 2 bad input.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from pathlib import Path

import httpx
from sqlalchemy.orm import Session, sessionmaker

from bot.evaluate import DataError
from bot.rasa import RasaClient
from bot.retrain.crisis import retrain_crisis
from bot.retrain.labels import decide, import_file
from bot.retrain.pipeline import Outcome, Project, RetrainError, retrain, rollback
from bot.settings import load_settings
from bot.store import model_history as history
from bot.store.db import session_factory


def describe(outcome: Outcome) -> str:
    """Return the short report: new examples, before and after, the decision."""
    export = outcome.export
    lines = [f"training data: {outcome.examples} examples, {len(export.examples)} of them from labels"]
    if export.new:
        lines.append("new examples:")
        lines += [f"  {n:4d}  {label}" for label, n in sorted(export.new.items())]
    else:
        lines.append("new examples: none")
    left_out = (
        f"duplicates {export.duplicates}, already in the training data {export.already_trained}, "
        f"not usable {len(export.unusable)}, labelled two ways {len(export.conflicts)}"
    )
    lines.append(f"left out: {left_out}")
    for text, labels in export.conflicts:
        lines.append(f"  two ways: {text!r}: {', '.join(labels)}  (python -m bot.retrain decide …)")
    for name, (old, new) in outcome.reports.items():
        lines.append(f"{name + ' set':<20} ({new.n:4d} examples)  serving   candidate")
        rows = [
            ("intent accuracy", old.intent_accuracy, new.intent_accuracy),
            ("category accuracy", old.category_accuracy, new.category_accuracy),
            ("out-of-scope recall", old.out_of_scope_recall, new.out_of_scope_recall),
            ("fallback rate", old.fallback_rate, new.fallback_rate),
        ]
        lines += [
            f"  {what:<32}  {a:.3f}     {b:.3f}" for what, a, b in rows if a is not None and b is not None
        ]
    if outcome.verdict.worse:
        lines.append("worse on:")
        lines += [f"  {line}" for line in outcome.verdict.worse]
    if outcome.verdict.better:
        lines.append("better on:")
        lines += [f"  {line}" for line in outcome.verdict.better]
    timing = ", ".join(f"{step} {s:.0f} s" for step, s in outcome.seconds.items())
    lines.append(f"time: {timing}")
    decision = "PROMOTED" if outcome.verdict.promote else "REFUSED"
    lines.append(f"decision: {decision}: {outcome.message}")
    return "\n".join(lines)


def _history(sessions: sessionmaker[Session], as_json: bool) -> str:
    with sessions() as session:
        rows = history.history(session)
    if as_json:
        return json.dumps(
            [
                {
                    "id": r.id, "at": r.created_at.isoformat(), "action": r.action, "model": r.model_file,
                    "examples": r.examples, "feedback": r.feedback, "intent_accuracy": r.intent_accuracy,
                    "category_accuracy": r.category_accuracy, "loaded": r.loaded, "note": r.note,
                }
                for r in rows
            ],
            ensure_ascii=False,
        )  # fmt: skip
    out = []
    for r in rows:
        scores = "-" if r.intent_accuracy is None else f"{r.intent_accuracy:.3f}/{r.category_accuracy:.3f}"
        out.append(
            f"{r.id:4d}  {r.created_at:%Y-%m-%d %H:%M}  {r.action:9s}  {Path(r.model_file).name:32s}  "
            f"{r.examples:5d} ex ({r.feedback} labelled)  intent/category {scores}  {r.note}"
        )
    return "\n".join(out) or "no model history yet"


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    parser = argparse.ArgumentParser(prog="python -m bot.retrain", description=__doc__.splitlines()[0])
    parser.add_argument("--rollback", action="store_true", help="serve the previous model again")
    parser.add_argument(
        "--tolerance", type=float, help="how much worse a candidate's accuracy may be (default: setting)"
    )
    parser.add_argument(
        "--oos-tolerance", type=float, default=0.0,
        help="how much lower a candidate's out-of-scope recall may be (default: 0, none)",
    )  # fmt: skip
    sub = parser.add_subparsers(dest="command")
    imports = sub.add_parser("import", help="store labelled examples from a JSON Lines or CSV file")
    imports.add_argument("file", type=Path)
    decision = sub.add_parser("decide", help="settle the label of a text labelled two ways")
    decision.add_argument("text")
    decision.add_argument("--intent", required=True)
    decision.add_argument("--category")
    sub.add_parser("crisis", help="teach only the crisis detector what agents judged")
    shown = sub.add_parser("history", help="the model history")
    shown.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)

    logging.basicConfig(level=logging.WARNING)
    settings = load_settings()
    sessions = session_factory(settings.database_url)
    try:
        if args.command == "import":
            with sessions.begin() as session:
                count = import_file(session, path=args.file)
            print(f"imported {count} labelled examples from {args.file}; the next retraining uses them")
            return 0
        if args.command == "decide":
            with sessions.begin() as session:
                decide(session, text=args.text, intent=args.intent, category=args.category)
            print("decided; the next retraining uses this label")
            return 0
        if args.command == "history":
            print(_history(sessions, args.json))
            return 0
        if not args.rollback:
            print(retrain_crisis(sessions).describe())
        if args.command == "crisis":
            return 0
    except DataError as exc:
        print(f"error: {exc}\nnothing was imported", file=sys.stderr)
        return 2
    tolerance = settings.retrain_tolerance if args.tolerance is None else args.tolerance
    bounds = (tolerance, args.oos_tolerance)
    return asyncio.run(_run(sessions, settings.rasa_url, settings.rasa_token, args.rollback, bounds))


async def _run(
    sessions: sessionmaker[Session], rasa_url: str, token: str, back: bool, bounds: tuple[float, float]
) -> int:
    async with httpx.AsyncClient(timeout=httpx.Timeout(10.0)) as client:
        rasa = RasaClient(client, rasa_url, token)
        try:
            if back:
                row = await rollback(Project(), sessions=sessions, rasa=rasa)
                print(f"rolled back to {Path(row.model_file).name}: {row.note}")
                return 0
            tolerance, oos_tolerance = bounds
            outcome = await retrain(
                Project(), sessions=sessions, rasa=rasa, tolerance=tolerance, oos_tolerance=oos_tolerance
            )
        except (RetrainError, DataError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
    print(describe(outcome))
    return 0


if __name__ == "__main__":
    sys.exit(main())
