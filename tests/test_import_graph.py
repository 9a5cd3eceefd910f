"""Dependencies point one way: no module of pytest_promote imports itself back.

The graph is read from the source with ``ast``: every ``import`` and ``from ... import``
anywhere in a module counts, at the top or inside a function (a lazy import keeps
start-up cheap; it must not hide a cycle). Importing ``a.b.c`` runs the ``__init__`` of
``a`` and ``a.b`` too, so those are edges as well (except the importing module's own
packages, which are already loaded). So a package's ``__init__`` stays a docstring:
code that imports lives in a named module.

Only imports under ``if TYPE_CHECKING:`` are left out: they never run, and only name
types for annotations, where mutual references are inherent (a gate's context holds
the policy; the policy names the gate kinds).
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "pytest_promote"


def modules(package: Path) -> dict[str, Path]:
    """Every module of the package by its dotted name (a package by its ``__init__``)."""
    found = {}
    for path in sorted(package.rglob("*.py")):
        parts = [package.name, *path.relative_to(package).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def _type_checking_only(tree: ast.Module) -> set[int]:
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skipped.update(id(inner) for stmt in node.body for inner in ast.walk(stmt))
    return skipped


def imports(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    """The package's modules that module ``name`` imports, with the packages whose
    ``__init__`` that import runs."""

    def owner(dotted: str) -> str | None:  # the module a dotted name lives in
        while dotted and dotted not in known:
            dotted = dotted.rpartition(".")[0]
        return dotted or None

    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    here = name if path.name == "__init__.py" else name.rpartition(".")[0]
    skipped = _type_checking_only(tree)
    found: set[str | None] = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            found.update(owner(alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = here.split(".")[: len(here.split(".")) - node.level + 1]
                base = ".".join([*parent, base] if base else parent)
            for alias in node.names:
                full = f"{base}.{alias.name}"
                found.add(full if full in known else owner(base))
    loaded = {m for m in found if m is not None}
    for target in list(loaded):
        parts = target.split(".")
        loaded.update(".".join(parts[:k]) for k in range(1, len(parts)))
    return {m for m in loaded if m in known and m != name and not name.startswith(m + ".")}


def graph(package: Path) -> dict[str, set[str]]:
    known = modules(package)
    return {name: imports(name, path, known) for name, path in known.items()}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), each as
    one cycle through them, so a failure names the imports to break."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    components: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in sorted(edges.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return [_path_through(set(c), edges) for c in components]


def _path_through(component: set[str], edges: dict[str, set[str]]) -> list[str]:
    """A shortest cycle from the component's first module back to itself."""
    start = min(component)
    paths = {start: [start]}
    frontier = [start]
    while frontier:
        nxt_frontier = []
        for node in frontier:
            for nxt in sorted(edges[node] & component):
                if nxt == start:
                    return [*paths[node], start]
                if nxt not in paths:
                    paths[nxt] = [*paths[node], nxt]
                    nxt_frontier.append(nxt)
        frontier = nxt_frontier
    raise AssertionError(f"no cycle through {start}")  # pragma: no cover - a component has one


def test_the_package_has_no_import_cycle() -> None:
    found = cycles(graph(PACKAGE))
    assert not found, "import cycles (break one import of each):\n" + "\n".join(
        " -> ".join(cycle) for cycle in found
    )


def test_the_public_api_imports_only_the_standard_library() -> None:
    """``pytest_promote.api`` is what a custom gate imports: it loads nothing heavy."""
    path = PACKAGE / "api.py"
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skipped = _type_checking_only(tree)
    names = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) and id(node) not in skipped
             for alias in node.names}
    names |= {node.module or "" for node in ast.walk(tree)
              if isinstance(node, ast.ImportFrom) and id(node) not in skipped}
    outside = sorted(n for n in names if n.partition(".")[0] not in sys.stdlib_module_names | {"__future__"})
    assert names and not outside, outside


def test_a_cycle_is_found_and_named(tmp_path: Path) -> None:
    """The check itself: lazy and relative imports count, TYPE_CHECKING ones do not,
    and importing a package's module runs (so depends on) the package's ``__init__``."""
    pkg = tmp_path / "pkg"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "sub" / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from pkg.sub import b\n")
    (pkg / "sub" / "b.py").write_text("def f():\n    from ..c import value\n")
    (pkg / "c.py").write_text("import pkg.a\n")
    (pkg / "d.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg import a\n")
    (pkg / "e.py").write_text("from pkg import d\n")
    edges = graph(pkg)
    assert edges["pkg.d"] == set()
    assert cycles(edges) == [["pkg.a", "pkg.sub.b", "pkg.c", "pkg.a"]]
    (pkg / "c.py").write_text("import json\n")
    assert cycles(graph(pkg)) == []
    (pkg / "sub" / "__init__.py").write_text("def f():\n    from pkg import c\n")
    (pkg / "c.py").write_text("from pkg import a\n")
    assert cycles(graph(pkg)) == [["pkg.a", "pkg.sub", "pkg.c", "pkg.a"]]


@pytest.mark.parametrize("module", ["pytest_promote.runner.session", "pytest_promote.plugin"])
def test_no_gate_imports_the_session(module: str) -> None:
    edges = graph(PACKAGE)
    importers = sorted(m for m, targets in edges.items() if module in targets)
    assert not [m for m in importers if m.startswith("pytest_promote.gates")], importers
