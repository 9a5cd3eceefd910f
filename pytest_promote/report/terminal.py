"""The ``promotion`` section of pytest's terminal summary."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

# Not `from pytest_promote.report import annotations`: in that package the name is
# `from __future__ import annotations`'s feature object, not the module.
from pytest_promote.report.annotations import lines as annotation_lines

if TYPE_CHECKING:
    from pytest_promote.run import PromoteRun


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
        tr.write_line(f"  {gate.id:<{width}}  {gate.mode:<9} {gate.status:<8} {figures}")
    if os.environ.get("GITHUB_ACTIONS") == "true":
        for line in annotation_lines(verdict):
            tr.write_line(line)
