"""The ``promotion`` section of pytest's terminal summary."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from pytest_promote.report import github
from pytest_promote.scorecard import Verdict

if TYPE_CHECKING:
    from pytest_promote.run import PromoteRun


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


def write(tr: Any, run: PromoteRun) -> None:
    """Stage, colour, accepted or not, and one line per gate."""
    verdict = run.verdict
    assert verdict is not None
    colour = {"green": {"green": True}, "yellow": {"yellow": True}, "red": {"red": True}}
    tr.write_sep("=", "promotion", **colour[verdict.colour], bold=True)
    dry = " (dry run: exit status 0)" if run.dry_run else ""
    tr.write_line(f"stage {verdict.stage}: {verdict.describe()}{dry}")
    width = max((len(g.id) for g in verdict.gates), default=5)
    for gate in verdict.gates:
        result = gate.result
        figures = ""
        if result is not None:
            cached = " (cached, inputs unchanged)" if result.cached else ""
            figures = f"measured {result.measured}, threshold {result.threshold}{cached}"
        status = "overridden" if gate.overridden else gate.status
        tr.write_line(f"  {gate.id:<{width}}  {gate.mode:<9} {status:<10} {figures}")
    for line in override_lines(verdict):
        tr.write_line(line)
    if os.environ.get("GITHUB_ACTIONS") == "true":
        for line in github.lines(verdict):
            tr.write_line(line)
