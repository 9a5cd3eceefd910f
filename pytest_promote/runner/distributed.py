"""The xdist controller's side of a promotion run: which gate items the workers kept,
what they collected, and the progress count with the gates in it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from pytest_promote.runner.suite import WORKER_KEY, SuiteCount

if TYPE_CHECKING:
    from pytest_promote.runner.run import PromoteRun

SELECTED = "promote_selected"  # key in xdist's workeroutput
WORKER_DESELECTED = "promote_deselected"  # key in xdist's workeroutput: files left out


class XdistHooks:
    """On the controller of a distributed session: it learns from the workers which
    gate items ``-k``/``-m`` kept, and counts them in pytest's progress."""

    def __init__(self, runs: tuple[PromoteRun, ...], count: SuiteCount) -> None:
        self.count = count
        self.selected: list[str] | None = None
        #: Whether a worker's collection was taken (the first one's).
        self.taken = False
        self.session: pytest.Session | None = None
        # Until the workers tell which gates were selected: every planned one (and
        # each run's scorecard).
        self.gate_count = sum(len(run.stage.gates) + 1 for run in runs if not run.shard)
        self.counted: int | None = None

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        """Remember the session whose count of items the progress is measured against."""
        self.session = session

    def pytest_testnodedown(self, node: Any, error: object) -> None:
        """Take the selection a worker sent with its results."""
        output = getattr(node, "workeroutput", None) or {}
        if SELECTED in output and self.selected is None:
            self.selected = list(output[SELECTED])
            self.count_gates(len(self.selected))
        if WORKER_KEY in output and not self.taken:
            self.taken = True
            tests, errors = output[WORKER_KEY]
            self.count.canonical.from_session(tests, {**errors, **self.count.errors})
            self.count.deselected = list(output.get(WORKER_DESELECTED, []))

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """Before the terminal shows the progress of a report, count the gates in it."""
        self.count_gates(self.gate_count)

    def count_gates(self, gate_count: int) -> None:
        """pytest-xdist sets the session's count of items to the workers' collection,
        which holds only tests: add the gates the controller runs after them, so the
        progress ends at 100%."""
        session = self.session
        if session is None:
            return
        if session.testscollected == self.counted:  # counted before: take the old count out
            session.testscollected -= self.gate_count
        self.gate_count = gate_count
        session.testscollected += gate_count
        self.counted = session.testscollected
