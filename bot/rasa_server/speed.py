"""Rasa 3.6's own per-message work, made cheaper without changing what it computes.

Found with py-spy on one Rasa server answering 10 citizens at once (the workload of bench/gateway.py):

- Every event read from the tracker store looked its class up by walking all of Event's subclasses
  (`Event.resolve_by_type` → `all_subclasses`), about a tenth of the server's time. The classes are looked up
  once per event name here, and again when a name is not known yet (a class imported later).
- Each run of the model's graph (one to parse a message, one per predicted action) went through dask: the
  graph rebuilt, ordered and scheduled anew, for a chain of a dozen nodes run one after another anyway. The
  runner here runs the same nodes in the same dependency order with the same inputs, the order worked out
  once per set of targets.
"""

from __future__ import annotations

from typing import Any

from rasa.engine.exceptions import GraphRunError
from rasa.engine.graph import GraphSchema
from rasa.engine.runner.dask import DaskGraphRunner
from rasa.shared.core import events
from rasa.shared.utils.common import all_subclasses

__all__ = ["event_class", "patch", "run_graph"]

_EVENT_CLASSES: dict[str, type[events.Event]] = {}
_resolve_by_type = events.Event.resolve_by_type
_dask_run = DaskGraphRunner.run  # Rasa's own, kept for the tests that compare the two


def event_class(type_name: str, default: type[events.Event] | None = None) -> type[events.Event] | None:
    """Return the event class of TYPE_NAME as Event.resolve_by_type does (same default, errors, None)."""
    found = _EVENT_CLASSES.get(type_name)
    if found is None:
        for cls in all_subclasses(events.Event):
            _EVENT_CLASSES.setdefault(cls.type_name, cls)  # the first one, as resolve_by_type finds it
        found = _EVENT_CLASSES.get(type_name)
    return found if found is not None else _resolve_by_type(type_name, default)


def _order(schema: GraphSchema, targets: tuple[str, ...]) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """Return the nodes TARGETS need, each after the nodes it needs, with the names of its inputs."""
    ordered: dict[str, tuple[str, ...]] = {}

    def visit(name: str) -> None:
        node = schema.nodes.get(name)
        if node is None or name in ordered:
            return  # an input given to run(), or a node already placed
        for need in node.needs.values():
            visit(need)
        ordered[name] = tuple(node.needs.values())

    for target in targets:
        visit(target)
    return tuple(ordered.items())


def run_graph(
    self: DaskGraphRunner, inputs: dict[str, Any] | None = None, targets: list[str] | None = None
) -> dict[str, Any]:
    """Run the graph as DaskGraphRunner.run does: same nodes, order, inputs, outputs and errors, no dask."""
    run_targets = targets if targets else self._graph_schema.target_names
    results: dict[str, Any] = {}
    for name, value in (inputs or {}).items():
        if isinstance(value, str) and value in self._graph_schema.nodes:
            raise GraphRunError(
                f"Input value '{value}' clashes with a node name. Make sure that none of the input names "
                f"passed to the `run` method are the same as node names in the graph schema."
            )
        results[name] = (name, value)
    orders = self.__dict__.setdefault("_orders", {})
    key = tuple(run_targets)
    if key not in orders:
        orders[key] = _order(self._graph_schema, key)
    try:
        for name, needs in orders[key]:
            if name not in results:
                # A name nothing provides is passed as itself, as dask does (GraphNode reports it).
                results[name] = self._instantiated_nodes[name](*(results.get(n, n) for n in needs))
    except RuntimeError as e:
        raise GraphRunError("Error running runner.") from e
    return dict(results[t] for t in run_targets)


def patch() -> None:
    """Look event classes up once per name; run the model's graph without dask."""
    events.Event.resolve_by_type = staticmethod(event_class)  # type: ignore[method-assign,assignment]
    DaskGraphRunner.run = run_graph  # type: ignore[method-assign]
