"""Imports run one way: channels -> router -> handoff/delivery/transcript -> store; parts form no circle."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MODULES = sorted((ROOT / "bot").rglob("*.py"))


def _name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found |= {f"{node.module}.{a.name}" for a in node.names}
    return {name for name in found if name.split(".")[0] in ("bot", "bench", "actions")}


GRAPH = {_name(p): _imports(p) for p in MODULES}


def _part(module: str) -> str:
    """Return the part a module belongs to: its folder under bot/, or the module itself at the top."""
    parts = module.split(".")
    return ".".join(parts[:2])


# What each part may not import (the composition root, bot.gateway, builds them all).
FORBIDDEN = {
    "bot.store": (
        "bot.router",
        "bot.channels",
        "bot.handoff",
        "bot.delivery",
        "bot.transcript",
        "bot.gateway",
    ),
    "bot.handoff": ("bot.router", "bot.channels", "bot.gateway"),
    "bot.delivery": ("bot.router", "bot.channels", "bot.handoff", "bot.gateway"),
    "bot.transcript": ("bot.router", "bot.channels", "bot.handoff", "bot.delivery", "bot.gateway"),
    "bot.router": ("bot.channels", "bot.gateway"),
    "bot.channels": ("bot.gateway", "bot.handoff", "bot.store"),
    "bot.messages": ("bot",),
    "bot.nlu": ("bot.router", "bot.channels", "bot.handoff", "bot.store", "bot.gateway"),
}


@pytest.mark.parametrize("module", sorted(GRAPH))
def test_no_import_runs_against_the_layering(module: str) -> None:
    forbidden = FORBIDDEN.get(_part(module), ())
    wrong = sorted(
        name
        for name in GRAPH[module]
        if any(name == f or name.startswith(f + ".") for f in forbidden) and _part(name) != _part(module)
    )
    assert wrong == [], f"{module} imports {wrong}"
    assert not any(name.startswith("bench") for name in GRAPH[module]), f"{module} imports the benchmarks"


def test_no_circle_of_imports_between_parts() -> None:
    edges: dict[str, set[str]] = {}
    for module, names in GRAPH.items():
        for name in names:
            target = _part(name)
            if target != _part(module) and (
                target in GRAPH or any(m.startswith(target + ".") for m in GRAPH)
            ):
                edges.setdefault(_part(module), set()).add(target)
    path: list[str] = []
    done: set[str] = set()

    def visit(part: str) -> None:
        assert part not in path, "a circle: " + " -> ".join(path[path.index(part) :] + [part])
        if part in done:
            return
        path.append(part)
        for target in sorted(edges.get(part, ())):
            visit(target)
        path.pop()
        done.add(part)

    for part in sorted(edges):
        visit(part)


def test_no_module_outside_the_store_builds_sql() -> None:
    builders = ("select", "insert", "update", "delete", "text", "exists", "table", "column")
    offenders = []
    for path in MODULES:
        module = _name(path)
        if module.startswith(("bot.store", "bot.rasa_server")):
            continue  # the repositories, and Rasa's own tracker store inside Rasa's process
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module in ("sqlalchemy", "sqlalchemy.sql"):
                offenders += [f"{module}: {a.name}" for a in node.names if a.name in builders]
    assert offenders == []
