"""Retrain: export the labels, validate, train a candidate, judge it against the serving model, swap it in.

    export ─▶ validate ─▶ train ─▶ evaluate candidate and serving model ─▶ gate ─┬▶ promote: models/history,
                                                                                │  models/minwon.tar.gz,
                                                                                │  PUT /model, history row
                                                                                └▶ refuse: feedback.yml as it
                                                                                   was, history row

A refused candidate leaves everything as it was, data/nlu/feedback.yml included, so that `make run` does not
train the worse model later. A promoted one replaces models/minwon.tar.gz (what `make run` serves) and is
loaded into the running Rasa without a restart; if Rasa is down it serves the new model at its next start.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from bot.evaluate import Report, evaluate, load_examples, rasa_predictor
from bot.rasa import RasaClient, RasaUnavailable
from bot.retrain.labels import Export, collect, export_feedback
from bot.settings import PROJECT_ROOT
from bot.store import model_history as history
from bot.store.models import ModelVersion
from bot.validate import validate

__all__ = ["Outcome", "Project", "RetrainError", "Verdict", "judge", "retrain", "rollback"]

Say = Callable[[str], None]
HELD_OUT, DEVELOPMENT = "held-out", "development"
# Serving and candidate report on one evaluation set.
Pair = tuple[Report, Report]
# How many of the models that served last are kept in models/history for a rollback.
KEEP = 5


class RetrainError(RuntimeError):
    """A step that could not be done; nothing was promoted."""


@dataclass(frozen=True)
class Project:
    """Where the training files and the models are."""

    config: Path = PROJECT_ROOT / "config.yml"
    domain: Path = PROJECT_ROOT / "domain.yml"
    data: Path = PROJECT_ROOT / "data"
    holdout: Path = PROJECT_ROOT / "tests" / "data" / "nlu_holdout.jsonl"
    # Written in citizens' registers by writers who never saw data/nlu (None: the held-out set only).
    dev: Path | None = PROJECT_ROOT / "tests" / "data" / "nlu_dev_real.jsonl"
    models: Path = PROJECT_ROOT / "models"

    @property
    def evaluation_sets(self) -> dict[str, Path]:
        """The sets the gate scores both models on, by name, the held-out set first."""
        sets = {HELD_OUT: self.holdout}
        if self.dev is not None:
            sets[DEVELOPMENT] = self.dev
        return sets

    @property
    def feedback(self) -> Path:
        """The exported labels."""
        return self.data / "nlu" / "feedback.yml"

    @property
    def current(self) -> Path:
        """The model `make run` serves."""
        return self.models / "minwon.tar.gz"

    @property
    def archive(self) -> Path:
        """Every model that served, kept for a rollback."""
        return self.models / "history"


@dataclass(frozen=True)
class Verdict:
    """The gate's decision, with the labels that got worse or better."""

    promote: bool
    reasons: list[str]
    worse: list[str]
    better: list[str]


@dataclass
class Outcome:
    """What one retraining did."""

    export: Export
    reports: dict[str, Pair]  # per evaluation set, the held-out set first
    verdict: Verdict
    examples: int
    seconds: dict[str, float] = field(default_factory=dict)
    version: ModelVersion | None = None
    loaded: bool = False
    message: str = ""

    @property
    def serving(self) -> Report:
        """The serving model on the held-out set."""
        return self.reports[HELD_OUT][0]

    @property
    def candidate(self) -> Report:
        """The candidate on the held-out set."""
        return self.reports[HELD_OUT][1]


def judge(reports: dict[str, Pair], *, tolerance: float, oos_tolerance: float = 0.0) -> Verdict:
    """Promote the candidate only if, on every evaluation set, neither its intent nor its category accuracy
    is more than TOLERANCE worse and its out-of-scope recall not more than OOS_TOLERANCE worse.

    Out-of-scope recall has its own, stricter bound: a model that reads more questions it cannot answer as
    complaints or questions files wrong tickets and gives wrong answers, where an honest "I can't help with
    that" would have sent the citizen on. Labels that got worse or better are listed per set (the held-out
    set's without a prefix).
    """
    reasons: list[str] = []
    worse: list[str] = []
    better: list[str] = []
    for index, (name, (serving, candidate)) in enumerate(reports.items()):
        prefix = "" if index == 0 else f"[{name}] "
        bounds = [
            ("intent accuracy", serving.intent_accuracy, candidate.intent_accuracy, tolerance),
            ("category accuracy", serving.category_accuracy, candidate.category_accuracy, tolerance),
        ]
        if serving.out_of_scope_recall is not None and candidate.out_of_scope_recall is not None:
            bounds.append(
                (
                    "out-of-scope recall",
                    serving.out_of_scope_recall,
                    candidate.out_of_scope_recall,
                    oos_tolerance,
                )
            )
        for what, old, new, allowed in bounds:
            if new < old - allowed - 1e-9:
                reasons.append(f"{prefix}{what} {old:.3f} → {new:.3f} (tolerance {allowed:.3f})")
        for label, (right, total) in candidate.per_label.items():
            before, _ = serving.per_label.get(label, (0, total))
            shares = f"{before / total:.2f} → {right / total:.2f}"
            line = f"{prefix}{label}: {before}/{total} → {right}/{total} ({shares})"
            if right < before:
                worse.append(line)
            elif right > before:
                better.append(line)
    return Verdict(promote=not reasons, reasons=reasons, worse=worse, better=better)


@contextlib.contextmanager
def _one_at_a_time(models: Path) -> Iterator[None]:
    models.mkdir(parents=True, exist_ok=True)
    with open(models / ".retrain.lock", "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise RetrainError("another retraining is running") from exc
        yield


def _copy(source: Path, target: Path) -> None:
    """Copy SOURCE over TARGET atomically, with a new modification time (make sees the model as new)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.tmp")
    shutil.copyfile(source, temporary)
    os.replace(temporary, target)


def _train(project: Project, name: str, say: Say) -> Path:
    """Train a candidate with `rasa train`; return its archive."""
    out = project.models / "candidates"
    out.mkdir(parents=True, exist_ok=True)
    log = out / f"{name}.log"
    command = [
        str(Path(sys.executable).with_name("rasa")), "train", "--config", str(project.config),
        "--domain", str(project.domain), "--data", str(project.data), "--out", str(out),
        "--fixed-model-name", name,
    ]  # fmt: skip
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "RASA_TELEMETRY_ENABLED": "false"}
    with open(log, "wb") as output:
        code = subprocess.run(
            command, stdout=output, stderr=subprocess.STDOUT, env=env, cwd=PROJECT_ROOT
        ).returncode
    archive = out / f"{name}.tar.gz"
    if code != 0 or not archive.is_file():
        tail = log.read_text(encoding="utf-8", errors="replace").splitlines()[-15:]
        raise RetrainError("training failed:\n" + "\n".join(tail))
    say(f"trained {archive.name} (log: {log})")
    return archive


def _serving_model(project: Project, name: str | None) -> Path:
    """Return the archive of the model Rasa serves (by its file name), else the one `make run` serves."""
    if name:
        for folder in (project.archive, project.models, project.models / "candidates"):
            if (folder / name).is_file():
                return folder / name
    return project.current


def _example_count(project: Project) -> int:
    from rasa.shared.nlu.training_data.loading import load_data

    return len(load_data(str(project.data / "nlu")).intent_examples)


async def retrain(
    project: Project,
    *,
    sessions: sessionmaker[Session],
    rasa: RasaClient,
    tolerance: float,
    oos_tolerance: float = 0.0,
    say: Say = print,
) -> Outcome:
    """Run every step; promote the candidate only if the gate lets it through; RetrainError if one fails."""
    sets = {name: load_examples(path) for name, path in project.evaluation_sets.items()}
    with _one_at_a_time(project.models), tempfile.TemporaryDirectory() as keep:
        backup = Path(keep) / "feedback.yml"
        had_feedback = project.feedback.is_file()
        if had_feedback:
            shutil.copy2(project.feedback, backup)
        promoted = False
        try:
            seconds: dict[str, float] = {}
            started = time.perf_counter()
            with sessions() as session:
                labelled, decisions = collect(session)
            export = export_feedback(labelled, decisions, data_dir=project.data, feedback=project.feedback)
            say(f"exported {len(export.examples)} labelled examples to {project.feedback}")
            passed, output, warnings = validate(
                domain=project.domain, data=project.data, config=project.config
            )
            if not passed:
                problems = "\n".join(warnings) or "\n".join(output.splitlines()[-15:])
                raise RetrainError(f"the training data does not validate:\n{problems}")
            seconds["export and validate"] = time.perf_counter() - started

            started = time.perf_counter()
            stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%d-%H%M%S")
            candidate = _train(project, f"minwon-{stamp}", say)
            seconds["train"] = time.perf_counter() - started

            started = time.perf_counter()
            serving_path = _serving_model(project, await rasa.model_file())
            if not serving_path.is_file():
                raise RetrainError(
                    f"no serving model at {serving_path} to compare with; run `make train` first"
                )
            serving_model, candidate_model = rasa_predictor(serving_path), rasa_predictor(candidate)
            reports = {
                name: (await evaluate(examples, serving_model), await evaluate(examples, candidate_model))
                for name, examples in sets.items()
            }
            seconds["evaluate both"] = time.perf_counter() - started
            verdict = judge(reports, tolerance=tolerance, oos_tolerance=oos_tolerance)
            outcome = Outcome(export, reports, verdict, _example_count(project), seconds)
            serving, judged = outcome.serving, outcome.candidate
            scores = {
                "examples": outcome.examples, "feedback": len(export.examples),
                "intent_accuracy": judged.intent_accuracy, "category_accuracy": judged.category_accuracy,
                "serving_intent_accuracy": serving.intent_accuracy,
                "serving_category_accuracy": serving.category_accuracy,
            }  # fmt: skip

            if not verdict.promote:
                candidate.unlink()
                with sessions.begin() as session:
                    outcome.version = history.record(
                        session, action="refused", model_file=str(candidate), note="; ".join(verdict.reasons),
                        **scores,
                    )  # fmt: skip
                outcome.message = "kept the serving model: " + "; ".join(verdict.reasons)
                return outcome

            promoted = True  # from here on the new data belongs to the model that serves
            with sessions() as session:
                first = not history.serving_chain(session)
            if first:  # the model trained by `make train`: kept so that a rollback can return to it
                baseline = project.archive / f"minwon-{stamp}-before.tar.gz"
                _copy(serving_path, baseline)
                with sessions.begin() as session:
                    history.record(
                        session, action="baseline", model_file=str(baseline), loaded=True,
                        note=serving_path.name, intent_accuracy=serving.intent_accuracy,
                        category_accuracy=serving.category_accuracy,
                    )  # fmt: skip
            archive = project.archive / candidate.name
            archive.parent.mkdir(parents=True, exist_ok=True)
            os.replace(candidate, archive)
            _copy(archive, project.current)
            outcome.loaded, outcome.message = await _load(rasa, archive, say)
            with sessions.begin() as session:
                outcome.version = history.record(
                    session, action="promoted", model_file=str(archive), loaded=outcome.loaded,
                    note=outcome.message, **scores,
                )  # fmt: skip
            _prune(project, sessions)
            return outcome
        finally:
            # Refused or failed: the data that `make run` would train on stays as it was, with its old
            # modification time, so that make does not retrain either.
            if not promoted and had_feedback:
                shutil.copy2(backup, project.feedback)
            elif not promoted:
                project.feedback.unlink(missing_ok=True)


def _prune(project: Project, sessions: sessionmaker[Session]) -> None:
    """Keep the archives of the last KEEP models that served (a model is about 300 MB); delete older ones."""
    with sessions() as session:
        keep = {Path(row.model_file).name for row in history.serving_chain(session)[-KEEP:]}
    for archive in project.archive.glob("*.tar.gz"):
        if archive.name not in keep:
            archive.unlink()


async def _load(rasa: RasaClient, archive: Path, say: Say) -> tuple[bool, str]:
    """Load ARCHIVE into the running Rasa; return whether it serves it now, and what happened."""
    say(f"loading {archive.name} into Rasa")
    try:
        await rasa.load_model(str(archive.resolve()))
    except RasaUnavailable as exc:
        return False, f"Rasa did not load it ({exc}); it serves it from its next start (models/minwon.tar.gz)"
    if await rasa.model_file() != archive.name:
        return False, "Rasa answered but does not report the new model; check logs/rasa-*.log"
    return True, f"Rasa serves {archive.name} now"


async def rollback(
    project: Project, *, sessions: sessionmaker[Session], rasa: RasaClient, say: Say = print
) -> ModelVersion:
    """Serve the model that served before the current one again, the same way a promotion does."""
    with _one_at_a_time(project.models):
        with sessions() as session:
            chain = history.serving_chain(session)
        if len(chain) < 2:
            raise RetrainError("there is no earlier model to return to (python -m bot.retrain history)")
        current, previous = chain[-1], chain[-2]
        archive = Path(previous.model_file)
        if not archive.is_file():
            raise RetrainError(f"the earlier model's archive is missing: {archive}")
        _copy(archive, project.current)
        loaded, message = await _load(rasa, archive, say)
        with sessions.begin() as session:
            return history.record(
                session, action="rollback", model_file=str(archive), loaded=loaded,
                note=f"from {Path(current.model_file).name}; {message}", examples=previous.examples,
                feedback=previous.feedback, intent_accuracy=previous.intent_accuracy,
                category_accuracy=previous.category_accuracy,
            )  # fmt: skip
