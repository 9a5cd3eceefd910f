"""This repository's own promotion gates: the invariants that must hold for it to ship.

They are tests, not gate code (the gates pytest-promote ships live in
``pytest_promote/gates/``). Each is marked ``invariant``; the repository's policy
requires the ``invariants`` gate in production, so ``pytest --promote-to=production``
collects this directory (a ``testpaths`` entry) and counts them on every promotion.
"""

from __future__ import annotations

import ast
import re
import tomllib
from pathlib import Path

import pytest

from pytest_promote.gates import builtin
from pytest_promote.policy import loader
from pytest_promote.report.json_report import SCHEMA_VERSION

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
DOCS = ROOT / "docs"
PACKAGE = ROOT / "pytest_promote"


def doc(page: str) -> str:
    """A page of the documentation site (docs/, built with mkdocs)."""
    return (DOCS / page).read_text(encoding="utf-8")


def builtin_kinds() -> dict[str, type]:
    return dict(builtin.pytest_promote_gate_kinds())


@pytest.mark.invariant
def test_every_builtin_gate_is_documented() -> None:
    """Each kind has its page, in the site's navigation and the README's gate table."""
    nav = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    missing = []
    for kind in builtin_kinds():
        page = DOCS / "gates" / f"{kind}.md"
        title = page.read_text(encoding="utf-8").splitlines()[0] if page.is_file() else ""
        if not title.startswith(f"# {kind}") or f"gates/{kind}.md" not in nav \
                or f"(docs/gates/{kind}.md)" not in README:
            missing.append(kind)
    assert not missing, f"gate kinds without a page in docs/gates, the nav or the README: {missing}"


@pytest.mark.invariant
def test_report_schema_version_is_the_documented_one() -> None:
    assert f'(`"schema": {SCHEMA_VERSION}`)' in doc("outputs.md")


@pytest.mark.invariant
def test_every_option_is_documented() -> None:
    source = (PACKAGE / "plugin.py").read_text(encoding="utf-8")
    options = set(re.findall(r'"(--promote-[a-z-]+)"', source))
    assert options, "no options found in plugin.py"
    table = doc("usage.md")
    missing = sorted(o for o in options if f"| `{o}" not in table)
    assert not missing, f"options missing from the options table in docs/usage.md: {missing}"


@pytest.mark.invariant
def test_default_policy_is_valid_and_as_documented() -> None:
    pol = loader.load(None, "embedded default policy", builtin_kinds())
    dev, staging, prod = pol.stages
    assert (dev.accept, staging.accept, prod.accept) == ("yellow", "green", "green")
    for stage, minimum in ((dev, 60), (staging, 70), (prod, 80)):
        assert stage.options["coverage"].min == minimum
        assert f"coverage {minimum}" in doc("policy.md")
        assert f"coverage {minimum}" in README or f"coverage` {minimum}" in README
    assert [s.gates for s in (staging, prod)] and all("path" in s.gates for s in (staging, prod))
    assert "`path`" in README and "[`path` gate](gates/path.md)" in doc("policy.md")


@pytest.mark.invariant
def test_readme_links_resolve() -> None:
    """The README is short and links into docs/: every relative link names a file."""
    links = re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", README)
    assert links
    broken = [link for link in links if not (ROOT / link).is_file()]
    assert not broken, f"README links to files that do not exist: {broken}"
    assert len(README.splitlines()) <= 300, "the README is an overview; reference goes to docs/"


@pytest.mark.invariant
def test_only_public_pytest_api() -> None:
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [f"{path.name}: {n}" for n in names if n.split(".")[0] == "_pytest"]
    assert not offenders


@pytest.mark.invariant
def test_every_gate_kind_has_tests() -> None:
    test_files = list((ROOT / "tests").glob("test_*.py"))
    tests = " ".join(p.read_text(encoding="utf-8") for p in test_files)
    untested = []
    for kind, cls in builtin_kinds().items():
        module = cls.__module__
        stem = module.rsplit(".", 1)[-1]
        if module not in tests and not any(stem in t.name for t in test_files):
            untested.append(kind)
    assert not untested, f"gate kinds no test module names: {untested}"


@pytest.mark.invariant
def test_ships_type_information() -> None:
    assert (PACKAGE / "py.typed").is_file()
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "py.typed" in project["tool"]["setuptools"]["package-data"]["pytest_promote"]
