"""The ``promotion`` section of pytest's terminal summary."""

from __future__ import annotations

import os
from collections.abc import Sequence
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


def write(reporter: pytest.TerminalReporter, run: PromoteRun) -> None:
    """Stage, colour, accepted or not, and one line per gate: typed values, and the
    results' free text as the run masked it when they came in."""
    verdict = run.verdict
    assert verdict is not None
    tr = reporter
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
    for gid, base in verdict.bases.items():
        tr.write_line(f"base of {gid}: {base}")
    for gate in verdict.gates:
        setting = (gate.result.figures or {}).get("environment") if gate.result else None
        if isinstance(setting, dict) and setting:
            said = ", ".join(f"{k}={v}" for k, v in setting.items())
            tr.write_line(f"{gate.id} judged with {said}")
    for line in override_lines(verdict):
        tr.write_line(line)
    if run.policy_proof is not None:
        tr.write_line(f"policy: {run.policy_proof.describe()}")
    tr.write_line(f"attestation: {json_report.signature(run)}")
    if os.environ.get("GITHUB_ACTIONS") == "true" and run.decision is not None:
        title = f"promote {component.name} scorecard" if component else "promote scorecard"
        for line in github.lines(run.decision, github.where(run.context.config), title):
            tr.write_line(line)


def components(reporter: pytest.TerminalReporter, runs: list[PromoteRun]) -> None:
    """After the sections of a session judging several components: one line each,
    and whether the session passes (only when every one meets its stage)."""
    reporter.write_sep("=", "promotion of components", bold=True)
    width = max(len(run.policy.component.name) for run in runs if run.policy.component)
    for run in runs:
        verdict, component = run.verdict, run.policy.component
        assert verdict is not None and component is not None
        reporter.write_line(f"{component.name:<{width}}  {verdict.stage}: {verdict.describe()}", **markup(run))
    failing = [run.policy.component.name for run in runs
               if run.decision and run.decision.exits_non_zero and run.policy.component]
    if failing:
        reporter.write_line(f"failed: {', '.join(failing)} (the exit status fails when any "
                            "component's decision fails: see the last lines)", red=True, bold=True)


def markup(run: PromoteRun) -> dict[str, bool]:
    """Green when accepted, red when the decision fails the run, else yellow."""
    decision = run.decision
    if decision is None or decision.fails:
        return {"red": True}
    return {"green": True} if decision.accepted else {"yellow": True}


def decisions(reporter: pytest.TerminalReporter, runs: Sequence[PromoteRun]) -> None:
    """The session's last lines: each run's decision (``not accepted: REASON``), and
    what it makes of the exit status; with several components, each named."""
    for run in runs:
        decision, component = run.decision, run.policy.component
        if decision is None or run.shard:
            continue
        whose = f"component {component.name}: " if component and len(runs) > 1 else ""
        reporter.write_line(f"{whose}{decision.last_line}", bold=True, **markup(run))
