"""The base install runs no tool gate: a gate whose tool is missing errors, naming the
extra to install, and the stage is not accepted."""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

import pytest
from toolenv import bare_python, run_bare

pytestmark = pytest.mark.supported_range

ROOT = Path(__file__).resolve().parent.parent

#: gate -> (its table, the modules its extra installs, the extra)
GATES = {
    "lint": ("", ("ruff",), "lint"),
    "types": ("", ("pyright",), "types"),
    "secrets": ("", ("detect_secrets",), "secrets"),
    "deps": ('[tool.promote.gates.deps]\nallowed_licenses = ["MIT"]\n', (
        "cyclonedx", "license_expression", "packageurl"
    ), "sbom"),
}


@pytest.mark.parametrize("gate", sorted(GATES))
def test_missing_tool_fails_closed_naming_the_extra(
    gate: str, pytester: pytest.Pytester, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    table, modules, extra = GATES[gate]
    pytester.makepyprojecttoml(
        '[project]\nname = "demo"\nversion = "0"\n\n'
        f'[tool.promote]\nstages = ["dev"]\n{table}'
        f'[tool.promote.stage.dev]\nrequired = ["tests", "{gate}"]\n'
    )
    pytester.makepyfile(test_app="def test_ok():\n    pass\n")
    python = bare_python(tmp_path, without=modules)

    result = run_bare(pytester, monkeypatch, python, [python.parent], "--promote-to=dev")

    assert result.ret == 1
    result.stdout.fnmatch_lines([f"{gate}: * not *", f"*{gate}*required*error*"])
    assert f'install it: pip install "pytest-promote[{extra}]"' in result.stdout.str()
    result.assert_outcomes(passed=2, failed=2)  # test_ok and the tests gate


def project() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]


def test_base_install_is_pytest_pluggy_coverage_packaging_and_pathspec() -> None:
    names = sorted(dep.split(">")[0] for dep in project()["dependencies"])

    assert names == ["coverage", "packaging", "pathspec", "pluggy", "pytest"]


def test_each_gate_extra_is_declared_and_in_all() -> None:
    extras = project()["optional-dependencies"]

    for _, _, extra in GATES.values():
        assert extras[extra], f"extra {extra} installs nothing"
    assert extras["all"] == ["pytest-promote[lint,types,secrets,sbom,sign,html]"]
    assert extras["html"] == ["jinja2>=3.1"]
    assert extras["sign"] == ["cryptography>=45.0.1"]


def test_signing_without_its_extra_fails_closed_naming_it(
    pytester: pytest.Pytester, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Unsigned runs need no crypto library; asking for a signature without it is a
    usage error naming the extra, before any test runs."""
    pytester.makepyprojecttoml('[tool.promote]\nstages = ["dev"]\n[tool.promote.stage.dev]\nrequired = ["tests"]\n')
    pytester.makepyfile(test_app="def test_ok():\n    pass\n")
    empty = "-----BEGIN PRIVATE KEY-----\n-----END PRIVATE KEY-----\n"  # pragma: allowlist secret
    (pytester.path / "k.pem").write_text(empty)
    python = bare_python(tmp_path, without=("cryptography",))

    assert run_bare(pytester, monkeypatch, python, [python.parent], "--promote-to=dev").ret == 0
    result = run_bare(pytester, monkeypatch, python, [python.parent], "--promote-to=dev", "--promote-sign-key=k.pem")

    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert 'need the cryptography library: pip install "pytest-promote[sign]"' in result.stderr.str()


def test_the_page_without_its_extra_fails_closed_naming_it(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The page needs Jinja2 (the [html] extra): without it, ``--promote-html`` is a
    usage error before any test runs, and ``report html`` says the same."""
    from pytest_promote.cli.main import main

    pytester.makepyprojecttoml('[tool.promote]\nstages = ["dev"]\n[tool.promote.stage.dev]\nrequired = ["tests"]\n')
    pytester.makepyfile(test_app="def test_ok():\n    pass\n")
    monkeypatch.setitem(sys.modules, "jinja2", None)  # what importing it finds: nothing
    result = pytester.runpytest("--promote-to=dev", "--promote-html=page")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "--promote-html: drawing the page needs Jinja2; install it with pip install 'pytest-promote[html]'" \
        in result.stderr.str()
    monkeypatch.chdir(pytester.path)
    assert main(["report", "html", "--out", "page"]) == 4
    assert not (pytester.path / "page").exists()


def test_declared_dependencies_cover_every_import() -> None:
    """Each third-party module the package imports (at any depth, in any function)
    belongs to a distribution the base install or an extra declares."""
    import ast
    import importlib.metadata
    import sys

    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    imported: set[str] = set()
    for source in (ROOT / "pytest_promote").rglob("*.py"):
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                imported.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                imported.add(node.module.split(".")[0])
    third_party = imported - set(sys.stdlib_module_names) - {"pytest_promote"}
    providers = importlib.metadata.packages_distributions()
    extras = project()["optional-dependencies"].values()
    declared = {
        canonicalize_name(Requirement(text).name)
        for text in [*project()["dependencies"], *(text for extra in extras for text in extra)]
    }

    undeclared = {
        module: providers.get(module)
        for module in sorted(third_party)
        if not {canonicalize_name(d) for d in providers.get(module, [])} & declared
    }
    assert not undeclared, f"imported but not declared (module: distributions): {undeclared}"
