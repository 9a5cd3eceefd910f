"""The coverage gate in the coverage configurations real projects use: child
processes measured (``patch``, ``parallel``, multiprocessing), coverage's own
warnings, the project's own ``fail_under``. Each compares the gate with the real
``coverage`` command line on the same project."""

from __future__ import annotations

import json
import os
import re
from typing import Any

import pytest
from children import PYTEST_INI
from test_coverage_gate import MODULE, TEST, coverage_cmd

from pytest_promote.cli.verify import gate_kinds
from pytest_promote.policy.loader import load


def report_gate(pytester: pytest.Pytester, gate_id: str = "coverage") -> dict[str, Any]:
    """The entry of ``gate_id`` in ``promote.json``."""
    report = json.loads((pytester.path / "promote.json").read_text())
    return next(g for g in report["gates"] if g["id"] == gate_id)


def test_zero_config_uses_the_projects_stricter_fail_under(pytester: pytest.Pytester) -> None:
    """No [tool.promote]: the project's own ``fail_under = 100`` is the coverage
    minimum at every stage, not the default's 60/70/80, and the header says so."""
    pytester.makepyprojecttoml(
        '[tool.coverage.run]\nsource = ["pkg"]\n[tool.coverage.report]\nfail_under = 100\n' + PYTEST_INI
    )
    (pytester.mkpydir("pkg") / "mod.py").write_text(MODULE)
    pytester.makepyfile(test_mod=TEST)
    result = pytester.runpytest_subprocess(
        "--promote-to=development", "--promote-report=promote.json", "-p", "no:cacheprovider"
    )
    result.stdout.fnmatch_lines(
        ["promote: stage development (policy: embedded default policy; coverage min 100% at "
         "development, staging, production, from the project's coverage fail_under*"]
    )
    gate = report_gate(pytester)
    assert (gate["status"], gate["threshold"]) == ("failed", "100%")
    assert gate["summary"] == "coverage 57% < 100% required for development"
    # coverage.py's own verdict on the same data.
    raw = coverage_cmd(pytester, "report")
    assert raw.ret == 2
    assert re.search(r"total of 57 is less than fail-under=100", raw.stdout.str())


@pytest.mark.parametrize(
    ("declared", "expected"),
    [(None, (60, 70, 80)), (0, (60, 70, 80)), (65, (65, 70, 80)), (100, (100, 100, 100))],
)
def test_declared_minimum_only_tightens_the_default(
    declared: float | None, expected: tuple[float, ...]
) -> None:
    policy = load(None, "embedded default policy", gate_kinds(), declared)
    stages = ("development", "staging", "production")
    mins = tuple(policy.stage(s).options["coverage"].min for s in stages)
    assert mins == expected
    assert ("fail_under" in policy.source) == (expected != (60, 70, 80))


CHILDREN_MODULE = """
def in_parent(x):
    if x:
        return 1
    return 2


def in_child():
    a = 1
    return a + 1


def in_pool(n):
    total = 0
    for i in range(n):
        total += i
    return total


def never():
    return 0
"""

CHILDREN_TESTS = """
import multiprocessing
import subprocess
import sys

from pkg import mod


def test_parent():
    assert mod.in_parent(1) == 1


def test_subprocess():
    subprocess.run([sys.executable, "-c", "from pkg import mod; mod.in_child()"], check=True)


def test_multiprocessing():
    proc = multiprocessing.Process(target=mod.in_pool, args=(3,))
    proc.start()
    proc.join()
    assert proc.exitcode == 0
"""

MEASURE_CHILDREN = """
[tool.coverage.run]
source = ["pkg"]
patch = ["subprocess"]
concurrency = ["multiprocessing"]
parallel = true
"""

STAGING = """
[tool.promote]
stages = ["staging"]
enforce_path = false

[tool.promote.stage.staging]
required = ["tests", "coverage"]
coverage = { min = 50 }
"""


def children_project(pytester: pytest.Pytester, coverage_toml: str = MEASURE_CHILDREN) -> None:
    """Tests that run the project's code in a ``python -c`` child and a multiprocessing
    child, under a coverage configuration that measures both."""
    pytester.makepyprojecttoml(coverage_toml + STAGING + PYTEST_INI)
    (pytester.mkpydir("pkg") / "mod.py").write_text(CHILDREN_MODULE)
    pytester.makepyfile(test_kids=CHILDREN_TESTS)


def leftovers(pytester: pytest.Pytester) -> list[str]:
    """Parallel data files in the project."""
    return sorted(p.name for p in pytester.path.glob(".coverage.*"))


def raw_total(pytester: pytest.Pytester, *args: str) -> str:
    """``coverage run -m pytest ARGS; coverage combine; coverage report``: TOTAL."""
    run = coverage_cmd(pytester, "run", "-m", "pytest", "-q", "-p", "no:cacheprovider", *args)
    assert run.ret == 0, run.stdout.str()
    assert leftovers(pytester)  # the children's (and workers') data files
    assert coverage_cmd(pytester, "combine").ret == 0
    return total(pytester)


def total(pytester: pytest.Pytester) -> str:
    report = coverage_cmd(pytester, "report")
    match = re.search(r"^TOTAL\s.*?(\d+%)\s*$", report.stdout.str(), re.MULTILINE)
    assert match, report.stdout.str() + report.stderr.str()
    return match.group(1)


@pytest.mark.parametrize("xdist", [[], ["-n", "2"]], ids=["serial", "xdist"])
def test_child_processes_are_combined_as_coverage_combine_does(
    pytester: pytest.Pytester, xdist: list[str]
) -> None:
    if xdist:
        pytest.importorskip("xdist")
    children_project(pytester)
    expected = raw_total(pytester, *xdist)
    for name in (".coverage", *leftovers(pytester)):
        (pytester.path / name).unlink()
    result = pytester.runpytest_subprocess(
        "--promote-to=staging", "--promote-report=promote.json", "-p", "no:cacheprovider", *xdist
    )
    result.assert_outcomes(passed=6)
    gate = report_gate(pytester)
    assert gate["measured"] == expected == "86%"  # in_parent's `return 2` and never() missed
    assert "2 parallel data files combined" in gate["summary"]
    # As pytest-cov: the parallel files joined the data file, none is left behind.
    assert leftovers(pytester) == []
    assert total(pytester) == expected


def test_without_child_measurement_the_children_do_not_count(pytester: pytest.Pytester) -> None:
    """The same tests, coverage measuring one process: the gate agrees with coverage."""
    children_project(pytester, '[tool.coverage.run]\nsource = ["pkg"]\n')
    run = coverage_cmd(pytester, "run", "-m", "pytest", "-q", "-p", "no:cacheprovider")
    assert run.ret == 0
    expected = total(pytester)
    pytester.runpytest_subprocess(
        "--promote-to=staging", "--promote-report=promote.json", "-p", "no:cacheprovider"
    )
    assert report_gate(pytester)["measured"] == expected != "86%"


def test_promote_only_combines_the_parallel_files_and_leaves_them(
    pytester: pytest.Pytester,
) -> None:
    children_project(pytester)
    run = coverage_cmd(pytester, "run", "-m", "pytest", "-q", "-p", "no:cacheprovider")
    assert run.ret == 0
    files = leftovers(pytester)
    assert len(files) == 3 and not (pytester.path / ".coverage").exists()
    pytester.runpytest_subprocess(
        "--promote-to=staging", "--promote-only", "--promote-report=promote.json",
        "-p", "no:cacheprovider",
    )
    gate = report_gate(pytester)
    assert leftovers(pytester) == files  # read, not consumed: `coverage combine` still works
    assert "3 parallel data files combined" in gate["summary"]
    assert coverage_cmd(pytester, "combine").ret == 0
    assert gate["measured"] == total(pytester) == "86%"


def test_coverage_warnings_are_shown_with_the_result(pytester: pytest.Pytester) -> None:
    """A ``source`` that is never imported: coverage.py's own warning, as `coverage
    run` prints it, is in the gate's summary and in pytest's warnings summary."""
    (pytester.mkpydir("pkg") / "mod.py").write_text(MODULE)
    pytester.makepyfile(test_mod=TEST)
    pytester.makepyprojecttoml('[tool.coverage.run]\nsource = ["pkg", "nothere"]\n' + STAGING + PYTEST_INI)
    raw = coverage_cmd(pytester, "run", "-m", "pytest", "-q", "-p", "no:cacheprovider")
    said = "Module nothere was never imported. (module-not-imported)"
    assert said in raw.stderr.str()
    result = pytester.runpytest_subprocess(
        "--promote-to=staging", "--promote-report=promote.json", "-p", "no:cacheprovider"
    )
    gate = report_gate(pytester)
    assert gate["status"] == "passed"
    assert gate["summary"] == f"coverage 57% >= 50% required for staging; coverage.py warned: {said}"
    result.stdout.fnmatch_lines(["*warnings summary*", "promote::coverage", f"*CoverageWarning: {said}*"])


def test_no_data_collected_is_said_with_the_result(pytester: pytest.Pytester) -> None:
    (pytester.mkpydir("pkg") / "mod.py").write_text(MODULE)
    pytester.makepyfile(test_mod="def test_nothing():\n    pass\n")
    pytester.makepyprojecttoml('[tool.coverage.run]\nsource = ["pkg"]\n' + STAGING + PYTEST_INI)
    pytester.runpytest_subprocess(
        "--promote-to=staging", "--promote-report=promote.json", "-p", "no:cacheprovider"
    )
    gate = report_gate(pytester)
    assert (gate["status"], gate["measured"]) == ("failed", "0%")
    assert gate["summary"].endswith("coverage.py warned: No data was collected. (no-data-collected)")
    raw = coverage_cmd(pytester, "run", "-m", "pytest", "-q", "-p", "no:cacheprovider")
    assert "No data was collected. (no-data-collected)" in raw.stderr.str()


def test_an_in_process_run_leaves_no_subprocess_request_behind(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``patch = ["subprocess"]`` asks every new Python process to measure itself
    through the environment; once the session is over, that request is gone."""
    import coverage

    if coverage.Coverage.current() is not None:
        pytest.skip("a tracer measures this process already: the inner run starts none")
    monkeypatch.delenv("COVERAGE_PROCESS_CONFIG", raising=False)
    pytester.makepyprojecttoml(
        '[tool.coverage.run]\nsource = ["pkg"]\npatch = ["subprocess"]\n' + STAGING
    )
    (pytester.mkpydir("pkg") / "mod.py").write_text(MODULE)
    pytester.makepyfile(
        test_mod=TEST + "\n\ndef test_asked():\n    import os\n"
        "    assert 'COVERAGE_PROCESS_CONFIG' in os.environ\n"
    )
    result = pytester.runpytest("--promote-to=staging", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=5)
    assert "COVERAGE_PROCESS_CONFIG" not in os.environ
