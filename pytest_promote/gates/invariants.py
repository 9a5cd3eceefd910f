"""``invariants``: every test marked ``invariant`` passed, and enough of them exist."""

from __future__ import annotations

import dataclasses

from pytest_promote.api import Finding, Gate, GateResult, minimum
from pytest_promote.gates.tests import no_results


@dataclasses.dataclass(frozen=True)
class InvariantsOptions:
    """``[tool.promote.gates.invariants]``."""

    count: int = minimum(1, "at least this many invariants exist", 0, 1_000_000)
    marker: str = "invariant"


class InvariantsGate(Gate):
    """Enough tests marked ``invariant`` ran and all passed ("all 12 invariants pass"), as a gate."""

    Options = InvariantsOptions
    title = "invariants"

    def evaluate(self) -> GateResult:
        """Judge the tests carrying the invariant marker."""
        opts: InvariantsOptions = self.options
        log = self.context.tests
        missing = no_results(self.id, self.context)
        if missing:
            return missing
        if not log.has_markers:
            return GateResult.error(
                f"{self.id}: {log.source} does not say which tests are marked "
                f"{opts.marker!r}; drop --promote-only"
            )
        tests = log.with_marker(opts.marker)
        bad = [t for t in tests if t.outcome not in ("passed",)]
        passed = len(tests) - len(bad)
        measured = f"{passed}/{len(tests)}"
        threshold = f">= {opts.count}, all pass"
        findings = [
            Finding(t.nodeid, file=t.nodeid.split("::")[0], rule=t.outcome)
            for t in bad
        ]
        if len(tests) < opts.count:
            findings.append(
                Finding(f"{len(tests)} invariants exist, {opts.count} required", rule="count")
            )
        if findings:
            summary = (
                f"invariants: {passed}/{max(len(tests), opts.count)} passed "
                f"({opts.count} required for {self.context.stage})"
            )
            return GateResult.failed(summary, measured=measured, threshold=threshold, findings=findings)
        return GateResult.passed(
            f"invariants: all {len(tests)} passed", measured=measured, threshold=threshold
        )
