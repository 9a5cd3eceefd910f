"""Coverage from the first line: code pytest imports before any plugin hook runs (a
project that is itself a pytest plugin, a ``-p`` plugin in ``addopts``, a package
pytest imports for its ``minversion`` check) counts as ``coverage run -m pytest``
counts it: same files, same missing lines, same total, serial and with ``-n 2``.
Where the plugin cannot measure from the first line (pytest run in-process), the
gate fails closed naming the modules imported before measurement."""

from __future__ import annotations

import contextlib
import importlib.machinery
import json
import os
import subprocess
import sys
import types
from collections.abc import Callable
from pathlib import Path

import coverage
import pytest
from test_coverage_config import STAGING, report_gate
from test_coverage_gate import coverage_cmd

from pytest_promote.gates.coverage import firstline

PLUGIN = '''\
import pytest

FACTOR = 3


def triple(x):
    return x * FACTOR


def never_called():
    return "no test calls this"


@pytest.fixture
def tripled():
    return triple(2)
'''

PLUGIN_TEST = "def test_fixture(tripled):\n    assert tripled == 6\n"

#: A project called ``packaging``: pytest imports its ``version`` module to check
#: ``minversion``, long before any plugin could start measuring.
VERSION = '''\
class Version:
    def __init__(self, text):
        self.parts = tuple(int(p) for p in text.split(".")[:2] if p.isdigit())

    def __lt__(self, other):
        return self.parts < other.parts

    def __gt__(self, other):
        return self.parts > other.parts


def unused():
    return None
'''

VERSION_TEST = '''\
from packaging.version import Version


def test_compare():
    assert Version("1.2") < Version("1.10")
'''


def plugin_project(pytester: pytest.Pytester, shape: str) -> None:
    """A small pytest plugin package and its test, loaded the way ``shape`` says."""
    run = '[tool.coverage.run]\nsource = ["myplug"]\n'
    if shape == "addopts":
        pytester.makepyprojecttoml('[tool.pytest.ini_options]\naddopts = "-p myplug.plugin"\n\n' + run + STAGING)
    else:  # installed: an entry point in a distribution's metadata on sys.path
        pytester.makepyprojecttoml(run + STAGING)
        meta = pytester.mkdir("myplug-1.0.dist-info")
        (meta / "METADATA").write_text("Metadata-Version: 2.1\nName: myplug\nVersion: 1.0\n")
        (meta / "entry_points.txt").write_text("[pytest11]\nmyplug = myplug.plugin\n")
    pkg = pytester.mkpydir("myplug")
    (pkg / "plugin.py").write_text(PLUGIN)
    pytester.makepyfile(test_myplug=PLUGIN_TEST)  # a name no module of this suite has


def minversion_project(pytester: pytest.Pytester) -> None:
    pytester.makepyprojecttoml(
        '[tool.pytest.ini_options]\nminversion = "7.0"\n\n[tool.coverage.run]\n'
        'source = ["packaging"]\n' + STAGING
    )
    pkg = pytester.mkpydir("packaging")
    (pkg / "version.py").write_text(VERSION)
    pytester.makepyfile(test_version=VERSION_TEST)


#: The modules of ``packaging`` this plugin's own gates use (``deps``, ``sbom``): as
#: the project, their lines count only if its tests run them.
PACKAGING_OWN = {
    "requirements.py": "class InvalidRequirement(ValueError):\n    pass\n\n\nclass Requirement:\n"
                       "    def __init__(self, text):\n        self.name = text\n",
    "utils.py": "def canonicalize_name(name):\n    return name.lower()\n",
}


def dependency_project(pytester: pytest.Pytester) -> None:
    """A project that is a package the plugin itself imports (``packaging``)."""
    minversion_project(pytester)
    for name, text in PACKAGING_OWN.items():
        (pytester.path / "packaging" / name).write_text(text)


def coverage_json(pytester: pytest.Pytester) -> dict[str, object]:
    """The data file's files, their missing lines, and the total, as ``coverage json``
    gives them: what the command line does (the project's settings and data file, from
    its directory), in this process."""
    with contextlib.chdir(pytester.path):
        reporter = coverage.Coverage()
        reporter.load()
        reporter.json_report(outfile="cov.json")
    raw = json.loads((pytester.path / "cov.json").read_text())
    (pytester.path / "cov.json").unlink()
    files = {name: entry["missing_lines"] for name, entry in raw["files"].items()}
    return {"files": files, "total": raw["totals"]["percent_covered_display"]}


def coverage_run(pytester: pytest.Pytester) -> dict[str, object]:
    """``coverage run -m pytest; coverage report``, then the data file removed."""
    run = coverage_cmd(pytester, "run", "-m", "pytest", "-q", "-p", "no:cacheprovider")
    assert run.ret == 0, run.stdout.str() + run.stderr.str()
    expected = coverage_json(pytester)
    (pytester.path / ".coverage").unlink()
    return expected


@pytest.fixture(scope="module")
def coverage_run_of() -> Callable[[pytest.Pytester, str], dict[str, object]]:
    """:func:`coverage_run` of a project of each shape, measured once: the serial and
    the ``-n 2`` test of a shape build the same files, and ``coverage run -m pytest``
    runs serially for both. The first test of a shape measures its own project."""
    measured: dict[str, dict[str, object]] = {}

    def of(pytester: pytest.Pytester, shape: str) -> dict[str, object]:
        if shape not in measured:
            measured[shape] = coverage_run(pytester)
        return measured[shape]

    return of


@pytest.mark.parametrize(
    ("shape", "xdist"),
    [(shape, xdist) for xdist in ([], ["-n", "2"])
     for shape in ("installed", "addopts", "minversion", "dependency")],
    ids=lambda value: " ".join(value) or "serial" if isinstance(value, list) else value,
)
def test_code_pytest_imports_first_counts_as_coverage_run_counts_it(
    pytester: pytest.Pytester, coverage_run_of, shape: str, xdist: list[str]
) -> None:
    if xdist:
        pytest.importorskip("xdist")
    if shape == "minversion":
        minversion_project(pytester)
    elif shape == "dependency":
        dependency_project(pytester)
    else:
        plugin_project(pytester, shape)
    expected = coverage_run_of(pytester, shape)
    # The module-level lines count; only the uncalled function's body is missing.
    missing = {name: lines for name, lines in expected["files"].items() if lines}  # type: ignore[attr-defined]
    untouched = {f"packaging/{name}" for name in PACKAGING_OWN} if shape == "dependency" else set()
    assert len(missing) == 1 + len(untouched) and untouched <= set(missing), expected

    result = pytester.runpytest_subprocess(
        "--promote-to=staging", "--promote-report=promote.json", "-p", "no:cacheprovider", *xdist
    )
    result.assert_outcomes(passed=1 + 3)
    gate = report_gate(pytester)
    assert gate["status"] == "passed", gate["summary"]
    measured = coverage_json(pytester)
    assert measured == expected
    assert gate["measured"] == f"{expected['total']}%"


def test_in_process_a_plugin_imported_before_measurement_fails_closed(
    pytester: pytest.Pytester,
) -> None:
    """``pytest.main()`` in a process that runs other things (here: pytester's
    in-process run) cannot start again: the figure would miss the plugin's import,
    so the gate errors, naming the module, in the terminal too."""
    plugin_project(pytester, "addopts")
    pytester.syspathinsert()
    result = pytester.runpytest("--promote-to=staging", "--promote-report=promote.json", "-p", "no:cacheprovider")
    gate = report_gate(pytester)
    assert gate["status"] == "error"
    assert "myplug/plugin.py" in gate["summary"] and "known to be partial" in gate["summary"]
    assert "(partial)" in gate["measured"]
    result.stdout.fnmatch_lines(
        ["*coverage started measuring after pytest had imported 1 measured file (myplug/plugin.py)*"]
    )


def test_the_restart_keeps_the_interpreters_options(pytester: pytest.Pytester) -> None:
    """The restarted pytest runs with the same interpreter options (here ``-X
    dev``, ``-W``) and arguments, and only once."""
    plugin_project(pytester, "addopts")
    pytester.makeconftest(
        "import sys, os\n\n\ndef pytest_sessionstart(session):\n"
        "    print('FLAGS', sys.flags.dev_mode, sys.warnoptions, "
        "os.environ.get('PYTEST_PROMOTE_FIRST_LINE'))\n"
    )
    result = pytester.run(
        sys.executable, "-X", "dev", "-W", "default::DeprecationWarning", "-m", "pytest", "-s",
        "--promote-to=staging", "--promote-report=promote.json", "-p", "no:cacheprovider",
    )
    assert result.ret == 0, result.stdout.str()
    result.stdout.fnmatch_lines(["FLAGS True [[]*'default::DeprecationWarning'[]] None"])
    assert result.stdout.str().count("FLAGS") == 1


# What decides a restart, on this process's own state: the plugin calls these where
# only a separate pytest process gets past them, so they are checked here as well.


def test_measurable_names_the_projects_files_and_the_named_sources(tmp_path: Path) -> None:
    root = tmp_path / "project"
    mine, elsewhere = str(root / "pkg" / "mod.py"), str(tmp_path / "lib" / "shared" / "util.py")
    own = os.path.join(firstline.OWN, "plugin.py")
    outside = str(tmp_path / "other" / "mod.py")
    files = [mine, elsewhere, own, outside]

    assert firstline.measurable(files, str(root), []) == [mine]
    assert firstline.measurable(files, str(root), ["shared", ""]) == sorted([mine, elsewhere])


def test_measurable_leaves_out_the_running_environment_inside_the_project() -> None:
    around = os.path.dirname(os.path.realpath(sys.prefix))  # a project holding this environment
    installed = os.path.join(os.path.realpath(sys.prefix), "lib", "dep.py")
    beside = os.path.join(around, "src", "app.py")
    assert firstline.measurable([installed, beside], around, []) == [beside]


def test_omit_own_leaves_pytest_promote_out_of_another_projects_measurement(tmp_path: Path) -> None:
    other = coverage.Coverage(data_file=None, config_file=False)
    firstline.omit_own(other, str(tmp_path))
    assert other.get_option("run:omit") == [os.path.join(firstline.OWN, "*")]
    itself = coverage.Coverage(data_file=None, config_file=False)
    firstline.omit_own(itself, os.path.dirname(firstline.OWN))
    assert not itself.get_option("run:omit")


def test_missed_names_files_imported_before_measurement_here_or_in_a_worker(tmp_path: Path) -> None:
    early, in_worker, unused = (str(tmp_path / name) for name in ("early.py", "worker.py", "unused.py"))
    measured = os.path.realpath(firstline.__file__)  # imported here, not before: measured
    reported = {early: "early.py", in_worker: "worker.py", unused: "unused.py", measured: "firstline.py"}
    assert firstline.missed(frozenset({early}), [[in_worker, measured]], reported) == ["early.py", "worker.py"]
    assert firstline.missed(frozenset(), [], reported) == []


@pytest.fixture
def started_as(monkeypatch: pytest.MonkeyPatch):
    """Make this process look started as ``pytest ARGS`` (a script) or ``python -m pytest ARGS``."""
    monkeypatch.delenv(firstline.MARK, raising=False)
    monkeypatch.setattr(firstline, "restarted", False)

    def start(how: str, *args: str) -> None:
        main = types.ModuleType("__main__")
        if how == "module":
            main.__spec__ = importlib.machinery.ModuleSpec("pytest.__main__", None)
        else:
            main.__spec__ = None
            main.__file__ = "/venv/bin/pytest"
        monkeypatch.setitem(sys.modules, "__main__", main)
        monkeypatch.setattr(sys, "argv", ["/venv/bin/pytest", *args])

    return start


def test_restart_argv_runs_the_same_pytest_under_measurement(started_as, monkeypatch: pytest.MonkeyPatch) -> None:
    flags = subprocess._args_from_interpreter_flags()  # type: ignore[attr-defined]
    again = [sys.executable, *flags, "-m", "pytest_promote.gates.coverage.firstline"]
    started_as("module", "-q", "tests")
    assert firstline.restart_argv(["-q", "tests"]) == [*again, "module", "pytest", "-q", "tests"]
    started_as("script", "-q")
    assert firstline.restart_argv(["-q"]) == [*again, "path", "/venv/bin/pytest", "-q"]

    assert firstline.restart_argv(["other"]) is None  # pytest.main(ARGS) called by a program
    monkeypatch.setenv(firstline.MARK, "1")
    assert firstline.restart_argv(["-q"]) is None  # restarted already
    monkeypatch.delenv(firstline.MARK)
    monkeypatch.setattr(firstline, "restarted", True)
    assert firstline.restart_argv(["-q"]) is None
    monkeypatch.setattr(firstline, "restarted", False)
    monkeypatch.setitem(sys.modules, "__main__", types.ModuleType("__main__"))
    assert firstline.restart_argv(["-q"]) is None  # another program's __main__
