"""The Markdown summary (``--promote-summary``, ``$GITHUB_STEP_SUMMARY``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pytest_promote.report.issues import Issue
from pytest_promote.runner.options import options
from pytest_promote.runner.scorecard import Verdict

if TYPE_CHECKING:
    from pytest_promote.runner.run import PromoteRun

ICON = {"passed": "✅", "failed": "❌", "error": "⛔", "not run": "⏭️"}
#: GitHub shows a job step's summary only up to 1 MiB.
STEP_SUMMARY_LIMIT = 1024 * 1024


def cell(value: object) -> str:
    """A value made safe for one table cell."""
    text = "" if value is None else str(value).splitlines()[0] if str(value) else ""
    return text.replace("|", "\\|")


def whose(run: PromoteRun) -> str:
    """`` of component NAME`` in a component's run, else nothing."""
    component = run.policy.component
    return f" of component {component.name}" if component else ""


def render(
    run: PromoteRun, verdict: Verdict, found: list[Issue], budget: int = STEP_SUMMARY_LIMIT
) -> str:
    """A heading with the verdict and the run's decision, one table row per gate, then
    the findings of the gates that did not pass, as many as fit in ``budget`` bytes."""
    decided = f", {run.decision.line}" if run.decision else ""
    lines = [
        f"## Promotion{whose(run)} to {verdict.stage}: {verdict.headline}{decided}",
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
    lines += [f"\nBase of {gid}: {cell(base)}." for gid, base in verdict.bases.items()]
    from pytest_promote.report.json_report import signature

    policy = run.policy_proof.describe() if run.policy_proof else run.policy.source
    lines += ["", f"Policy: {policy}", "", f"Attestation: {signature(run)}", ""]
    badge = badge_link(run, verdict.stage)
    if badge:
        lines += [badge, ""]
    head = "\n".join(lines)
    return head + findings(found, budget - len(head.encode("utf-8")))


def badge_link(run: PromoteRun, stage: str) -> str | None:
    """The stage's badge, where the CI says the run's page is published: GitLab Pages
    (``CI_PAGES_URL``) when the run writes its page (``--promote-html``)."""
    import os

    pages = os.environ.get("CI_PAGES_URL")
    if not pages or not options(run.context.config).html:
        return None
    from pytest_promote.report.page.make import badge_name

    return f"![{stage}]({pages.rstrip('/')}/{badge_name(stage)})"


def findings(found: list[Issue], budget: int) -> str:
    """A list of the issues, errors first, within ``budget`` bytes; then how many more."""
    if not found:
        return ""
    out = "\n### Findings\n\n"
    reserve = 200  # for the line saying how many were left out
    for shown, issue in enumerate(found):
        f = issue.finding
        where = f" `{f.file}:{f.line}`" if f.file and f.line else f" `{f.file}`" if f.file else ""
        icon = "❌" if issue.level == "error" else "⚠️"
        line = f"- {icon} **{issue.gate}**{where} {cell(issue.message)}\n"
        if len((out + line).encode("utf-8")) > budget - reserve:
            more = len(found) - shown
            return out + f"\n… and {more} more finding{'s' * (more != 1)}: the JSON report lists all.\n"
        out += line
    return out


def render_all(runs: tuple[PromoteRun, ...], budget: int = STEP_SUMMARY_LIMIT) -> str:
    """The summary of every run of the session (one per component judged), each
    within an equal share of ``budget``."""
    from pytest_promote.report import issues

    share = budget // max(len(runs), 1)
    return "\n".join(
        render(run, run.verdict, issues.from_verdict(run, run.verdict), share)
        for run in runs if run.verdict is not None
    )
