"""No process the plugin starts for itself is measured or combined: on a project whose
coverage configuration measures every new Python process (``patch = ["subprocess"]``,
``parallel = true``, multiprocessing), the gate's figures equal ``coverage run -m
pytest ARGS; coverage combine; coverage report`` although the plugin starts its own
``pytest --collect-only`` count, tool gates and workers meanwhile."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest
from test_coverage_config import CHILDREN_MODULE, CHILDREN_TESTS, leftovers, report_gate
from test_coverage_gate import coverage_cmd

from pytest_promote._util.process import BackgroundTool

#: Measures every child; ``tests`` too, so a test module imported by a process of the
#: plugin's (a collect-only count imports them all) would show in the report.
MEASURE_EVERYTHING = """
[tool.coverage.run]
source = ["pkg", "."]
patch = ["subprocess", "_exit"]
concurrency = ["multiprocessing", "thread"]
parallel = true
plugins = ["local_cov"]
omit = ["local_cov.py"]  # the tooling, as filelock omits its own
"""

#: A coverage plugin of the project's own (as filelock's ``coverage_pragmas``): it
#: configures the run, here excluding a pragma of its own.
LOCAL_PLUGIN = """
def coverage_init(reg, options):
    reg.add_configurer(Pragmas())


class Pragmas:
    def configure(self, config):
        exclude = config.get_option("report:exclude_lines")
        config.set_option("report:exclude_lines", [*exclude, "pragma: local"])
"""

POLICY = """
[tool.promote]
stages = ["staging"]
enforce_path = false

[tool.promote.gates]
scan = { kind = "command", command = ["python", "-c", "import pkg.other"] }

[tool.promote.stage.staging]
required = ["tests", "coverage", "scan"]
coverage = { min = 10 }
tests = { allow_partial = true }
"""


def measured_report(pytester: pytest.Pytester) -> dict[str, list[int]]:
    """``coverage json`` of the data file: each file's missing lines."""
    assert coverage_cmd(pytester, "json", "-o", "cov.json").ret == 0
    raw = json.loads((pytester.path / "cov.json").read_text())
    (pytester.path / "cov.json").unlink()
    return {name: entry["missing_lines"] for name, entry in raw["files"].items()}


@pytest.mark.parametrize("xdist", [[], ["-n", "2"]], ids=["serial", "xdist"])
def test_the_plugins_own_processes_are_never_measured(
    pytester: pytest.Pytester, xdist: list[str]
) -> None:
    """Only ``test_kids.py`` runs (so the whole suite is counted by a collect-only run,
    which imports ``test_other.py`` and ``pkg.other``); a command gate runs Python too.
    Neither shows in the figures: they equal coverage.py's own on the same run."""
    if xdist:
        pytest.importorskip("xdist")
    pytester.makepyprojecttoml(MEASURE_EVERYTHING + POLICY)
    pytester.makepyfile(local_cov=LOCAL_PLUGIN)
    pytester.syspathinsert()  # this process's analysis imports the plugin too
    pkg = pytester.mkpydir("pkg")
    (pkg / "mod.py").write_text(CHILDREN_MODULE.replace("def never():", "def never():  # pragma: local"))
    (pkg / "other.py").write_text("def other():\n    return 1\n")
    pytester.makepyfile(test_kids=CHILDREN_TESTS, test_other="import pkg.other\n\n\ndef test_o():\n    pass\n")
    run = coverage_cmd(pytester, "run", "-m", "pytest", "-q", "-p", "no:cacheprovider",
                       "test_kids.py", *xdist)
    assert run.ret == 0, run.stdout.str()
    assert coverage_cmd(pytester, "combine").ret == 0
    expected = measured_report(pytester)
    assert expected["pkg/other.py"] == [1, 2] and expected["test_other.py"] == [1, 4, 5]
    assert 20 not in expected["pkg/mod.py"]  # `never`, excluded by the local plugin
    (pytester.path / ".coverage").unlink()

    result = pytester.runpytest_subprocess(
        "--promote-to=staging", "--promote-report=promote.json", "-p", "no:cacheprovider",
        "test_kids.py", *xdist,
    )
    result.assert_outcomes(passed=3 + 3, xfailed=1)  # tests, gates, a yellow scorecard (partial)
    gate = report_gate(pytester)
    assert gate["status"] == "passed"
    assert leftovers(pytester) == []  # every parallel file joined the data file
    assert measured_report(pytester) == expected


def test_a_tool_never_inherits_a_request_to_measure_itself(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the launcher gives every process: no ``COVERAGE_PROCESS_*`` request, and
    for the plugin's own processes a data file of their own, gone once they ended;
    a user's command keeps the ``COVERAGE_FILE`` it was given."""
    monkeypatch.setenv("COVERAGE_PROCESS_CONFIG", "{}")
    monkeypatch.setenv("COVERAGE_PROCESS_START", "pyproject.toml")
    monkeypatch.setenv("COVERAGE_FILE", str(tmp_path / ".coverage"))
    code = ("import json, os; print(json.dumps({k: v for k, v in os.environ.items() "
            "if k.startswith('COVERAGE')}))")
    for own in (True, False):
        run = BackgroundTool("probe", [sys.executable, "-c", code], tmp_path, 60, own=own)
        run.start()
        seen = run.json_output((0,))
        assert set(seen) == {"COVERAGE_FILE"}
        if own:
            private = Path(seen["COVERAGE_FILE"])
            assert private.parent != tmp_path
            assert not private.parent.exists()  # deleted with the process
        else:
            assert seen["COVERAGE_FILE"] == str(tmp_path / ".coverage")
    assert os.environ["COVERAGE_PROCESS_CONFIG"] == "{}"


#: itsdangerous's slip: ``source`` names a package that is not the project's, so only
#: the tests are measured; its warning filters make every warning an error.
WRONG_SOURCE = """
[tool.pytest.ini_options]
filterwarnings = ["error"]

[tool.coverage.run]
source = ["nothere", "checks"]

[tool.promote]
stages = ["staging"]
enforce_path = false
paths = ["src"]

[tool.promote.stage.staging]
required = ["tests", "coverage"]
coverage = { min = 10 }
"""


def test_a_measurement_of_none_of_the_judged_code_never_passes(pytester: pytest.Pytester) -> None:
    """The tests are measured at 100 %, the policy's code not at all: the gate errors,
    and coverage.py's warning shows in its message and in the warnings summary
    although the project's filters turn warnings into errors."""
    pytester.makepyprojecttoml(WRONG_SOURCE)
    src = pytester.mkdir("src")
    (src / "app.py").write_text("def f():\n    return 1\n")
    # Not "tests": an in-process run shares sys.modules with this suite, whose own
    # test modules and directories must not shadow the project's.
    tests = pytester.mkpydir("checks")
    (tests / "test_app.py").write_text(
        "import sys\nsys.path.insert(0, 'src')\nimport app\n\n\ndef test_f():\n    assert app.f() == 1\n"
    )
    result = pytester.runpytest("--promote-to=staging", "--promote-report=promote.json", "-p", "no:cacheprovider")
    gate = report_gate(pytester)
    assert gate["status"] == "error"
    said = "Module nothere was never imported. (module-not-imported)"
    assert "no measured file under the policy's paths (src)" in gate["summary"]
    assert said in gate["summary"]
    result.stdout.fnmatch_lines(["*warnings summary*", "promote::coverage", f"*CoverageWarning: {said}*"])


def test_the_plugins_own_code_is_never_the_projects(pytester: pytest.Pytester) -> None:
    """No ``source``: coverage.py measures every file that is not installed, which an
    editable install of this plugin is not; none of the plugin's files is measured."""
    pytester.makepyprojecttoml(POLICY.replace(
        'scan = { kind = "command", command = ["python", "-c", "import pkg.other"] }', "",
    ).replace(', "scan"', ""))
    (pytester.mkpydir("pkg") / "other.py").write_text("def other():\n    return 1\n")
    pytester.makepyfile(test_other="import pkg.other\n\n\ndef test_o():\n    assert pkg.other.other() == 1\n")
    result = pytester.runpytest("--promote-to=staging", "--promote-report=promote.json", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1 + 3)
    measured = measured_report(pytester)
    assert "pkg/other.py" in measured
    assert [name for name in measured if "pytest_promote" in name] == []
    assert report_gate(pytester)["measured"] == "100%"
