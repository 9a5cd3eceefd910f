"""The coverage gate against the real coverage.py, on small projects.

Each measuring run is a fresh process (``runpytest_subprocess``): tracers and xdist
workers need one; a ``--promote-only`` run, which starts no tracer and reads the data
file, runs in this process. The gate's numbers are compared with ``coverage report``'s TOTAL
on the same project.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import sys
from typing import Any

import pytest
from children import PYTEST_INI
from coverage import Coverage, CoverageData
from coverage.exceptions import CoverageException

from pytest_promote.gates.coverage import analysis, sources
from pytest_promote.gates.coverage.analysis import analyse
from pytest_promote.gates.coverage.gate import CoverageGate, CoverageOptions
from pytest_promote.gates.tests import TestsGate
from pytest_promote.policy.loader import load

MODULE = """
def covered(x):
    if x > 0:
        return "positive"
    return "other"


def uncovered():
    a = 1
    return a
"""

TEST = """
from pkg.mod import covered


def test_covered():
    assert covered(1) == "positive"
"""


def policy(coverage: str = "{ min = 50 }", gates: str = '["tests", "coverage"]') -> str:
    """A one-stage ``[tool.promote]`` table named ``staging``."""
    return f"""
[tool.promote]
stages = ["staging"]

[tool.promote.stage.staging]
required = {gates}
coverage = {coverage}
{PYTEST_INI}"""


def project(pytester: pytest.Pytester, coverage_toml: str = "", **promote: str) -> None:
    """``pkg/mod.py`` (partly covered) and its test, with the given settings."""
    pytester.makepyprojecttoml(
        '[tool.coverage.run]\nsource = ["pkg"]\n' + coverage_toml + policy(**promote)
    )
    pkg = pytester.mkpydir("pkg")
    (pkg / "mod.py").write_text(MODULE)
    pytester.makepyfile(test_mod=TEST)


def promote(pytester: pytest.Pytester, *args: str) -> tuple[pytest.RunResult, dict[str, Any]]:
    """``pytest --promote-to=staging`` in a fresh process; the coverage gate's entry."""
    result = pytester.runpytest_subprocess(
        "--promote-to=staging", "--promote-report=promote.json", "-p", "no:cacheprovider", *args
    )
    report = json.loads((pytester.path / "promote.json").read_text())
    gate = next(g for g in report["gates"] if g["id"] == "coverage")
    return result, gate


def coverage_cmd(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    """The real ``coverage`` command line, in the project."""
    return pytester.run(sys.executable, "-m", "coverage", *args)


def coverage_total(pytester: pytest.Pytester) -> str:
    """``coverage report``'s TOTAL percentage, as printed: what the command line does
    (the project's settings and data file, from its directory), in this process."""
    printed = io.StringIO()
    with contextlib.chdir(pytester.path):
        reporter = Coverage()
        reporter.load()
        reporter.report(file=printed)
    match = re.search(r"^TOTAL\s.*?(\d+(?:\.\d+)?%)\s*$", printed.getvalue(), re.MULTILINE)
    assert match, printed.getvalue()
    return match.group(1)


def plain_coverage_total(pytester: pytest.Pytester) -> str:
    """``coverage run -m pytest`` then ``coverage report``: the number to match."""
    (pytester.path / ".coverage").unlink(missing_ok=True)
    run = coverage_cmd(pytester, "run", "-m", "pytest", "-q", "-p", "no:cacheprovider")
    assert run.ret == 0, run.stdout.str()
    return coverage_total(pytester)


@pytest.mark.supported_range
def test_total_equals_coverage_report(pytester: pytest.Pytester) -> None:
    project(pytester)
    result, gate = promote(pytester)
    result.assert_outcomes(passed=4)
    assert gate["status"] == "passed"
    assert gate["measured"] == "57%"  # 4 of 7 statements
    assert gate["summary"] == "coverage 57% >= 50% required for staging"
    # The data is left where `coverage report` looks, and reads the same.
    assert coverage_total(pytester) == "57%"
    assert plain_coverage_total(pytester) == "57%"


def test_session_fixture_teardown_is_counted(pytester: pytest.Pytester) -> None:
    project(pytester)
    (pytester.path / "pkg" / "resource.py").write_text(
        "class Resource:\n    def close(self):\n        self.closed = True\n"
    )
    pytester.makeconftest(
        """
        import pytest
        from pkg.resource import Resource

        @pytest.fixture(scope="session", autouse=True)
        def resource():
            r = Resource()
            yield r
            r.close()  # runs after the last test, before the gates
        """
    )
    result, gate = promote(pytester)
    result.assert_outcomes(passed=4)
    # 7/10: without close()'s body, 6/10
    assert gate["measured"] == "70%" == plain_coverage_total(pytester)


@pytest.mark.supported_range
def test_branch_coverage_and_precision(pytester: pytest.Pytester) -> None:
    settings = "branch = true\n[tool.coverage.report]\nprecision = 2\n"
    project(pytester, settings, coverage="{ min = 90 }")
    result, gate = promote(pytester)
    result.assert_outcomes(passed=2, failed=2)
    # 4/7 statements and 1/2 branches: (4 + 1) / (7 + 2)
    assert gate["measured"] == "55.56%"
    assert gate["measured"] == plain_coverage_total(pytester)
    result.stdout.fnmatch_lines([
        "coverage 55.56% < 90% required for staging",
        "pkg/mod.py: covered 55.56% (3 missing lines, 1 missing branch)",
    ])


def test_omit_is_honoured(pytester: pytest.Pytester) -> None:
    project(pytester, '[tool.coverage.report]\nomit = ["pkg/legacy.py"]\n')
    (pytester.path / "pkg" / "legacy.py").write_text("A = 1\nB = 2\nC = 3\nD = 4\n")
    result, gate = promote(pytester)
    result.assert_outcomes(passed=4)  # 4/11 = 36% if legacy.py counted
    assert gate["measured"] == "57%" == plain_coverage_total(pytester)


def test_failure_names_the_least_covered_files(pytester: pytest.Pytester) -> None:
    project(pytester, coverage="{ min = 80, files = 2 }")
    pkg = pytester.path / "pkg"
    (pkg / "worst.py").write_text("def f():\n    return 1\n")  # 1 of 2 statements
    (pkg / "full.py").write_text("X = 1\n")
    pytester.makepyfile(test_more="import pkg.full\nimport pkg.worst\n\ndef test_imports(): pass\n")
    result, gate = promote(pytester)
    result.assert_outcomes(passed=3, failed=2)
    result.stdout.fnmatch_lines([
        "coverage 60% < 80% required for staging",
        "pkg/worst.py: covered 50% (1 missing line)",
        "pkg/mod.py: covered 57% (3 missing lines)",
    ])
    assert gate["threshold"] == "80%"
    assert [f["file"] for f in gate["findings"]] == ["pkg/worst.py", "pkg/mod.py"]
    assert "full.py" not in result.stdout.str()


def test_per_path_minimum(pytester: pytest.Pytester) -> None:
    project(pytester, coverage='{ min = 60, paths = { "pkg/core" = 90, "pkg/mod.py" = 50 } }')
    core = pytester.mkpydir("pkg/core")
    (core / "engine.py").write_text("def run():\n    return 1\n\n\ndef idle():\n    return 0\n")
    pytester.makepyfile(test_core="from pkg.core import engine\n\ndef test_run(): engine.run()\n")
    result, gate = promote(pytester)
    result.assert_outcomes(passed=3, failed=2)
    # total 7/11 = 64% passes the minimum of 50; pkg/core (3/4 = 75%) misses its 90
    result.stdout.fnmatch_lines([
        "coverage 64%, but below the path minimum for staging: pkg/core",
        "pkg/core: paths covered 75% < 90% required",
        "pkg/core/engine.py: covered 75% (1 missing line)",
    ])
    assert "pkg/mod.py: covered" not in result.stdout.str()  # its own minimum is met
    assert gate["status"] == "failed"


launch = analysis._launch


def shared_project(pytester: pytest.Pytester) -> sources.Gathered:
    """Six modules with branches, partly covered, measured by ``coverage run``."""
    pytester.makepyprojecttoml(
        '[tool.coverage.run]\nsource = ["pkg"]\nbranch = true\n[tool.coverage.report]\nprecision = 2\n'
        + PYTEST_INI
    )
    pkg = pytester.mkpydir("pkg")
    for n in range(6):
        (pkg / f"mod{n}.py").write_text(MODULE * (n + 1))
    pytester.makepyfile(test_mods="\n".join(
        [f"from pkg.mod{n} import covered as c{n}" for n in range(5)]
        + ["", "def test_some():"] + [f"    assert c{n}({n - 2})" for n in range(5)]
    ))
    assert coverage_cmd(pytester, "run", "-m", "pytest", "-q", "-p", "no:cacheprovider").ret == 0
    data = CoverageData()
    data.read()
    return sources.Gathered(data, "read from .coverage")


def test_analysis_shared_between_workers_gives_coverage_reports_numbers(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    gathered = shared_project(pytester)
    whole = analyse(gathered, pytester.path, share_bytes=10**9)
    monkeypatch.setattr(analysis, "cores", lambda: 3)  # this process and two workers
    launched: list[object] = []
    monkeypatch.setattr(analysis, "_launch", lambda *a: launched.append(a) or launch(*a))
    shared = analyse(gathered, pytester.path, share_bytes=1)
    assert len(launched) == 2
    assert shared == whole
    assert len(shared.files) == 7  # the package's __init__ and six modules
    assert shared.total.n_branches > 0 and shared.total.n_missing_branches > 0
    assert f"{shared.total.pc_covered_str}%" == coverage_total(pytester)


def test_a_workers_coverage_error_is_the_gates_error(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    gathered = shared_project(pytester)
    (pytester.path / "pkg" / "mod5.py").unlink()  # measured, then gone
    monkeypatch.setattr(analysis, "cores", lambda: 2)
    # The largest file goes to this process; the rest, the missing one with them, to a worker.
    monkeypatch.setattr(analysis, "_size", lambda name: 10**6 if name.endswith("mod4.py") else 1)
    with pytest.raises(CoverageException, match=r"No source for code: .*mod5\.py"):
        analyse(gathered, pytester.path, share_bytes=1)


def test_promote_only_reads_the_data_file(pytester: pytest.Pytester) -> None:
    project(pytester)
    expected = plain_coverage_total(pytester)
    result = pytester.runpytest(  # in this process: it only reads the data file
        "--promote-to=staging", "--promote-only", "-p", "no:cacheprovider",
        "--promote-report=promote.json",
    )
    report = json.loads((pytester.path / "promote.json").read_text())
    gate = next(g for g in report["gates"] if g["id"] == "coverage")
    assert (gate["status"], gate["measured"]) == ("passed", expected)
    result.stdout.no_fnmatch_line("*test_covered*")  # no project test ran


def promote_only_gate(pytester: pytest.Pytester) -> dict[str, Any]:
    """The coverage gate's entry of a ``--promote-only`` run, pytest's cache on (in
    this process: such a run starts no tracer, it reads the data file)."""
    pytester.runpytest(
        "--promote-to=staging", "--promote-only", "--promote-report=promote.json"
    )
    report = json.loads((pytester.path / "promote.json").read_text())
    return next(g for g in report["gates"] if g["id"] == "coverage")


@pytest.mark.parametrize(
    "change",
    [
        lambda p: (p.path / "pkg" / "mod.py").write_text(MODULE + "\n\ndef more():\n    pass\n"),
        lambda p: coverage_cmd(p, "run", "--branch", "-m", "pytest", "-q", "-p", "no:cacheprovider"),
        lambda p: p.makepyprojecttoml(
            '[tool.coverage.run]\nsource = ["pkg"]\n[tool.coverage.report]\nprecision = 2\n'
            + policy()
        ),
    ],
    ids=["measured file edited", "data file replaced", "coverage settings changed"],
)
def test_promote_only_reuses_an_unchanged_analysis(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, change: Any
) -> None:
    monkeypatch.delenv("CI", raising=False)
    project(pytester)
    plain_coverage_total(pytester)
    cold = promote_only_gate(pytester)
    warm = promote_only_gate(pytester)
    assert not cold["cached"] and warm["cached"]
    assert (warm["status"], warm["measured"]) == (cold["status"], cold["measured"]) == (
        "passed", "57%"
    )
    assert warm["summary"] == "coverage: cached, inputs unchanged; " + cold["summary"]

    change(pytester)
    again = promote_only_gate(pytester)
    assert not again["cached"]
    assert again["measured"] == coverage_total(pytester)


def test_a_measuring_run_never_reuses(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CI", raising=False)
    project(pytester)
    for _ in range(2):
        pytester.runpytest_subprocess("--promote-to=staging", "--promote-report=promote.json")
        report = json.loads((pytester.path / "promote.json").read_text())
        gate = next(g for g in report["gates"] if g["id"] == "coverage")
        assert not gate["cached"] and gate["measured"] == "57%"


def test_promote_only_without_data_fails_closed(pytester: pytest.Pytester) -> None:
    project(pytester, 'data_file = "cov.db"\n')
    (pytester.path / ".coverage").write_text("stale, and not the configured data file")
    result = pytester.runpytest(
        "--promote-to=staging", "--promote-only", "-p", "no:cacheprovider"
    )
    result.stdout.fnmatch_lines([
        "coverage: no coverage data: cov.db does not exist in *; run the tests under "
        "coverage first*or drop --promote-only",
    ])
    assert result.ret == pytest.ExitCode.TESTS_FAILED


def test_unreadable_data_fails_closed(pytester: pytest.Pytester) -> None:
    project(pytester)
    (pytester.path / ".coverage").write_text("not a coverage database")
    result = pytester.runpytest(
        "--promote-to=staging", "--promote-only", "-p", "no:cacheprovider"
    )
    result.stdout.fnmatch_lines(["coverage: cannot read coverage data .coverage: *"])
    assert result.ret == pytest.ExitCode.TESTS_FAILED


def test_broken_coverage_config_fails_closed(pytester: pytest.Pytester) -> None:
    project(pytester, "[tool.coverage.report]\nprecision = 'two'\n")
    result, gate = promote(pytester)
    assert gate["status"] == "error"
    assert "coverage could not start: ConfigError: " in gate["summary"]
    assert "precision couldn't convert to an integer: 'two'" in gate["summary"]
    result.assert_outcomes(passed=2, failed=2)


XDIST_TESTS = """
import os
import pathlib
import time

from pkg import mod


def _ran_on_worker():
    time.sleep(0.3)  # long enough that both workers get tests
    path = pathlib.Path(os.environ["PYTEST_XDIST_WORKER"] + ".ran")
    path.write_text("")


def test_positive():
    _ran_on_worker()
    assert mod.covered(1) == "positive"


def test_other():
    _ran_on_worker()
    assert mod.covered(-1) == "other"


def test_uncovered():
    _ran_on_worker()
    assert mod.uncovered() == 1


def test_nothing():
    _ran_on_worker()
"""


@pytest.mark.supported_range
@pytest.mark.parametrize("cov", [[], ["--cov=pkg", "--cov-report="]], ids=["own", "pytest-cov"])
def test_xdist_combines_the_workers(pytester: pytest.Pytester, cov: list[str]) -> None:
    pytest.importorskip("xdist")
    project(pytester, coverage="{ min = 100 }")
    pytester.makepyfile(test_mod=XDIST_TESTS)
    result, gate = promote(pytester, "-n", "2", *cov)
    # Each worker alone covered only part of pkg/mod.py; together they cover all.
    assert sorted(p.name for p in pytester.path.glob("*.ran")) == ["gw0.ran", "gw1.ran"]
    assert (gate["status"], gate["measured"]) == ("passed", "100%"), gate["summary"]
    result.assert_outcomes(passed=7)
    assert coverage_total(pytester) == "100%"  # the combined data file


@pytest.mark.supported_range
@pytest.mark.parametrize(
    "launcher",
    [
        ["-m", "coverage", "run", "--source=pkg", "-m", "pytest"],
        ["-m", "pytest", "--cov=pkg", "--cov-report="],
        # Each test in a context of its own; the gates run after the measurement ended.
        ["-m", "pytest", "--cov=pkg", "--cov-report=", "--cov-context=test"],
    ],
    ids=["coverage-run", "pytest-cov", "pytest-cov-contexts"],
)
def test_an_outer_tracer_is_used(pytester: pytest.Pytester, launcher: list[str]) -> None:
    # No [tool.coverage] source: only the outer tracer's --source/--cov limits what
    # is measured.
    pytester.makepyprojecttoml(policy())
    pkg = pytester.mkpydir("pkg")
    (pkg / "mod.py").write_text(MODULE)
    pytester.makepyfile(test_mod=TEST)
    run = pytester.run(
        sys.executable, *launcher, "--promote-to=staging", "--promote-report=promote.json",
        "-p", "no:cacheprovider",
    )
    run.assert_outcomes(passed=4)
    gate = next(
        g for g in json.loads((pytester.path / "promote.json").read_text())["gates"]
        if g["id"] == "coverage"
    )
    # 57%: pkg/mod.py alone; a tracer of the plugin's own would also count
    # test_mod.py and give 70%.
    assert gate["measured"] == coverage_total(pytester) == "57%"


def test_coverage_not_importable_fails_closed(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    project(pytester)
    blocker = pytester.mkdir("blocker")
    (blocker / "coverage.py").write_text("raise ImportError('blocked for this test')\n")
    monkeypatch.setenv("PYTHONPATH", str(blocker))
    result, gate = promote(pytester, "-p", "no:pytest_cov")
    assert gate["status"] == "error"
    assert "coverage.py cannot be imported (blocked for this test); install it" in gate["summary"]
    result.assert_outcomes(passed=2, failed=2)  # the project's test still ran


def test_no_measurement_without_a_coverage_gate(pytester: pytest.Pytester) -> None:
    project(pytester, gates='["tests"]', coverage="{}")
    # In this process: no tracer starts here, so none can leak into this test run.
    result = pytester.runpytest("--promote-to=staging", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=3)
    assert not (pytester.path / ".coverage").exists()  # measured nothing, wrote nothing
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    assert not (pytester.path / ".coverage").exists()  # inert without --promote-to


KINDS = {"tests": TestsGate, "coverage": CoverageGate}


def test_later_stage_may_only_raise_minimums() -> None:
    table = {
        "stages": ["staging", "production"],
        "stage": {
            "staging": {
                "required": ["coverage"],
                "coverage": {"min": 70, "paths": {"src/core": 90}},
            },
            "production": {"coverage": {"paths": {"src/core": 85}}},
        },
    }
    with pytest.raises(pytest.UsageError, match=r"production\.coverage\.paths\.src/core = 85\.0: .* 90"):
        load(table, "pyproject.toml", KINDS)
    table["stage"]["production"] = {"coverage": {"min": 80, "paths": {"src/core": 95}}}
    production = load(table, "pyproject.toml", KINDS).stage("production")
    assert production.options["coverage"] == CoverageOptions(min=80, paths={"src/core": 95})


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ({"min": 120}, "coverage.min = 120.0: out of range: use a number from 0 to 100"),
        ({"paths": {"src": 101}}, "coverage.paths.src = 101.0: out of range: use a number from 0 to 100"),
        ({"paths": {"../elsewhere": 50}}, "leaves the project root"),
        ({"mn": 50}, "did you mean 'min'"),
    ],
)
def test_bad_options_are_usage_errors(value: dict[str, Any], problem: str) -> None:
    staging = {"required": ["coverage"], "coverage": value}
    table = {"stages": ["staging"], "stage": {"staging": staging}}
    with pytest.raises(pytest.UsageError, match=re.escape(problem)):
        load(table, "pyproject.toml", KINDS)


def test_in_process_run_leaves_no_tracer_running(pytester: pytest.Pytester) -> None:
    import coverage

    before = coverage.Coverage.current()
    if before is not None:  # e.g. this suite run under its own coverage gate
        pytest.skip("an outer tracer is measuring: the inner run would judge the outer data")
    project(pytester)
    pytester.runpytest("--promote-to=staging", "-p", "no:cacheprovider").assert_outcomes(passed=4)
    # A policy error after the tracer started must not leave it running either.
    assert pytester.runpytest("--promote-to=nosuchstage").ret == pytest.ExitCode.USAGE_ERROR
    assert coverage.Coverage.current() is before
