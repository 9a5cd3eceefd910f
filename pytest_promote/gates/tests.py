"""``tests``: every test of the session passed, enough of them, with the markers asked for."""

from __future__ import annotations

import dataclasses

from pytest_promote.gate import Finding, Gate, GateResult
from pytest_promote.schema import minimum
from pytest_promote.testlog import TestLog


@dataclasses.dataclass(frozen=True)
class TestsOptions:
    """``[tool.promote.gates.tests]``."""

    __test__ = False
    min: int = minimum(1, "at least this many tests passed")
    markers: tuple[str, ...] = ()


def no_results(gate_id: str, log: TestLog) -> GateResult | None:
    """An error when the session has no test results to judge, saying what to pass."""
    if log.source is not None:
        return None
    return GateResult.error(
        f"{gate_id}: no test results to judge: --promote-only ran no tests; "
        "pass --promote-junit=PATH (the JUnit XML of the test run), or drop --promote-only"
    )


class TestsGate(Gate):
    """Every test item passed; optionally at least ``min`` and each of ``markers``."""

    __test__ = False
    Options = TestsOptions
    title = "tests"

    def evaluate(self) -> GateResult:
        """Judge the session's test outcomes."""
        opts: TestsOptions = self.options
        log = self.context.tests
        missing = no_results(self.id, log)
        if missing:
            return missing
        passed, failed = log.count("passed"), log.failed()
        findings = [
            Finding(o.nodeid, file=o.nodeid.split("::")[0], rule="failed")
            for o in failed
        ]
        if opts.markers and not log.has_markers:
            return GateResult.error(
                f"{self.id}: markers {list(opts.markers)} cannot be checked from {log.source}, "
                "which carries no markers; drop --promote-only"
            )
        for marker in opts.markers:
            if not log.with_marker(marker):
                findings.append(Finding(f"no test marked {marker!r}", rule="marker"))
        if passed < opts.min:
            findings.append(Finding(f"{passed} passed, at least {opts.min} required", rule="min"))
        measured = f"{passed} passed, {len(failed)} failed"
        threshold = f"all pass, >= {opts.min}"
        if findings:
            summary = f"tests: {measured}; all must pass, >= {opts.min}, for {self.context.stage}"
            return GateResult.failed(summary, measured=measured, threshold=threshold, findings=findings)
        return GateResult.passed(f"tests: {measured}", measured=measured, threshold=threshold)
