"""``tests``: every test of the whole suite passed, enough of them, with the markers asked for."""

from __future__ import annotations

import dataclasses

from pytest_promote.api import Finding, Gate, GateContext, GateResult, maximum, minimum


@dataclasses.dataclass(frozen=True)
class TestsOptions:
    """``[tool.promote.gates.tests]``."""

    __test__ = False
    min: int = minimum(1, "at least this many tests passed", 0, 1_000_000_000)
    markers: tuple[str, ...] = ()
    #: Judge a run that left tests out (-k, -m, paths, --lf...): for local pre-checks.
    #: Its record is never accepted; a later stage may turn this off, not on.
    allow_partial: bool = dataclasses.field(default=False, metadata={"tighten": "down"})
    max_skipped: int | None = maximum(None, "at most this many tests skipped")
    max_xfailed: int | None = maximum(None, "at most this many tests xfailed")

    def __post_init__(self) -> None:
        for key in ("max_skipped", "max_xfailed"):
            value = getattr(self, key)
            if value is not None and value < 0:
                raise ValueError(f"`{key}` must be 0 or more")


def no_results(gate_id: str, context: GateContext) -> GateResult | None:
    """An error when the session has no test results to judge, saying what to do."""
    log = context.tests
    if log.suite_error:
        return GateResult.error(f"{gate_id}: {log.suite_error}")
    said = log.nothing_ran(gate_id, context.promote_only)
    return GateResult.error(said) if said else None


class TestsGate(Gate):
    """Every test item passed, the whole suite ran; optionally at least ``min``, each
    of ``markers``, at most ``max_skipped``/``max_xfailed``."""

    __test__ = False
    Options = TestsOptions
    title = "tests"

    def evaluate(self) -> GateResult:
        """Judge the session's test outcomes."""
        opts: TestsOptions = self.options
        log = self.context.tests
        missing = no_results(self.id, self.context)
        if missing:
            return missing
        passed, failed = log.count("passed"), log.failed()
        skipped, xfailed = log.count("skipped"), log.count("xfailed")
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
        for count, cap, what in ((skipped, opts.max_skipped, "skipped"),
                                 (xfailed, opts.max_xfailed, "xfailed")):
            if cap is not None and count > cap:
                findings.append(Finding(f"{count} {what}, at most {cap} allowed", rule=what))
        suite = log.suite
        partial = suite is not None and suite.partial
        if partial and suite and not opts.allow_partial:
            how = f" by {', '.join(suite.means)}" if suite.means else ""
            findings.append(Finding(
                f"{suite.total - suite.ran} of {suite.total} tests left out{how}"
                f"{f', {len(suite.extra)} not in the suite' if suite.extra else ''}: run the whole "
                "suite (a stage may allow partial runs: tests = { allow_partial = true })",
                rule="partial",
            ))
            findings += [Finding(nodeid, file=nodeid.split("::")[0], rule="not-run")
                         for nodeid in log.left_out]
            findings += [Finding(f"{nodeid}: ran, but is no test of the suite", rule="not-in-suite")
                         for nodeid in suite.extra]
        findings += log.problems
        measured = f"{passed} passed, {len(failed)} failed"
        measured += "".join(f", {n} {what}" for n, what in ((skipped, "skipped"),
                                                            (xfailed, "xfailed")) if n)
        if partial and suite:
            measured += f"; {suite.describe()}"
        if log.duplicates:
            shown = ", ".join(log.duplicates[:3]) + (", ..." if len(log.duplicates) > 3 else "")
            measured += f"; {len(log.duplicates)} ran in more than one shard ({shown})"
        threshold = f"all pass, >= {opts.min}" + "".join(
            f", <= {cap} {what}" for cap, what in ((opts.max_skipped, "skipped"),
                                                    (opts.max_xfailed, "xfailed"))
            if cap is not None
        )
        figures = {"passed": passed, "failed": len(failed)}
        if findings:
            summary = f"tests: {measured}; all must pass, >= {opts.min}, for {self.context.stage}"
            return GateResult.failed(
                summary, measured=measured, threshold=threshold, findings=findings, figures=figures
            )
        return GateResult.passed(f"tests: {measured}", measured=measured, threshold=threshold, figures=figures)
