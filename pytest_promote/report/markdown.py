"""The Markdown summary (``--promote-summary``, ``$GITHUB_STEP_SUMMARY``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pytest_promote.scorecard import Verdict

if TYPE_CHECKING:
    from pytest_promote.run import PromoteRun

ICON = {"passed": "✅", "failed": "❌", "error": "⛔", "not run": "⏭️"}


def cell(value: object) -> str:
    """A value made safe for one table cell."""
    text = "" if value is None else str(value).splitlines()[0] if str(value) else ""
    return text.replace("|", "\\|")


def render(run: PromoteRun, verdict: Verdict) -> str:
    """A heading with the verdict, then one table row per gate."""
    lines = [
        f"## Promotion to {verdict.stage}: {verdict.headline}",
        "",
        f"{verdict.describe()}.",
        "",
        "| gate | mode | status | measured | threshold | summary |",
        "|---|---|---|---|---|---|",
    ]
    for gate in verdict.gates:
        result = gate.result
        status = f"{gate.status} (overridden)" if gate.overridden else gate.status
        lines.append(
            f"| {gate.id} | {gate.mode} | {ICON.get(gate.status, '')} {status} | "
            f"{cell(result.measured if result else None)} | "
            f"{cell(result.threshold if result else None)} | "
            f"{cell(result.summary if result else 'did not run')} |"
        )
    overrides = [g.override for g in verdict.gates if g.override]
    if overrides:
        lines += ["", "| override | used | by | until | reason |", "|---|---|---|---|---|"]
        for gate in verdict.gates:
            o = gate.override
            if o:
                until = o.until.isoformat() if o.until else ""
                used = "yes" if gate.overridden else "no (unused)"
                lines.append(f"| {o.gate} | {used} | {cell(o.by)} | {until} | {cell(o.reason)} |")
    if run.selection:
        lines += ["", f"Stage chosen {run.selection.describe()}."]
    lines += ["", f"Policy: {run.policy.source}", ""]
    return run.redact("\n".join(lines))
