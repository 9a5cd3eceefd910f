"""``--promote-component=all|auto``: several components judged in one pytest session,
in real git repositories, each with its own verdict, outputs and ledger record."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from gitrepo import NO_CACHE, Repo, environ
from test_components import LINT_AND_COVERAGE, monorepo, promote, report

from pytest_promote._util.redact import MASK
from pytest_promote.cli.main import main
from pytest_promote.ledger.records import records


def part(data: dict, name: str) -> dict:
    """Component ``name``'s report in a report of several components."""
    return next(r for r in data["components"] if r["component"] == name)


def gate_of(data: dict, name: str, gid: str) -> dict:
    return next(g for g in part(data, name)["gates"] if g["id"] == gid)


def test_all_judges_each_component_and_fails_when_one_is_not_accepted(pytester, monkeypatch, capsys) -> None:
    repo = monorepo(pytester, monkeypatch, ["alpha", "beta"], failing=("beta",))
    summary = pytester.path.parent / "summary.md"
    result = promote(pytester, "development", "all", "--junitxml=j.xml", f"--promote-summary={summary}")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines([
        "promote: --promote-component=all: every component (alpha, beta)",
        "promote: component alpha: its tests (tests/alpha/), its gates over src/alpha tests/alpha",
        "promote: component beta: its tests (tests/beta/), its gates over src/beta tests/beta",
    ])
    result.stdout.fnmatch_lines([
        "component alpha, stage development: GREEN: accepted, development accepts yellow",
        "*tests  required  passed     measured 2 passed, 0 failed*",
        "component beta, stage development: RED (required gate tests failed): not accepted*",
        "*tests  required  failed     measured 2 passed, 1 failed*",
        "*= promotion of components =*",
        "alpha  development: GREEN: accepted*",
        "beta   development: RED (required gate tests failed): not accepted*",
        "failed: beta (the exit status fails when any component's decision fails: see the last lines)",
        "ledger: recorded component alpha development GREEN on *",
        "ledger: recorded component beta development RED on *",
    ])
    assert result.outlines[-2:] == [
        "component alpha: accepted: GREEN, development accepts yellow",
        "component beta: not accepted: RED (required gate tests failed), development accepts yellow",
    ]

    # JUnit: each component's gate items under a name of its own, its verdict in
    # properties named after it.
    suite = ET.parse(pytester.path / "j.xml").getroot().find("testsuite")
    assert suite is not None
    cases = {(c.get("classname"), c.get("name")): c for c in suite.iter("testcase")}
    assert {k for k in cases if k[0].startswith("promote")} == {
        ("promote.alpha", "tests"), ("promote.alpha", "scorecard"),
        ("promote.beta", "tests"), ("promote.beta", "scorecard")}
    assert cases["promote.alpha", "scorecard"].find("failure") is None
    assert cases["promote.beta", "scorecard"].find("failure") is not None
    props = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert (props["promote[alpha].accepted"], props["promote[beta].accepted"]) == ("true", "false")
    assert props["promote[beta].tests.status"] == "failed"
    assert "promote.accepted" not in props

    # The JSON report: each component's report, as its own run would write it.
    data = report(pytester)
    assert data["accepted"] is False
    assert [(r["component"], r["colour"], r["accepted"]) for r in data["components"]] == [
        ("alpha", "green", True), ("beta", "red", False)]
    assert gate_of(data, "beta", "tests")["measured"] == "2 passed, 1 failed"
    assert part(data, "alpha")["partial"] is None and part(data, "beta")["partial"] is None

    headings = [line for line in summary.read_text().splitlines() if line.startswith("## ")]
    assert headings == [
        "## Promotion of component alpha to development: GREEN, accepted",
        "## Promotion of component beta to development: RED, not accepted: RED (required gate "
        "tests failed), development accepts yellow",
    ]

    # Two records, one per component; each satisfies its own component's path gate only.
    written = records(repo.path)
    assert sorted((r.component, r.stage, r.colour, r.proves) for r in written) == [
        ("alpha", "development", "green", True), ("beta", "development", "red", False)]
    # verify takes the named component's report from it, as its own run's.
    path, root = str(pytester.path / "r.json"), ("--root", str(pytester.path))
    assert main(["verify", path, "--stage", "development", "--component", "alpha", *root]) == 0
    assert "OK: GREEN promotion of component alpha of " in capsys.readouterr().out
    assert main(["verify", path, "--stage", "development", "--component", "beta", *root]) == 1
    assert "not accepted" in capsys.readouterr().err
    assert main(["verify", path, "--stage", "development", *root]) == 1
    assert "it holds the reports of several components (alpha, beta); verify one of them with --component NAME" in (
        capsys.readouterr().err)
    assert main(["verify", path, "--stage", "development", "--component", "gamma", *root]) == 1
    assert "it holds no report of component 'gamma' (only of alpha, beta)" in capsys.readouterr().err

    assert promote(pytester, "staging", "alpha").ret == 0
    assert next(g for g in report(pytester)["gates"] if g["id"] == "path")["status"] == "passed"
    assert promote(pytester, "staging", "beta").ret == 1
    assert next(g for g in report(pytester)["gates"] if g["id"] == "path")["status"] == "failed"
    assert promote(pytester, "staging", None).ret == 1  # nor the whole repository's


def test_all_records_signed_like_any_other(pytester, monkeypatch) -> None:
    import subprocess

    repo = monorepo(pytester, monkeypatch, ["alpha", "beta"])
    key = pytester.path.parent / f"{pytester.path.name}-key"  # out of the tree: a committed run
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    result = promote(pytester, "development", "all", f"--promote-sign-key={key}")
    assert result.ret == 0, result.stdout.str()
    written = records(repo.path)
    assert sorted(r.component for r in written) == ["alpha", "beta"]
    assert all(r.attestation for r in written)
    assert all(part(report(pytester), n)["signature"].startswith("signed") for n in ("alpha", "beta"))


def test_each_component_s_selection_is_its_own_no_false_green(pytester, monkeypatch) -> None:
    monorepo(pytester, monkeypatch, ["alpha", "beta"])
    fewer = promote(pytester, "development", "all", "--deselect=tests/alpha/test_alpha.py::test_two")
    assert fewer.ret == 1
    data = report(pytester)
    assert part(data, "alpha")["partial"] == {"ran": 1, "total": 2, "left_out_by": ["--deselect"]}
    assert part(data, "alpha")["colour"] == "red"
    assert (part(data, "beta")["partial"], part(data, "beta")["accepted"]) == (None, True)

    only_alpha = promote(pytester, "development", "all", "-k", "alpha")
    assert only_alpha.ret == 1
    data = report(pytester)
    assert part(data, "alpha")["accepted"] is True
    beta = part(data, "beta")
    assert (beta["colour"], beta["accepted"]) == ("red", False)
    assert beta["partial"] == {"ran": 0, "total": 2, "left_out_by": ["-k 'alpha'"]}


def test_auto_judges_only_the_components_changed_since_the_base(pytester, monkeypatch) -> None:
    repo = monorepo(pytester, monkeypatch, ["alpha", "beta"])
    nothing = promote(pytester, "development", "auto", "--promote-base=main")
    assert nothing.ret == pytest.ExitCode.NO_TESTS_COLLECTED
    nothing.stdout.fnmatch_lines([
        "promote: --promote-component=auto: changed since main@*: none; unchanged: alpha, beta",
        "promote: nothing judged: no component's tests are collected, no record is written, and "
        "the exit status is 5 (no tests collected), never a pass",
    ])
    assert not (pytester.path / "r.json").exists()
    assert records(repo.path) == []

    repo.git("checkout", "-q", "-b", "feature")
    repo.commit("beta answers differently", {"src/beta/core.py": "def answer():\n    return 41 + 1\n"})
    result = promote(pytester, "development", "auto", "--promote-base=main")
    assert result.ret == 0, result.stdout.str()
    result.stdout.fnmatch_lines(["promote: --promote-component=auto: changed since main@*: beta; unchanged: alpha"])
    assert "test_alpha" not in result.stdout.str()
    assert [r["component"] for r in report(pytester)["components"]] == ["beta"]
    assert [r.component for r in records(repo.path)] == ["beta"]

    # An uncommitted change counts too (the run is dirty: judged, never accepted).
    (pytester.path / "tests/alpha/test_alpha.py").write_text("def test_one():\n    assert True\n")
    dirty = promote(pytester, "development", "auto", "--promote-base=main", "--promote-no-ledger")
    assert [r["component"] for r in report(pytester)["components"]] == ["alpha", "beta"]
    assert dirty.ret == 0 and not report(pytester)["accepted"]


#: Both components' source holds the shared module; alpha's tests also exercise beta's code.
SHARED = {
    "src/shared/__init__.py": "",
    "src/shared/util.py": textwrap.dedent("""
        def double(x):
            return 2 * x


        def triple(x):
            return 3 * x
    """),
    "src/beta/core.py": textwrap.dedent("""
        def answer():
            return 42


        def branchy(x):
            if x > 0:
                return "positive"
            if x < 0:
                return "negative"
            return "zero"
    """),
    "tests/alpha/test_reach.py": textwrap.dedent("""
        from beta.core import branchy
        from shared.util import double, triple

        def test_reaches_into_beta():
            assert [branchy(1), branchy(-1), branchy(0)] == ["positive", "negative", "zero"]
            assert double(2) == 4 and triple(2) == 6
    """),
}


def coverage_of(name: str, data: dict) -> tuple[str, list[str]]:
    """Component ``name``'s coverage in ``data``: its figure and its files with findings."""
    entry = gate_of(data, name, "coverage") if "components" in data else next(
        g for g in data["gates"] if g["id"] == "coverage")
    return entry["measured"], sorted(f["file"] for f in entry["findings"])


@pytest.fixture(scope="module")
def shared_code(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, tuple[str, list[str]]]]:
    """Two components whose sources both hold ``src/shared/``, alpha's tests reaching into
    beta's code (coverage and lint required); and each component's coverage as its own
    run alone measures it. Built and measured once: the serial and the xdist session of
    both components compare with the same runs alone, each in a copy of the repository."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        repo = monorepo(tmp_path_factory.mktemp("shared-code"), monkeypatch, ["alpha", "beta"], extra=LINT_AND_COVERAGE)
        policy_file = repo.path / "pyproject.toml"
        policy_file.write_text(policy_file.read_text().replace(
            'required = ["tests"]', 'required = ["tests", "coverage", "lint"]\ncoverage = { min = 60 }'
        ).replace('source = ["src/beta/"]', 'source = ["src/beta/", "src/shared/"]').replace(
            'source = ["src/alpha/"]', 'source = ["src/alpha/", "src/shared/"]'))
        repo.commit("shared code", {**SHARED, "src/beta/unused.py": "import os\n"})
        measured = Repo.copy(repo.path, tmp_path_factory.mktemp("alone"), monkeypatch)
        alone, env = {}, environ(tmp_path_factory.mktemp("home"))
        for name in ("alpha", "beta"):
            subprocess.run([sys.executable, "-m", "pytest", "--promote-to=development", f"--promote-component={name}",
                            "--promote-report=r.json", "--promote-no-ledger", *NO_CACHE],
                           cwd=measured.path, env=env, capture_output=True, check=False, timeout=300)
            alone[name] = coverage_of(name, json.loads((measured.path / "r.json").read_text()))
    return repo.path, alone


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["serial", "xdist"])
def test_each_component_s_coverage_counts_its_own_tests_only(pytester, monkeypatch, workers, shared_code) -> None:
    """beta's tests never call ``branchy`` (alpha's do): in a session of both, beta's
    coverage is what its own run measures, not what alpha's tests added; the module
    both components' source holds is judged in each."""
    built, alone = shared_code
    Repo.copy(built, pytester.path, monkeypatch)
    assert alone["alpha"][0] == "100%"
    assert float(alone["beta"][0].rstrip("%")) < 60  # branchy untested, util untested

    both = pytester.runpytest_subprocess("--promote-to=development", "--promote-component=all",
                                         "--promote-report=r.json", "--promote-no-ledger", *NO_CACHE, *workers)
    assert both.ret == 1, both.stdout.str()
    data = report(pytester)
    assert {n: coverage_of(n, data) for n in ("alpha", "beta")} == alone, alone
    assert "src/shared/util.py" in coverage_of("beta", data)[1]
    assert (part(data, "alpha")["accepted"], part(data, "beta")["accepted"]) == (True, False)
    assert gate_of(data, "alpha", "lint")["summary"] == (
        "lint: ruff check found nothing in src/alpha src/shared tests/alpha")
    assert [f["file"] for f in gate_of(data, "beta", "lint")["findings"]] == ["src/beta/unused.py"]


def coverage_only(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two components whose development requires coverage alone."""
    monorepo(pytester, monkeypatch, ["alpha", "beta"], extra=LINT_AND_COVERAGE)
    policy_file = pytester.path / "pyproject.toml"
    policy_file.write_text(policy_file.read_text().replace(
        'required = ["tests"]', 'required = ["coverage"]\ncoverage = { min = 10 }'))


def assert_coverage_error(pytester: pytest.Pytester, said: str) -> None:
    """Each component's coverage gate is an error saying ``said``."""
    for name in ("alpha", "beta"):
        coverage = gate_of(report(pytester), name, "coverage")
        assert coverage["status"] == "error"
        assert said in coverage["summary"]


def test_data_not_measured_per_component_fails_closed(pytester, monkeypatch) -> None:
    """--promote-only reads a data file no session of several components wrote: each
    component's coverage is an error, never the whole data."""
    coverage_only(pytester, monkeypatch)
    pytester.runpytest_subprocess("--promote-to=development", "--promote-no-ledger", *NO_CACHE)
    assert (pytester.path / ".coverage").is_file()
    only = pytester.runpytest_subprocess("--promote-to=development", "--promote-component=all", "--promote-only",
                                         "--promote-report=r.json", "--promote-no-ledger", *NO_CACHE)
    assert only.ret == 1
    assert_coverage_error(pytester, "the data was not measured per component")


def test_status_of_all_components(pytester, monkeypatch) -> None:
    monorepo(pytester, monkeypatch, ["alpha", "beta"])
    assert promote(pytester, "development", "all").ret == 0
    status = pytester.runpytest("--promote-status", "--promote-component=all", *NO_CACHE)
    assert status.ret == 0
    assert "(repository)" not in status.stdout.str()
    status.stdout.fnmatch_lines(["alpha * development * GREEN *", "beta * development * GREEN *"])
    rows = json.loads(pytester.runpytest("--promote-status", "--promote-json", "--promote-component=all",
                                         *NO_CACHE).stdout.str())
    assert {r["component"] for r in rows["stages"]} == {"alpha", "beta"}


def test_contexts_someone_else_set_fail_closed(pytester, monkeypatch) -> None:
    """pytest-cov's --cov-context names each test its own way: the data cannot be told
    apart by component, so no component's coverage is judged from it."""
    coverage_only(pytester, monkeypatch)
    result = pytester.runpytest_subprocess(
        "--promote-to=development", "--promote-component=all", "--cov=src", "--cov-context=test",
        "--promote-report=r.json", "--promote-no-ledger", *NO_CACHE)
    assert result.ret == 1
    assert_coverage_error(pytester, "the data holds coverage contexts pytest-promote did not set (tests/")


#: Found by beta's secrets scan (a keyword's value), shown alone by alpha's deploy gate.
PASSWORD = "Xq7-lantern-Moss-41"  # pragma: allowlist secret


def test_a_secret_one_component_finds_is_masked_in_every_component_s_output(pytester, monkeypatch) -> None:
    """Every component's secrets scan runs before any other gate: alpha's command gate,
    whose items come before beta's scan, must not show what that scan finds."""
    repo = monorepo(pytester, monkeypatch, ["alpha", "beta"], extra=textwrap.dedent("""
        [tool.promote.gates.deploy]
        command = "cut -d'\\"' -f2 src/beta/settings.py; exit 1"
        shell = true
    """))
    policy_file = pytester.path / "pyproject.toml"
    repo.commit("beta's settings, a deploy gate", {
        "src/beta/settings.py": f'password = "{PASSWORD}"\n',
        "pyproject.toml": policy_file.read_text().replace(
            'required = ["tests"]', 'required = ["tests", "deploy", "secrets"]'),
    })
    result = promote(pytester, "development", "all", "--junitxml=j.xml", "-rA")
    assert result.ret == 1
    data = report(pytester)
    assert [gate_of(data, n, "secrets")["status"] for n in ("alpha", "beta")] == ["passed", "failed"]
    for name in ("alpha", "beta"):  # each deploy gate ran, and its output is masked
        deploy = gate_of(data, name, "deploy")
        assert deploy["status"] == "failed"
        assert MASK in json.dumps(deploy)
    outputs = [result.stdout.str(), result.stderr.str(), (pytester.path / "j.xml").read_text(),
               (pytester.path / "r.json").read_text()]
    assert not [text for text in outputs if PASSWORD in text]
