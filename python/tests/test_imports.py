"""The package's modules import each other without a cycle, at module level or inside functions: a
cycle makes import order matter and hides which module owns what."""

from __future__ import annotations

import ast
from pathlib import Path

PKG = Path(__file__).resolve().parents[1] / "src" / "expt_logger"


def _imports(path: Path) -> set[str]:
    """The package modules that `path` imports, as module names under expt_logger."""
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom):
            if node.level == 1 and node.module:  # from ._x import y
                out.add(node.module.split(".")[0])
            elif node.level == 1:  # from . import _x, or a name the package's __init__ defines
                out.update(a.name if (PKG / f"{a.name}.py").exists() else "__init__" for a in node.names)
            elif node.module and node.module.split(".")[0] == "expt_logger":
                parts = node.module.split(".")
                out.add(parts[1] if len(parts) > 1 else "__init__")
        elif isinstance(node, ast.Import):
            for a in node.names:
                parts = a.name.split(".")
                if parts[0] == "expt_logger" and len(parts) > 1:
                    out.add(parts[1])
    return out


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(n: str) -> list[str] | None:
        state[n] = 1
        path.append(n)
        for m in sorted(graph.get(n, ())):
            if state.get(m) == 1:
                return [*path[path.index(m) :], m]
            if m not in state and (c := visit(m)):
                return c
        path.pop()
        state[n] = 2
        return None

    for n in sorted(graph):
        if n not in state and (c := visit(n)):
            return c
    return None


def test_find_cycle_finds_one() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None


def test_no_import_cycle() -> None:
    # __init__ is the package's face: it imports the modules, so a module importing from the package
    # itself (`from . import __version__`) closes a cycle through it.
    graph = {p.stem: _imports(p) for p in PKG.glob("*.py")}
    assert {"_run", "_sender", "_spool"} <= graph["__init__"] | graph["_run"], graph
    assert find_cycle(graph) is None, f"import cycle: {' -> '.join(find_cycle(graph) or [])}"
