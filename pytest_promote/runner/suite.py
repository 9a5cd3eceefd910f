"""The whole suite or not: how many tests a promotion run judged, of how many.

A run judges the whole suite when its tests are what pytest collects with no
selection (the ``testpaths``, else the invocation directory). Deselections are
counted as pytest announces them (``pytest_deselected``: ``-k``, ``-m``,
``--deselect``, ``--lf``, ``--sw``, a plugin's); when the command line names paths
or node ids, when ``--lf``/``--sw`` may skip whole files, and for the JUnit XML a
``--promote-only`` run judges, the whole suite is counted by a second pytest run,
``pytest --collect-only``, in the background while the tests run.
"""

from __future__ import annotations

import dataclasses
import glob
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from pytest_promote._util.process import BackgroundTool, ToolError, fresh_bytecode, project_environ, tail

#: Key in pytest-xdist's workeroutput: the files of a worker's selected and
#: deselected tests (see :attr:`SuiteCount.selected`).
WORKER_KEY = "promote_suite"
#: Options that leave tests out, as the messages name them (option dest -> flag).
SELECTING = {"keyword": "-k", "markexpr": "-m", "deselect": "--deselect"}
#: Options after which only part of the suite may even be collected.
PARTIAL_COLLECTION = {"lf": "--lf", "stepwise": "--sw"}
_COLLECTED = re.compile(r"^(?:(\d+)/)?(\d+) tests? collected")


def is_worker(config: pytest.Config) -> bool:
    """Whether this process is a pytest-xdist worker."""
    return hasattr(config, "workerinput")


@dataclasses.dataclass(frozen=True)
class Suite:
    """This run's tests (``ran``) of the whole suite (``total``), and what left the
    others out."""

    ran: int
    total: int
    means: tuple[str, ...] = ()

    @property
    def partial(self) -> bool:
        """Whether tests of the whole suite were left out."""
        return self.ran < self.total

    def describe(self) -> str:
        """``partial: 3 of 5 tests (left out by -k 'not slow')`` (or ``whole suite``)."""
        if not self.partial:
            return f"whole suite: {self.total} tests"
        how = f" (left out by {', '.join(self.means)})" if self.means else ""
        return f"partial: {self.ran} of {self.total} tests{how}"

    def as_dict(self) -> dict[str, Any]:
        """The report's and the ledger's ``partial`` entry."""
        return {"ran": self.ran, "total": self.total, "left_out_by": list(self.means)}


class SuiteCount:
    """Counts what this session selected and left out; counts the whole suite when
    the deselections alone cannot tell."""

    def __init__(self, config: pytest.Config, promote_only: bool) -> None:
        self.config = config
        self.promote_only = promote_only
        #: The file (the node id's path part) of each test this session kept after
        #: every selection (None: not collected yet); a component counts its own.
        self.selected: list[str] | None = None
        #: The file of each test a selection left out.
        self.deselected: list[str] = []
        self._counter: BackgroundTool | None = None

    def start(self) -> None:
        """Launch the collect-only count of the whole suite where it is needed."""
        if self._counter is not None or not self.needs_count():
            return
        config = self.config
        argv = [sys.executable, "-m", "pytest", "--collect-only", "-p", "no:cacheprovider",
                f"--rootdir={config.rootpath}"]
        if config.inipath is not None:
            argv += ["-c", str(config.inipath)]
        argv.append("--verbosity=-1")  # last: whatever addopts say, one summary line
        self._counter = BackgroundTool(
            "pytest", argv, config.invocation_params.dir, timeout=600.0,
            env=fresh_bytecode(config, project_environ(config)), cleanup=config.add_cleanup,
        )
        self._counter.start()

    def needs_count(self) -> bool:
        """Whether the whole suite must be counted apart from this session."""
        if self.promote_only:
            return bool(self.config.getoption("promote_junit"))
        return bool(self.partial_collection()) or not self.default_arguments()

    def partial_collection(self) -> list[str]:
        """``--lf``/``--sw`` when given (they may not even collect some files)."""
        return [flag for dest, flag in PARTIAL_COLLECTION.items()
                if self.config.getoption(dest, None)]

    def default_arguments(self) -> bool:
        """Whether the session collects from where pytest does with no arguments."""
        config = self.config
        if config.args_source != pytest.Config.ArgsSource.ARGS:
            return True
        if any("::" in a for a in config.args) or config.option.pyargs:
            return False
        here = config.invocation_params.dir
        testpaths = config.getini("testpaths")
        default = [here]
        if here == config.rootpath and testpaths:
            found = [Path(p) for t in testpaths for p in glob.iglob(t, root_dir=here, recursive=True)]
            default = [here / p for p in found] or default
        return {(here / a).resolve() for a in config.args} == {p.resolve() for p in default}

    def pytest_deselected(self, items: list[Any]) -> None:
        """Count the tests (not the gate items) a selection left out."""
        self.deselected += [file_of(i.nodeid) for i in items if not i.nodeid.startswith("promote::")]

    def ran(self, only: Callable[[str], bool] | None = None) -> int | None:
        """How many selected tests the test files ``only`` takes hold (None: the
        selection is not known)."""
        return None if self.selected is None else _among(self.selected, only)

    def means(self, only: Callable[[str], bool] | None = None) -> tuple[str, ...]:
        """What left tests out (of the files ``only`` takes), as the user would name it."""
        config = self.config
        found = []
        for dest, flag in SELECTING.items():
            value = config.getoption(dest, None)
            if value:
                found.append(f"{flag} {value!r}" if isinstance(value, str) else flag)
        found += self.partial_collection()
        if _among(self.deselected, only) and not found:
            found.append("a plugin's deselection")
        if not self.promote_only and not self.default_arguments():
            found.append("the arguments " + " ".join(config.args))
        if self.promote_only:
            found = ["the JUnit XML " + str(config.getoption("promote_junit"))]
        return tuple(found)

    def result(self, ran: int, only: Callable[[str], bool] | None = None) -> Suite:
        """The suite this run judged ``ran`` tests of (a component's: the tests in the
        files ``only`` takes); ToolError when it cannot be counted."""
        if self._counter is None and self.needs_count():
            self.start()
        if self._counter is None:
            left_out = _among(self.deselected, only)
            return Suite(ran, ran + left_out, self.means(only) if left_out else ())
        code, out, err = self._counter.wait()
        if code == pytest.ExitCode.NO_TESTS_COLLECTED:
            total = 0
        else:
            total = _collected(out, only) if code == pytest.ExitCode.OK else None
        if total is None:
            said = tail(out + err) or "(no output)"
            raise ToolError(f"cannot count the whole suite: {self._counter.shown()} "
                            f"exited {code}:\n{said}")
        return Suite(ran, total, self.means(only) if ran < total else ())


def file_of(nodeid: str) -> str:
    """The file part of a test's node id (project-relative, POSIX)."""
    return nodeid.split("::", 1)[0]


def _among(files: list[str], only: Callable[[str], bool] | None) -> int:
    return len(files) if only is None else sum(1 for f in files if only(f))


def _collected(out: str, only: Callable[[str], bool] | None = None) -> int | None:
    """The count ``pytest --collect-only -q`` printed; with ``only``, the node ids it
    listed whose file ``only`` takes."""
    if only is not None and _collected(out) is not None:
        return sum(1 for line in out.splitlines() if "::" in line and only(file_of(line)))
    for line in reversed(out.splitlines()):
        found = _COLLECTED.match(line.strip().strip("= "))
        if found:
            return int(found.group(2))
    return None
