"""The JSON report (``--promote-report``): the scorecard as data."""

from __future__ import annotations

import datetime
import json
from typing import TYPE_CHECKING, Any

from pytest_promote import git
from pytest_promote.scorecard import GateOutcome, Verdict

if TYPE_CHECKING:
    from pytest_promote.run import PromoteRun

#: Bumped whenever a field changes meaning or goes away (README "JSON report").
SCHEMA_VERSION = 1


def build(run: PromoteRun, verdict: Verdict) -> dict[str, Any]:
    """The report of one promotion run."""
    root = run.context.rootpath
    return {
        "schema": SCHEMA_VERSION,
        "stage": verdict.stage,
        "policy": run.policy.source,
        "commit": git.head(root),
        "branch": git.branch(root),
        "time": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "colour": verdict.colour,
        "accept": verdict.accept,
        "accepted": verdict.accepted,
        "reasons": list(verdict.reasons),
        "dry_run": run.dry_run,
        "gates": [gate_entry(o) for o in verdict.gates],
        "overrides": [],
    }


def gate_entry(outcome: GateOutcome) -> dict[str, Any]:
    """One gate of the report."""
    result = outcome.result
    return {
        "id": outcome.id,
        "mode": outcome.mode,
        "status": outcome.status,
        "summary": result.summary if result else "did not run (deselected or interrupted)",
        "measured": result.measured if result else None,
        "threshold": result.threshold if result else None,
        "cached": result.cached if result else False,
        "findings": [
            {"file": f.file, "line": f.line, "col": f.col, "rule": f.rule, "message": f.message}
            for f in (result.findings if result else ())
        ],
        "duration": round(outcome.duration, 3),
    }


def dumps(report: dict[str, Any]) -> str:
    """The report as stable, readable JSON."""
    return json.dumps(report, indent=2, sort_keys=False) + "\n"
