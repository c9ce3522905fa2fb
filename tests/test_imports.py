"""Imports flow one way: no project module imports, even inside a function, one that imports it back."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import REPO

PACKAGES = ("data_prep", "rewards", "recipes")


def _module_name(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph() -> dict[str, set[str]]:
    """module -> the project modules it imports anywhere in its source (top level or in a function)."""
    files = {_module_name(p): p for pkg in PACKAGES for p in (REPO / pkg).rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in files.items():
        targets: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                targets.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                targets.add(node.module)
                targets.update(f"{node.module}.{alias.name}" for alias in node.names)
        # `from recipes import evaluate` names a module; `from recipes.model import load_policy` a symbol.
        graph[name] = {t for t in targets if t in files and t != name and not name.startswith(t + ".")}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_find_cycle_finds_one():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_no_import_cycle_between_project_modules():
    graph = import_graph()
    assert "recipes.pipeline" in graph["recipes.grpo"]  # the graph sees function-level imports
    assert find_cycle(graph) is None, " -> ".join(find_cycle(graph))


def test_the_lower_layers_never_import_recipes():
    graph = import_graph()
    for name, targets in graph.items():
        if name.startswith(("data_prep", "rewards")):
            assert not any(t.startswith("recipes") for t in targets), (name, targets)


def test_no_module_is_over_12_kb():
    # Small modules with one job each (DESIGN.md): a module past this has two jobs to split.
    big = {str(p.relative_to(REPO)): p.stat().st_size for pkg in (*PACKAGES, "bench") for p in (REPO / pkg).rglob("*.py")
           if p.stat().st_size > 12_000}
    assert not big, big
