"""Dependencies point one way: no module of pytest_promote imports itself back, and no
module imports one of a higher floor.

The graph is read from the source with ``ast``: every ``import`` and ``from ... import``
anywhere in a module counts, at the top or inside a function (a lazy import keeps
start-up cheap; it must not hide a cycle), and under ``if TYPE_CHECKING:`` too (a
type named in an annotation is a dependency a reader follows like any other; where
two modules would name each other's types, a ``Protocol`` in the lower one says what
it reads). Importing ``a.b.c`` runs the ``__init__`` of ``a`` and ``a.b`` too, so those
are edges as well (except the importing module's own packages, which are already
loaded). So a package's ``__init__`` stays a docstring: code that imports lives in a
named module.

The floors (:data:`FLOORS`), from the bottom: the values a gate states; the private
helpers; the signing primitives; the policy; the suite and its tests' outcomes; the gate
API, whose context names the policy and the outcomes; the records a run reads and writes; the
gates; the run; the reports that read its results; the session that wires a run, its
reports and its ledger record into pytest; the entry points. A module may import its
own floor and those below it.
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


#: The floors of the package, from the bottom; a module's floor is that of the longest
#: name here it is or lies under (the package itself is the top floor).
FLOORS: tuple[tuple[str, ...], ...] = (
    # The values a gate states, and the modules run by path in the project's Python (a
    # worker imports nothing of the package).
    ("pytest_promote.result", "pytest_promote.gates.secrets.worker",
     "pytest_promote.gates.secrets.filters", "pytest_promote.gates.secrets.plugins",
     "pytest_promote.gates.coverage.worker"),
    ("pytest_promote._util",),  # private helpers, no pytest
    ("pytest_promote.ledger.signing",),  # DSSE envelopes, keys, allowed signers, statements
    # [tool.promote] and the --promote-* options -> frozen values
    ("pytest_promote.policy", "pytest_promote.runner.options"),
    # The suite and what its tests did, as a gate reads them (the run fills them in), and
    # the environment of the processes that judge the project
    ("pytest_promote.runner.canonical", "pytest_promote.runner.suite", "pytest_promote.runner.testlog",
     "pytest_promote.gates.environ"),
    ("pytest_promote.api",),  # the gate API: a gate's base class and its context
    ("pytest_promote.ledger",),  # its records, approvals and attestation (signing is below the policy)
    ("pytest_promote.gates",),
    ("pytest_promote.runner",),
    ("pytest_promote.report",),
    ("pytest_promote.runner.session", "pytest_promote.runner.precheck", "pytest_promote.report.status"),
    ("pytest_promote.plugin", "pytest_promote.hookspecs", "pytest_promote.cli",
     "pytest_promote.__main__", "pytest_promote"),
)


def floor_of(module: str, floors: tuple[tuple[str, ...], ...] = FLOORS) -> int:
    """The index in ``floors`` of the longest name ``module`` is or lies under."""
    found = [
        (len(name), index) for index, names in enumerate(floors) for name in names
        if module == name or module.startswith(name + ".")
    ]
    if not found:
        raise AssertionError(f"{module} is on no floor: add it to FLOORS")
    return max(found)[1]


def upward(edges: dict[str, set[str]], packages: set[str],
           floors: tuple[tuple[str, ...], ...] = FLOORS) -> list[str]:
    """Each import of a module from a higher floor, as ``importer -> imported``. A
    package's ``__init__`` that imports nothing (a docstring) carries no dependency,
    so importing it is on no floor."""
    return sorted(
        f"{module} -> {target}"
        for module, targets in edges.items() for target in targets
        if not (target in packages and not edges[target])
        and floor_of(target, floors) > floor_of(module, floors)
    )


def imports(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    """The package's modules that module ``name`` imports, with the packages whose
    ``__init__`` that import runs."""

    def owner(dotted: str) -> str | None:  # the module a dotted name lives in
        while dotted and dotted not in known:
            dotted = dotted.rpartition(".")[0]
        return dotted or None

    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    here = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str | None] = set()
    for node in ast.walk(tree):
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


def test_no_module_imports_a_higher_floor() -> None:
    known = modules(PACKAGE)
    packages = {name for name, path in known.items() if path.name == "__init__.py"}
    found = upward(graph(PACKAGE), packages)
    assert not found, "imports from a lower floor to a higher one (see FLOORS):\n" + "\n".join(found)


def imported(tree: ast.Module, skipped: set[int] | None = None) -> set[str]:
    """The module names ``tree`` imports anywhere (inside functions too), except in the
    nodes ``skipped``."""
    skipped = skipped or set()
    names = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) and id(node) not in skipped
             for alias in node.names}
    names |= {node.module or "" for node in ast.walk(tree)
              if isinstance(node, ast.ImportFrom) and id(node) not in skipped}
    return names


def test_the_public_api_loads_only_the_standard_library() -> None:
    """``pytest_promote.api`` is what a custom gate imports: it loads nothing heavy. The
    modules of the package it loads (the values it re-exports, their packages) import
    only the standard library and each other, outside type checking."""
    known = modules(PACKAGE)
    loaded, todo, outside = set(), ["pytest_promote.api"], set()
    while todo:
        name = todo.pop()
        if name in loaded:
            continue
        loaded.add(name)
        todo += [".".join(name.split(".")[:k]) for k in range(1, name.count(".") + 1)]  # its packages
        tree = ast.parse(known[name].read_text(encoding="utf-8"))
        for module in imported(tree, _type_checking_only(tree)):
            if module in known:
                todo.append(module)
            elif module.partition(".")[0] not in sys.stdlib_module_names | {"__future__"}:
                outside.add(f"{name} imports {module}")
    assert {"pytest_promote.result", "pytest_promote.policy.stage"} <= loaded
    assert not outside, sorted(outside)


def importing_pytest(package: Path, under: str) -> list[str]:
    """The modules of ``package`` under the dotted name ``under`` that import pytest (or
    its ``_pytest`` internals): at the top, inside a function or only for a type."""
    return sorted(
        name for name, path in modules(package).items()
        if (name == under or name.startswith(under + "."))
        and {n.partition(".")[0] for n in imported(ast.parse(path.read_text(encoding="utf-8")))}
        & {"pytest", "_pytest"}
    )


def test_the_private_helpers_import_no_pytest() -> None:
    """``_util`` holds helpers any floor may use, in a pytest run or not: none imports pytest."""
    found = importing_pytest(PACKAGE, "pytest_promote._util")
    assert not found, "modules of _util importing pytest (move what needs it up a floor):\n" + "\n".join(found)


def test_an_import_of_pytest_is_found_and_named(tmp_path: Path) -> None:
    """The check itself: an import of pytest inside a function or only for a type counts;
    a module whose name merely starts with ``pytest`` does not, nor one outside ``under``."""
    sources = {
        "__init__.py": "import pytest\n",
        "util/__init__.py": "",
        "util/plain.py": "import pytest_promote.api\nfrom pytest_other import x\n",
        "util/lazy.py": "def f():\n    import pytest\n",
        "util/typed.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from _pytest.config import Config\n",
    }
    for name, text in sources.items():
        (tmp_path / "pkg" / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "pkg" / name).write_text(text)
    assert importing_pytest(tmp_path / "pkg", "pkg.util") == ["pkg.util.lazy", "pkg.util.typed"]



def test_a_cycle_is_found_and_named(tmp_path: Path) -> None:
    """The check itself: lazy, relative and TYPE_CHECKING imports count, and importing
    a package's module runs (so depends on) the package's ``__init__``."""
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
    assert edges["pkg.d"] == {"pkg.a"}
    assert cycles(edges) == [["pkg.a", "pkg.sub.b", "pkg.c", "pkg.a"]]
    (pkg / "c.py").write_text("import json\n")
    assert cycles(graph(pkg)) == []
    (pkg / "c.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg import a\n")
    assert cycles(graph(pkg)) == [["pkg.a", "pkg.sub.b", "pkg.c", "pkg.a"]]
    (pkg / "sub" / "__init__.py").write_text("def f():\n    from pkg import c\n")
    (pkg / "c.py").write_text("from pkg import a\n")
    assert cycles(graph(pkg)) == [["pkg.a", "pkg.sub", "pkg.c", "pkg.a"]]


def test_an_upward_import_is_found_and_named(tmp_path: Path) -> None:
    """The check itself: an import from a lower floor to a higher one fails, naming both
    modules, whether it runs or only names a type; one down, or within a floor, does
    not; nor does importing a package whose ``__init__`` is a docstring."""
    pkg = tmp_path / "pkg"
    (pkg / "low").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "low" / "__init__.py").write_text('"""The bottom floor."""\n')
    (pkg / "low" / "values.py").write_text("import json\n")
    (pkg / "low" / "helpers.py").write_text("from pkg.low import values\n")
    (pkg / "high.py").write_text("from pkg.low.values import *\n")
    floors = (("pkg.low",), ("pkg.high", "pkg"))
    packages = {"pkg", "pkg.low"}
    assert upward(graph(pkg), packages, floors) == []
    (pkg / "low" / "helpers.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg.high import Thing\n"
    )
    assert upward(graph(pkg), packages, floors) == ["pkg.low.helpers -> pkg.high"]
    (pkg / "low" / "helpers.py").write_text("def f():\n    from pkg import high\n")
    assert upward(graph(pkg), packages, floors) == ["pkg.low.helpers -> pkg.high"]
    assert floor_of("pkg.low.helpers", floors) == 0 and floor_of("pkg.other", floors) == 1


@pytest.mark.parametrize("module", ["pytest_promote.runner.session", "pytest_promote.plugin"])
def test_no_gate_imports_the_session(module: str) -> None:
    edges = graph(PACKAGE)
    importers = sorted(m for m, targets in edges.items() if module in targets)
    assert not [m for m in importers if m.startswith("pytest_promote.gates")], importers
