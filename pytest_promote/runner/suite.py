"""The whole suite or not: which tests of the canonical suite a promotion run judged.

A run judges the whole suite when the node ids it ran are exactly those of the
canonical suite (see :mod:`pytest_promote.runner.canonical`): compared as sets, so a
test left out and a test that is no part of the suite both make the run partial.
What left tests out is named as the user would say it: the selection options
(``-k``, ``-m``, ``--deselect``, ``--lf``), then every part of the invocation that may
change what pytest collects (the directory run from, arguments, ``--ignore``, ``-o``,
``PYTEST_ADDOPTS``...).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from typing import Any

import pytest

from pytest_promote.runner.canonical import Canonical

#: Key in pytest-xdist's workeroutput: a worker's whole collection (node id -> markers)
#: and what it could not collect, before any selection.
WORKER_KEY = "promote_suite"
#: Options that leave tests out, as the messages name them (option dest -> flag).
SELECTING = {"keyword": "-k", "markexpr": "-m", "deselect": "--deselect"}
#: The option that judges one component: its run collects only that component's tests.
COMPONENT_FLAG = "--promote-component"
#: How many node ids a message lists.
SHOWN = 3


def is_worker(config: pytest.Config) -> bool:
    """Whether this process is a pytest-xdist worker."""
    return hasattr(config, "workerinput")


@dataclasses.dataclass(frozen=True)
class Suite:
    """This run's tests of the canonical suite (``ran`` of ``total``), what left the
    others out, and the tests it ran that are no part of that suite (``extra``)."""

    ran: int
    total: int
    means: tuple[str, ...] = ()
    extra: tuple[str, ...] = ()

    @property
    def partial(self) -> bool:
        """Whether this run's tests differ from the canonical suite."""
        return self.ran < self.total or bool(self.extra)

    def describe(self) -> str:
        """``partial: 3 of 5 tests (left out by -k 'not slow')`` (or ``whole suite``)."""
        if not self.partial:
            return f"whole suite: {self.total} tests"
        how = f" (left out by {', '.join(self.means)})" if self.means else ""
        more = f"; {some(self.extra)} not in the suite" if self.extra else ""
        return f"partial: {self.ran} of {self.total} tests{how}{more}"

    def as_dict(self) -> dict[str, Any]:
        """The report's and the ledger's ``partial`` entry."""
        found: dict[str, Any] = {"ran": self.ran, "total": self.total, "left_out_by": list(self.means)}
        if self.extra:
            found["not_in_suite"] = list(self.extra)
        return found


@dataclasses.dataclass(frozen=True)
class Comparison:
    """The canonical suite of the scope judged, against what the run ran."""

    suite: Suite
    #: Canonical tests the run did not run, by node id.
    missing: list[str]
    #: What could not be collected (file -> error).
    errors: dict[str, str]


class SuiteCount:
    """What this session left out of the canonical suite, and why."""

    def __init__(self, config: pytest.Config, promote_only: bool, source: list[str] | None = None) -> None:
        self.config = config
        self.promote_only = promote_only
        self.canonical = Canonical(config)
        #: The file of each test a selection left out.
        self.deselected: list[str] = []
        #: What this session (or its workers) could not collect: node id -> error.
        self.errors: dict[str, str] = {}
        #: Why the tests judged are not this session's (a JUnit XML, shard bundles).
        self.source: list[str] = list(source or [])

    def start(self, clean: bool) -> None:
        """Find the canonical suite in the cache, or start collecting it."""
        self.canonical.start(clean)

    def pytest_deselected(self, items: list[Any]) -> None:
        """Count the tests (not the gate items) a selection left out."""
        self.deselected += [file_of(i.nodeid) for i in items if not i.nodeid.startswith("promote::")]

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        """Keep what could not be collected (under xdist, as the workers report it)."""
        if report.failed:
            from pytest_promote.runner.canonical import last_line

            self.errors[report.nodeid or "."] = last_line(report)

    def means(self, only: Callable[[str], bool] | None = None) -> tuple[str, ...]:
        """What may have left tests out (of the files ``only`` takes), as the user
        would name it."""
        if self.source:
            return tuple(self.source)
        config = self.config
        flags = {flag: dest for dest, flag in SELECTING.items()}
        found = []
        for reason in self.canonical.reasons:
            if only is not None and reason == COMPONENT_FLAG:
                continue  # compared with the component's own tests: it left none out
            value = config.getoption(flags[reason], None) if reason in flags else None
            found.append(f"{reason} {value!r}" if isinstance(value, str) else reason)
        for dest, flag in SELECTING.items():  # also from the configuration's addopts
            value = config.getoption(dest, None)
            if value and flag not in self.canonical.reasons:
                found.append(f"{flag} {value!r}" if isinstance(value, str) else flag)
        selecting = any(f.split(" ", 1)[0] in flags for f in found)
        if _among(self.deselected, only) and not selecting:
            found.append("a plugin's deselection")
        return tuple(found)

    def compare(self, ran: Iterable[str], only: Callable[[str], bool] | None = None) -> Comparison:
        """The canonical suite (a component's: the tests in the files ``only`` takes)
        against the node ids ``ran``; ToolError when it cannot be found."""
        canonical = self.canonical.suite()
        tests = {n for n in canonical.tests if only is None or only(file_of(n))}
        executed = set(ran)
        missing = sorted(tests - executed)
        extra = tuple(sorted(executed - tests))
        errors = {**canonical.errors, **self.errors}
        errors = {f: e for f, e in errors.items() if only is None or f == "." or only(file_of(f))}
        means = self.means(only) if missing or extra else ()
        if missing and not means:
            means = ("not running them",)
        suite = Suite(len(tests & executed), len(tests), means, extra)
        return Comparison(suite, missing, errors)


def file_of(nodeid: str) -> str:
    """The file part of a test's node id (project-relative, POSIX)."""
    return nodeid.split("::", 1)[0]


def some(names: Iterable[str], shown: int = SHOWN) -> str:
    """``2 (a, b)``; ``5 (a, b, c, ...)``."""
    names = list(names)
    listed = ", ".join(names[:shown]) + (", ..." if len(names) > shown else "")
    return f"{len(names)} ({listed})"


def _among(files: list[str], only: Callable[[str], bool] | None) -> int:
    return len(files) if only is None else sum(1 for f in files if only(f))
