"""Rasa's per-message work made cheaper (bot/rasa_server/speed.py) computes what Rasa's own code computes."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rasa.engine.exceptions import GraphComponentException, GraphRunError
from rasa.engine.graph import ExecutionContext, GraphComponent, GraphSchema, SchemaNode
from rasa.engine.runner.dask import DaskGraphRunner
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.shared.core import events
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.utils.common import all_subclasses

from bot.evaluate import load_agent
from bot.rasa_server import speed

MODEL = Path(__file__).resolve().parents[3] / "models" / "minwon.tar.gz"


def test_every_event_name_gives_the_class_rasa_gives() -> None:
    names = {cls.type_name for cls in all_subclasses(events.Event)}
    assert {"user", "bot", "action", "slot", "active_loop", "session_started"} <= names
    for name in names:
        assert speed.event_class(name) is events.Event.resolve_by_type(name)


def test_unknown_event_names_fail_or_default_as_in_rasa() -> None:
    with pytest.raises(ValueError, match="Unknown event name 'no_such_event'"):
        speed.event_class("no_such_event")
    assert speed.event_class("no_such_event", events.UserUttered) is events.UserUttered
    assert speed.event_class("topic") is None


def test_an_event_class_defined_later_is_found() -> None:
    class LateEvent(events.ActionReverted):
        type_name = "late_event_for_speed_test"

    assert speed.event_class("late_event_for_speed_test") is LateEvent


class _Add(GraphComponent):
    """Adds its inputs; a string input makes it fail."""

    @classmethod
    def create(cls, config: dict[str, Any], **_: Any) -> _Add:
        return cls()

    def add(self, **numbers: Any) -> Any:
        if any(isinstance(n, str) for n in numbers.values()):
            raise TypeError(f"not a number: {numbers}")
        return sum(numbers.values())


def _runner(tmp_path: Path) -> DaskGraphRunner:
    def node(is_target: bool = False, **needs: str) -> SchemaNode:
        return SchemaNode(
            needs=needs, uses=_Add, fn="add", constructor_name="create", config={}, is_target=is_target
        )

    schema = GraphSchema(
        {
            "a": node(x="x", y="y"),
            "b": node(a="a", y="y"),
            "c": node(a="a", b="b"),
            "last": node(is_target=True, c="c", x="x"),
            "alone": node(x="x"),
        }
    )
    return DaskGraphRunner(schema, LocalModelStorage(tmp_path), ExecutionContext(schema, "test"))


@pytest.mark.parametrize("targets", [["c"], ["b", "alone"], ["a", "c"], None])
def test_a_graph_runs_as_dask_runs_it(tmp_path: Path, targets: list[str] | None) -> None:
    runner = _runner(tmp_path)
    for inputs in ({"x": 1, "y": 2}, {"x": 10, "y": -3}):
        assert speed.run_graph(runner, inputs, targets) == speed._dask_run(runner, inputs, targets)
    assert len(runner.__dict__["_orders"]) == 1  # worked out once per set of targets
    assert speed.run_graph(runner, {"x": 1, "y": 2}, ["c"]) == {"c": 8}  # a = 1 + 2, b = a + 2, c = a + b
    assert speed.run_graph(runner, {"x": 1, "y": 2}) == {"last": 9}  # the schema's target


def test_graph_errors_are_rasas(tmp_path: Path) -> None:
    runner = _runner(tmp_path)
    for run in (speed.run_graph, speed._dask_run):
        with pytest.raises(GraphRunError, match="clashes with a node name"):
            run(runner, {"x": "a", "y": 2}, ["a"])
        with pytest.raises(GraphComponentException, match="Error running graph component for node a"):
            run(runner, {"x": "one", "y": 2}, ["a"])


@pytest.fixture(scope="module")
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    loop = asyncio.new_event_loop()
    yield loop
    loop.close()


@pytest.mark.model
def test_the_trained_model_parses_and_predicts_the_same(
    loop: asyncio.AbstractEventLoop, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not MODEL.is_file():
        pytest.fail(f"{MODEL} is missing: run `make train` (make test does)")
    agent = load_agent(MODEL)
    texts = ["집 앞 가로등이 며칠째 꺼져 있어요", "2026-000123 처리됐나요", "기초연금 얼마 받아요", "ㅎㅇ"]

    def run() -> list[Any]:
        results: list[Any] = []
        for text in texts:
            parsed = loop.run_until_complete(agent.parse_message(text))
            said = events.UserUttered(text, parsed["intent"], parsed["entities"], timestamp=2.0)
            listened = events.ActionExecuted("action_listen", timestamp=1.0)
            tracker = DialogueStateTracker.from_events("speed-test", [listened, said])
            prediction = agent.processor.predict_next_with_tracker(tracker)
            results.append((parsed, prediction))
        return results

    monkeypatch.setattr(DaskGraphRunner, "run", speed._dask_run)
    with_dask = run()
    monkeypatch.setattr(DaskGraphRunner, "run", speed.run_graph)
    assert run() == with_dask
    assert {p["intent"]["name"] for p, _ in with_dask} >= {"complaint", "check_ticket_status"}
