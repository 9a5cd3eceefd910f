"""The session's test outcomes, as the gates that judge the tests see them.

Filled from ``pytest_runtest_logreport`` (so under pytest-xdist the controller sees
every worker's tests), or read from a JUnit XML of an earlier run (``--promote-only``).
"""

from __future__ import annotations

import dataclasses
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from pytest_promote.result import Finding
from pytest_promote.runner.suite import Suite

#: Report attribute carrying the test's marker names (set where the item is known).
MARKERS_ATTR = "promote_markers"


@dataclasses.dataclass
class TestOutcome:
    """The final outcome of one test item across its setup, call and teardown."""

    nodeid: str
    outcome: str = "passed"  # passed | failed | skipped | xfailed
    markers: frozenset[str] = frozenset()
    #: Seconds of its setup, call and teardown.
    duration: float = 0.0


class TestLog:
    """Outcomes per test node id, in the order the tests reported."""

    __test__ = False  # not a test class, despite the name

    def __init__(self) -> None:
        self.outcomes: dict[str, TestOutcome] = {}
        #: Where outcomes came from: "session", a JUnit path, or None (nothing ran).
        self.source: str | None = None
        #: Whether marker names are known (not from a JUnit XML).
        self.has_markers = True
        #: How many tests of the whole suite these are (set before the gates run).
        self.suite: Suite | None = None
        #: Why the whole suite could not be counted, if it could not.
        self.suite_error: str | None = None
        #: Why the outcomes are no run of the judged commit's suite (shard bundles of
        #: another commit, of another suite, a missing shard): each fails ``tests``.
        self.problems: list[Finding] = []
        #: Tests of the suite known to be left out, by node id (no shard ran them).
        self.left_out: list[str] = []
        #: Tests that ran more than once (in two shards), by node id.
        self.duplicates: list[str] = []

    def record(self, report: pytest.TestReport) -> None:
        """Fold one phase report of a test into its outcome."""
        self.source = "session"
        entry = self.outcomes.setdefault(report.nodeid, TestOutcome(report.nodeid))
        entry.duration += report.duration
        markers = getattr(report, MARKERS_ATTR, None)
        if markers:
            entry.markers = frozenset(markers)
        if report.failed:
            entry.outcome = "failed"
        elif entry.outcome == "failed":
            return
        elif hasattr(report, "wasxfail"):
            entry.outcome = "xfailed"
        elif report.skipped:
            entry.outcome = "skipped"

    def read_junit(self, path: Path) -> None:
        """Take the outcomes of an earlier run from its JUnit XML (a UsageError when
        it cannot be read)."""
        try:
            root = ET.parse(path).getroot()
        except OSError as exc:
            problem = f"cannot be read ({exc.strerror or exc}); give the JUnit XML of the test run"
            raise pytest.UsageError(f"--promote-junit = {str(path)!r}: {problem}") from None
        except ET.ParseError as exc:
            problem = f"not valid XML ({exc}); give the file pytest's --junitxml wrote"
            raise pytest.UsageError(f"--promote-junit = {str(path)!r}: {problem}") from None
        if root.tag not in ("testsuites", "testsuite"):
            problem = f"not a JUnit XML report (its root is <{root.tag}>); give --junitxml's file"
            raise pytest.UsageError(f"--promote-junit = {str(path)!r}: {problem}")
        for case in root.iter("testcase"):
            if case.get("classname") == "promote":
                continue  # the earlier run's gate items (promote::<gate-id>), not tests
            nodeid = f"{case.get('classname', '')}::{case.get('name', '')}"
            entry = self.outcomes.setdefault(nodeid, TestOutcome(nodeid))
            tags = {child.tag for child in case}
            if tags & {"failure", "error"}:
                entry.outcome = "failed"
            elif "skipped" in tags:
                skipped = case.find("skipped")
                xfail = skipped is not None and skipped.get("type") == "pytest.xfail"
                entry.outcome = "xfailed" if xfail else "skipped"
        self.source = str(path)
        self.has_markers = False

    def with_marker(self, marker: str) -> list[TestOutcome]:
        """The tests carrying ``marker``."""
        return [o for o in self.outcomes.values() if marker in o.markers]

    def failed(self) -> list[TestOutcome]:
        """The tests that failed in any phase."""
        return [o for o in self.outcomes.values() if o.outcome == "failed"]

    def nothing_ran(self, gate_id: str, promote_only: bool) -> str | None:
        """Why there are no test results to judge, saying what to do; None if there are."""
        if self.source is not None:
            return None
        if promote_only:
            return (
                f"{gate_id}: no test results to judge: --promote-only ran no tests; "
                "pass --promote-junit=PATH (the JUnit XML of the test run), or drop --promote-only"
            )
        suite = self.suite
        left_out = ""
        if suite and suite.total and suite.means:
            left_out = f": {', '.join(suite.means)} left out all {suite.total} tests"
        return (
            f"{gate_id}: this session ran no test{left_out}; there is nothing to judge: "
            "run the tests without a selection, or judge an earlier run with "
            "--promote-only --promote-junit=PATH"
        )

    def count(self, outcome: str) -> int:
        """How many tests ended with ``outcome``."""
        return sum(1 for o in self.outcomes.values() if o.outcome == outcome)
