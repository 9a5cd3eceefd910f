"""What a verdict has to show a CI: every finding of a gate that did not pass, most
important first, each at a place in the tree and with a fingerprint that stays the
same from run to run (CI formats use it to tell new findings from known ones).
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pytest_promote.api import Finding, relative
from pytest_promote.runner.scorecard import GateOutcome, Verdict

if TYPE_CHECKING:
    from pytest_promote.runner.run import PromoteRun

Level = Literal["error", "warning"]


@dataclasses.dataclass(frozen=True)
class Issue:
    """One finding of a gate that did not pass, as CI formats show it."""

    gate: str
    #: "error" for a required gate that failed, errored or did not run; "warning" for
    #: an advisory or overridden one.
    level: Level
    #: The gate's status: failed, error or "not run".
    status: str
    finding: Finding
    #: Where to show it: the finding's file, else the policy's file (line 1).
    path: str
    line: int
    fingerprint: str

    @property
    def rule(self) -> str:
        """``gate/rule`` (``lint/F401``), or the gate's id for a finding without a rule."""
        return f"{self.gate}/{self.finding.rule}" if self.finding.rule else self.gate

    @property
    def message(self) -> str:
        """The finding's message, prefixed by its rule when it has one."""
        f = self.finding
        return f"{f.rule} {f.message}" if f.rule else f.message


def level(outcome: GateOutcome) -> Level:
    """An unpassed required gate is an error; advisory and overridden gates warn."""
    return "error" if outcome.mode == "required" and not outcome.overridden else "warning"


def policy_file(source: str, root: Path) -> str:
    """The file the policy came from, relative to ``root`` (``pyproject.toml`` for the
    embedded default policy: that is where a project would write its own)."""
    name = source.removesuffix(" [tool.promote]")
    if name == source and not Path(source).is_absolute():
        return "pyproject.toml"
    return relative(Path(name), root)


def issues(verdict: Verdict, policy_path: str) -> list[Issue]:
    """Every issue of the verdict: errors before warnings, then in the policy's gate
    order and each gate's own order.

    A gate that failed without findings is one issue carrying its summary. The
    fingerprint covers the gate, the rule, the file and the message (not the line, so
    moving code keeps it), and counts repeats, so every fingerprint is unique.
    """
    found: dict[Level, list[Issue]] = {"error": [], "warning": []}
    seen: Counter[tuple[str, ...]] = Counter()
    for outcome in verdict.gates:
        if outcome.status == "passed":
            continue
        result = outcome.result
        findings = result.findings if result is not None else ()
        if not findings:
            summary = result.summary if result is not None else "did not run (deselected or interrupted)"
            findings = (Finding(summary),)
        for finding in findings:
            # A summary carries figures that change from run to run: the gate names it.
            message = finding.message if result is not None and result.findings else ""
            key = (outcome.id, finding.rule, finding.file or "", message)
            repeat = seen[key]
            seen[key] += 1
            digest = hashlib.sha256("\0".join([*key, str(repeat)]).encode("utf-8")).hexdigest()
            issue = Issue(
                outcome.id, level(outcome), outcome.status, finding,
                finding.file or policy_path, max(finding.line or 1, 1) if finding.file else 1, digest,
            )
            found[issue.level].append(issue)
    return found["error"] + found["warning"]


def from_verdict(run: PromoteRun, verdict: Verdict) -> list[Issue]:
    """The issues of ``verdict``, placed in ``run``'s project (their messages are the
    results' own, masked when the gates' results came in)."""
    return issues(verdict, policy_file(run.policy.source, run.context.rootpath))
