"""The ``promotion`` section of pytest's terminal summary."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest

from pytest_promote.api import findings_text
from pytest_promote.report import github, json_report
from pytest_promote.runner.scorecard import GateOutcome, Verdict

if TYPE_CHECKING:
    from pytest_promote.runner.run import PromoteRun


def override_lines(verdict: Verdict) -> list[str]:
    """One line per override: used (with the gate's real status) or unused."""
    lines = [
        f"override {g.id} ({g.status}) {g.override.describe()}"
        for g in verdict.overridden if g.override
    ]
    lines += [
        f"unused override {o.gate} (the gate did not fail) {o.describe()}"
        for o in verdict.unused_overrides
    ]
    return lines


def status_markup(gate: GateOutcome) -> dict[str, bool]:
    """A gate's status coloured as pytest colours the outcome of its item: passed
    green, a required failure red, an advisory failure or an override (xfailed) yellow."""
    if gate.status == "passed":
        return {"green": True}
    if gate.overridden or gate.mode == "advisory":
        return {"yellow": True}
    return {"red": True}


def figures(gate: GateOutcome) -> str:
    """What the gate measured against its threshold; for a gate that measured nothing
    (an error, say), its summary, which says why."""
    result = gate.result
    if result is None:
        return ""
    cached = " (cached, inputs unchanged)" if result.cached else ""
    if result.measured is None and result.threshold is None:
        return result.summary.splitlines()[0] + cached
    return f"measured {result.measured}, threshold {result.threshold}{cached}"


class _Redacting:
    """The terminal reporter, every line masked on its way out."""

    def __init__(self, tr: pytest.TerminalReporter, redact: Callable[[str], str]) -> None:
        self.tr = tr
        self.redact = redact

    def write_line(self, line: str, **markup: bool) -> None:
        self.tr.write_line(self.redact(line), **markup)

    def write_sep(self, sep: str, title: str, **markup: bool) -> None:
        self.tr.write_sep(sep, self.redact(title), **markup)

    def write(self, text: str, **markup: bool) -> None:
        self.tr.write(self.redact(text), **markup)

    def line(self, text: str, **markup: bool) -> None:
        self.tr.line(self.redact(text), **markup)


def write(reporter: pytest.TerminalReporter, run: PromoteRun) -> None:
    """Stage, colour, accepted or not, and one line per gate."""
    verdict = run.verdict
    assert verdict is not None
    tr = _Redacting(reporter, run.redact)
    colour = {"green": {"green": True}, "yellow": {"yellow": True}, "red": {"red": True}}
    tr.write_sep("=", "promotion", **colour[verdict.colour], bold=True)
    dry = " (dry run: exit status 0)" if run.dry_run else ""
    component = run.policy.component
    whose = f"component {component.name}, " if component else ""
    tr.write_line(f"{whose}stage {verdict.stage}: {verdict.describe()}{dry}")
    width = max((len(g.id) for g in verdict.gates), default=5)
    for gate in verdict.gates:
        status = "overridden" if gate.overridden else gate.status
        tr.write(f"  {gate.id:<{width}}  {gate.mode:<9} ")
        shown = figures(gate)
        tr.write(f"{status:<10}" if shown else status, **status_markup(gate))
        tr.line(f" {shown}" if shown else "")
        if gate.mode == "advisory" and gate.result and gate.result.status != "passed":
            # Its item is an xfail, which pytest's short summary leaves out by default.
            for line in findings_text(gate.result.findings, limit=10).splitlines():
                tr.line(f"    {line}")
    for line in override_lines(verdict):
        tr.write_line(line)
    if run.policy_proof is not None:
        tr.write_line(f"policy: {run.policy_proof.describe()}")
    tr.write_line(f"attestation: {json_report.signature(run)}")
    if os.environ.get("GITHUB_ACTIONS") == "true":
        for line in github.lines(verdict, github.where(run.context.config)):
            tr.write_line(line)


def components(reporter: pytest.TerminalReporter, runs: list[PromoteRun]) -> None:
    """After the sections of a session judging several components: one line each,
    and whether the session passes (only when every one meets its stage)."""
    reporter.write_sep("=", "promotion of components", bold=True)
    width = max(len(run.policy.component.name) for run in runs if run.policy.component)
    for run in runs:
        verdict, component = run.verdict, run.policy.component
        assert verdict is not None and component is not None
        markup = {"green": True} if verdict.accepted else {"yellow": True} if verdict.meets else {"red": True}
        reporter.write_line(run.redact(f"{component.name:<{width}}  {verdict.stage}: {verdict.describe()}"),
                            **markup)
    failing = [run.policy.component.name for run in runs
               if run.verdict and not run.verdict.meets and run.policy.component]
    if failing:
        reporter.write_line(f"failed: {', '.join(failing)} (the exit status fails when any "
                            "component does not meet its stage)", red=True, bold=True)
