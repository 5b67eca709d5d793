"""Retraining end to end on a small fixture project: labels → candidate → gate → live swap → rollback.

A real `rasa train` of tests/data/retrain (about a minute each on 2 cores) and a real Rasa server that keeps
answering while the model is swapped.
"""

from __future__ import annotations

import asyncio
import fcntl
import hashlib
import itertools
import os
import re
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bench.stack import Stack, free_port, running_stack
from bot.evaluate import Report
from bot.rasa import RasaClient
from bot.retrain import pipeline
from bot.retrain.pipeline import Outcome, Project, RetrainError, judge, retrain, rollback
from bot.store import model_history as history
from bot.store.agents import add_agent
from bot.store.conversations import record_message
from bot.store.db import session_factory
from bot.store.migrate import upgrade
from bot.store.models import Label, ModelVersion, utcnow

FIXTURE = Path(__file__).resolve().parent.parent.parent / "data" / "retrain"
# Held-out phrasing that the fixture model files under noise: 보안등 is not in its training data.
WRONG_BEFORE = "골목 보안등이 안 켜져서 밤마다 깜깜해요"
# What agents labelled: ten ways of saying it, none of them in the held-out set.
TEN_WAYS = [
    "보안등이 안 켜져요",
    "우리 골목 보안등이 나갔어요",
    "밤마다 골목이 깜깜해요 보안등 좀 봐주세요",
    "방범등이 안 들어와서 밤길이 어두워요",
    "보안등 불빛이 약해서 밤에 깜깜해요",
    "빌라 앞 방범등 고장이요",
    "골목길 보안등이 며칠째 안 켜져요",
    "밤에 보안등이 안 켜져서 무서워요",
    "방범등 좀 켜지게 해 주세요 너무 어두워요",
    "보안등이 꺼져서 골목이 깜깜합니다",
]
# Wrong labels: plain streetlight reports filed as noise.
WRONG_LABELS = [
    "가로등이 안 켜져요",
    "집 앞 가로등이 나갔어요",
    "가로등 불이 꺼졌어요",
    "공원 가로등 고장이요",
    "가로등이 계속 깜빡거려요",
    "사거리 신호등이 고장이에요",
    "가로등 좀 고쳐 주세요",
    "가로등이 며칠째 꺼져 있어요",
    "신호등이 안 바뀌어요",
    "가로등 전구가 나갔어요",
    "학교 앞 가로등이 안 들어와요",
    "가로등이 꺼져서 어두워요",
]


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def fixture_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The fixture project's model, trained once for the module."""
    out = tmp_path_factory.mktemp("fixture-model")
    rasa = Path(sys.executable).with_name("rasa")
    subprocess.run(
        [str(rasa), "train", "--config", str(FIXTURE / "config.yml"), "--domain", str(FIXTURE / "domain.yml"),
         "--data", str(FIXTURE / "data"), "--out", str(out), "--fixed-model-name", "minwon"],
        check=True, capture_output=True,
    )  # fmt: skip
    return out / "minwon.tar.gz"


@pytest.fixture
def project(tmp_path: Path, fixture_model: Path) -> Project:
    """A copy of the fixture project, serving the fixture model."""
    root = tmp_path / "project"
    root.mkdir()
    for name in ("config.yml", "domain.yml", "holdout.jsonl"):
        shutil.copy(FIXTURE / name, root / name)
    shutil.copytree(FIXTURE / "data", root / "data")
    project = Project(
        config=root / "config.yml", domain=root / "domain.yml", data=root / "data",
        holdout=root / "holdout.jsonl", dev=None, models=root / "models",
    )  # fmt: skip
    project.models.mkdir()
    shutil.copy(fixture_model, project.current)
    return project


def labelled_by_an_agent(
    sessions: sessionmaker[Session], texts: list[str], intent: str, category: str
) -> None:
    """Store TEXTS as citizens' messages, each labelled by an agent in the console."""
    with sessions.begin() as session:
        agent = add_agent(session, f"상담{len(texts)}{category}", "a-long-password")
        for i, text in enumerate(texts):
            message = record_message(session, channel="web", sender=f"c{i}", direction="in", text=text)
            session.add(
                Label(
                    message_id=message, intent=intent, category=category, agent_id=agent, created_at=utcnow()
                )
            )


def parse_category(stack: Stack, text: str) -> str:
    """Return the category the serving model gives TEXT (the response selector's best key) on every server."""
    keys = set()
    for url in stack.rasa_urls:
        parsed = httpx.post(f"{url}/model/parse", json={"text": text}, timeout=60).json()
        keys.add(str(parsed["response_selector"]["default"]["response"]["intent_response_key"]))
    assert len(keys) == 1, f"the servers disagree: {keys}"
    return keys.pop()


def serving(stack: Stack) -> set[str]:
    """Return the model files the Rasa servers report."""
    return {httpx.get(f"{url}/status", timeout=10).json()["model_file"] for url in stack.rasa_urls}


class Citizens(threading.Thread):
    """Keep sending messages to every Rasa server's REST webhook until stopped; count answers and failures."""

    def __init__(self, stack: Stack) -> None:
        super().__init__(daemon=True)
        self.urls, self.stopping = (
            [f"{url}/webhooks/rest/webhook" for url in stack.rasa_urls],
            threading.Event(),
        )
        self.answered, self.failures = 0, []  # type: ignore[var-annotated]

    def run(self) -> None:
        with httpx.Client(timeout=120) as client:
            for i in itertools.count():
                if self.stopping.is_set():
                    break
                server = i % len(self.urls)
                try:
                    response = client.post(
                        self.urls[server], json={"sender": f"citizen-{server}", "message": "안녕하세요"}
                    )
                    if response.status_code != 200 or not response.json():
                        self.failures.append(f"{response.status_code} {response.text[:100]}")
                    else:
                        self.answered += 1
                except httpx.HTTPError as exc:
                    self.failures.append(repr(exc))

    def stop(self) -> None:
        self.stopping.set()
        self.join(timeout=150)


async def _retrain(project: Project, sessions: sessionmaker[Session], rasa_url: str) -> Outcome:
    async with httpx.AsyncClient(timeout=10) as client:
        return await retrain(
            project, sessions=sessions, rasa=RasaClient(client, rasa_url), tolerance=0.0, say=lambda _: None
        )


async def _rollback(project: Project, sessions: sessionmaker[Session], rasa_url: str) -> ModelVersion:
    async with httpx.AsyncClient(timeout=10) as client:
        return await rollback(
            project, sessions=sessions, rasa=RasaClient(client, rasa_url), say=lambda _: None
        )


def test_labels_make_a_better_model_that_serves_without_a_restart_and_a_worse_one_never_does(
    project: Project, tmp_path: Path
) -> None:
    (tmp_path / "stack").mkdir()
    # Two Rasa servers, as `make run` starts them: a model goes live in both.
    with running_stack(project.current, tmp_path / "stack", rasa_servers=2) as stack:
        sessions = session_factory(stack.database_url)
        assert parse_category(stack, WRONG_BEFORE) == "complaint/noise"

        # 1. Ten labels of a phrasing the model gets wrong: the candidate is better and goes live while
        #    citizens keep writing.
        labelled_by_an_agent(sessions, TEN_WAYS, "complaint", "streetlight")
        citizens = Citizens(stack)
        citizens.start()
        try:
            outcome = asyncio.run(_retrain(project, sessions, stack.rasa_url))
        finally:
            citizens.stop()
        assert citizens.failures == [] and citizens.answered > 0
        assert outcome.verdict.promote, outcome.verdict.reasons
        assert outcome.loaded, outcome.message
        assert outcome.candidate.category_accuracy > outcome.serving.category_accuracy
        assert outcome.export.new == {"complaint/streetlight": 10}
        promoted = Path(outcome.version.model_file)  # type: ignore[union-attr]
        assert serving(stack) == {promoted.name}
        assert parse_category(stack, WRONG_BEFORE) == "complaint/streetlight"
        assert _sha(project.current) == _sha(promoted)  # what `make run` serves from now on
        assert "보안등이 안 켜져요" in project.feedback.read_text(encoding="utf-8")

        # 2. Wrong labels: the candidate is worse on the held-out set and is refused; nothing changes.
        feedback_before = project.feedback.read_bytes()
        serving_before = _sha(project.current)
        labelled_by_an_agent(sessions, WRONG_LABELS, "complaint", "noise")
        refused = asyncio.run(_retrain(project, sessions, stack.rasa_url))
        assert not refused.verdict.promote
        assert any(r.startswith("category accuracy") for r in refused.verdict.reasons)
        assert any(line.startswith("complaint/streetlight:") for line in refused.verdict.worse)
        assert serving(stack) == {promoted.name}
        assert _sha(project.current) == serving_before
        assert project.feedback.read_bytes() == feedback_before
        assert not list((project.models / "candidates").glob("*.tar.gz"))

        # 3. Rollback: the model before the promotion serves again, the same way.
        back = asyncio.run(_rollback(project, sessions, stack.rasa_url))
        assert back.action == "rollback" and back.loaded
        assert serving(stack) == {Path(back.model_file).name}
        assert parse_category(stack, WRONG_BEFORE) == "complaint/noise"
        with pytest.raises(RetrainError, match="no earlier model"):
            asyncio.run(_rollback(project, sessions, stack.rasa_url))

        with sessions() as session:
            steps = session.scalars(select(ModelVersion).order_by(ModelVersion.id)).all()
        assert [s.action for s in steps] == ["baseline", "promoted", "refused", "rollback"]
        assert steps[1].feedback == 10 and steps[1].examples > 70 and steps[1].loaded
        assert steps[2].feedback == 22 and "category accuracy" in steps[2].note


def test_with_rasa_down_the_promoted_model_waits_for_the_next_start(project: Project, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'labels.db'}"
    upgrade(url)
    sessions = session_factory(url)
    labelled_by_an_agent(sessions, TEN_WAYS, "complaint", "streetlight")
    outcome = asyncio.run(_retrain(project, sessions, f"http://127.0.0.1:{free_port()}"))
    assert outcome.verdict.promote and not outcome.loaded
    assert "next start" in outcome.message
    assert _sha(project.current) == _sha(Path(outcome.version.model_file))  # type: ignore[union-attr]


def _report(
    intent: float, category: float, per_label: dict[str, tuple[int, int]], oos: float | None = None
) -> Report:
    return Report(
        n=10, intent_accuracy=intent, intent_macro_f1=0, category_n=10, category_accuracy=category,
        category_macro_f1=0, out_of_scope_recall=oos, fallback_rate=0, per_label=per_label,
    )  # fmt: skip


def test_the_gate_allows_the_tolerance_and_names_what_got_worse() -> None:
    serving = _report(
        0.90, 0.80, {"complaint": (9, 10), "complaint/noise": (4, 5), "complaint/streetlight": (4, 5)}
    )
    slightly = _report(
        0.896, 0.80, {"complaint": (9, 10), "complaint/noise": (5, 5), "complaint/streetlight": (3, 5)}
    )
    verdict = judge({"held-out": (serving, slightly)}, tolerance=0.005)
    assert verdict.promote and verdict.reasons == []
    assert verdict.worse == ["complaint/streetlight: 4/5 → 3/5 (0.80 → 0.60)"]
    assert verdict.better == ["complaint/noise: 4/5 → 5/5 (0.80 → 1.00)"]
    worse = _report(
        0.90, 0.70, {"complaint": (9, 10), "complaint/noise": (4, 5), "complaint/streetlight": (3, 5)}
    )
    verdict = judge({"held-out": (serving, worse)}, tolerance=0.005)
    assert not verdict.promote
    assert verdict.reasons == ["category accuracy 0.800 → 0.700 (tolerance 0.005)"]
    assert not judge({"held-out": (serving, slightly)}, tolerance=0.0).promote  # intent 0.900 → 0.896


def test_the_gate_refuses_a_loss_on_the_development_set_and_any_loss_of_out_of_scope_recall() -> None:
    same = _report(0.90, 0.80, {"out_of_scope": (8, 10)}, oos=0.80)
    # Better intent accuracy on the development set, but one more out-of-scope message read as a service.
    traded = _report(0.95, 0.80, {"out_of_scope": (7, 10)}, oos=0.70)
    verdict = judge({"held-out": (same, same), "development": (same, traded)}, tolerance=0.005)
    assert not verdict.promote
    assert verdict.reasons == ["[development] out-of-scope recall 0.800 → 0.700 (tolerance 0.000)"]
    assert verdict.worse == ["[development] out_of_scope: 8/10 → 7/10 (0.80 → 0.70)"]
    assert judge(
        {"held-out": (same, same), "development": (same, traded)}, tolerance=0.005, oos_tolerance=0.1
    ).promote
    worse_dev = _report(0.80, 0.80, {}, oos=0.80)
    verdict = judge({"held-out": (same, same), "development": (same, worse_dev)}, tolerance=0.005)
    assert verdict.reasons == ["[development] intent accuracy 0.900 → 0.800 (tolerance 0.005)"]


def test_the_project_scores_on_the_held_out_and_the_development_set() -> None:
    assert list(Project().evaluation_sets) == ["held-out", "development"]
    assert all(path.is_file() for path in Project().evaluation_sets.values())
    assert list(Project(dev=None).evaluation_sets) == ["held-out"]


def test_one_retraining_at_a_time(project: Project, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'labels.db'}"
    upgrade(url)
    with open(project.models / ".retrain.lock", "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        with pytest.raises(RetrainError, match="another retraining is running"):
            asyncio.run(_retrain(project, session_factory(url), f"http://127.0.0.1:{free_port()}"))
    assert not project.feedback.exists()


def test_only_the_last_models_that_served_are_kept(tmp_path: Path) -> None:
    project = Project(models=tmp_path / "models")
    url = f"sqlite:///{tmp_path / 'labels.db'}"
    upgrade(url)
    sessions = session_factory(url)
    project.archive.mkdir(parents=True)
    with sessions.begin() as session:
        for i in range(7):
            (project.archive / f"m{i}.tar.gz").write_bytes(b"model")
            history.record(
                session,
                action="baseline" if i == 0 else "promoted",
                model_file=str(project.archive / f"m{i}.tar.gz"),
            )
        history.record(session, action="rollback", model_file=str(project.archive / "m5.tar.gz"))
    pipeline._prune(project, sessions)
    # Serving now: m0…m5 after the rollback took m6 off; the last five of them stay.
    assert sorted(p.name for p in project.archive.iterdir()) == [f"m{i}.tar.gz" for i in range(1, 6)]


def test_a_failed_step_leaves_the_training_data_as_it_was(tmp_path: Path) -> None:
    root = Path(shutil.copytree(FIXTURE, tmp_path / "project"))
    # A component that does not exist: training fails after the export.
    config = root / "config.yml"
    config.write_text(config.read_text(encoding="utf-8") + "  - name: NoSuchComponent\n", encoding="utf-8")
    project = Project(
        config=config, domain=root / "domain.yml", data=root / "data", holdout=root / "holdout.jsonl",
        dev=None, models=root / "models",
    )  # fmt: skip
    project.feedback.write_text('version: "3.1"\nnlu: []\n', encoding="utf-8")
    os.utime(project.feedback, (1_700_000_000, 1_700_000_000))
    url = f"sqlite:///{tmp_path / 'labels.db'}"
    upgrade(url)
    sessions = session_factory(url)
    labelled_by_an_agent(sessions, TEN_WAYS, "complaint", "streetlight")
    with pytest.raises(RetrainError, match="NoSuchComponent"):
        asyncio.run(_retrain(project, sessions, f"http://127.0.0.1:{free_port()}"))
    assert project.feedback.read_text(encoding="utf-8") == 'version: "3.1"\nnlu: []\n'
    assert project.feedback.stat().st_mtime == 1_700_000_000
    with sessions() as session:
        assert session.scalars(select(ModelVersion)).all() == []


def test_the_report_shows_each_evaluation_set_and_why_a_candidate_was_refused() -> None:
    from bot.retrain.__main__ import describe
    from bot.retrain.labels import Export

    same = _report(0.90, 0.80, {}, oos=0.80)
    traded = _report(0.95, 0.80, {}, oos=0.70)
    reports = {"held-out": (same, same), "development": (same, traded)}
    verdict = judge(reports, tolerance=0.005)
    text = describe(pipeline.Outcome(Export(), reports, verdict, 100, message="kept the serving model"))
    assert "held-out set" in text and "development set" in text
    assert re.search(r"\n  out-of-scope recall +0\.800 +0\.700\n", text)
    assert "decision: REFUSED" in text
