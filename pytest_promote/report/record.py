"""A run's record in the ledger (:mod:`pytest_promote.ledger.records`): made from its verdict
and its JSON report, and written when the verdict is in."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import pytest

from pytest_promote._util import git
from pytest_promote.ledger.records import REF, Record, now, write
from pytest_promote.runner.options import options

if TYPE_CHECKING:
    from pytest_promote.runner.run import PromoteRun
    from pytest_promote.runner.scorecard import Verdict


def build(run: PromoteRun, verdict: Verdict, report: Mapping[str, Any], commit: str) -> Record:
    """The record of this run, from its verdict and its JSON report."""
    gates = {g.id: ("overridden" if g.overridden else g.status) for g in verdict.gates}
    return Record(
        commit=commit,
        stage=verdict.stage,
        colour=verdict.colour,
        accepted=verdict.accepted,
        time=now(),
        tree=git.tree(run.context.rootpath),
        headline=verdict.headline,
        actor=git.actor(run.context.rootpath),
        digest=report.get("digest"),
        gates=gates,
        caveats=verdict.caveats,
        partial=report.get("partial"),
        dirty=None if run.dirty is None else len(run.dirty),
        environment=run.shown_environment(),
        terminated=run.terminated,
        component=run.policy.component.name if run.policy.component else None,
        figures={g.id: dict(g.result.figures) for g in verdict.gates
                 if g.result is not None and g.result.figures},
        attestation=report.get("attestation"),
    )



class RecordLost(RuntimeError):
    """The run's record could not be written; the message says why, in git's words."""


class LedgerPlugin:
    """Records the verdict of every run that is not a dry run (one record per
    component when a session judges several); outside CI, not of runs on a working tree
    that differs from the commit."""

    def __init__(self) -> None:
        self.messages: list[str] = []

    @pytest.hookimpl(trylast=True)
    def pytest_promote_verdict(self, config: pytest.Config, verdict: Verdict, run: PromoteRun) -> None:
        """Write the record (after the reports, whose digest it carries). A record
        that cannot be written fails the session (exit 4), saying why."""
        try:
            message = self._record(config, verdict, run)
        except Exception as exc:  # whatever stops the record is said, never a traceback
            why = str(exc) if isinstance(exc, (OSError, RecordLost)) else f"{type(exc).__name__}: {exc}"
            message = f"ledger: NOT recorded: {git.printable(why)}"
            run.failed_outputs.append(
                f"{message}; the verdict above holds no record in {REF}: "
                "make the repository writable (free disk space, permissions) and run again"
            )
        self.messages.append(message)

    def _record(self, config: pytest.Config, verdict: Verdict, run: PromoteRun) -> str:
        from pytest_promote.report import json_report
        from pytest_promote.runner.acceptance import dirty_text

        if run.dry_run:
            return "ledger: dry run, nothing recorded"
        if options(config).no_ledger:
            return f"ledger: not recorded (--promote-no-ledger); nothing written to {REF}"
        root = run.context.rootpath
        commit = git.head(root)
        if commit is None:
            return "ledger: not recorded: not a git repository (or no commit yet)"
        if run.dirty and not git.in_ci():
            # It judged a tree that is not the commit: a pre-check on a laptop, run
            # again and again, would pile up records that can never count. CI keeps
            # every run's record as the pipeline's trail.
            return (
                f"ledger: not recorded: {dirty_text(run.dirty)}, so the run says nothing "
                f"about {commit[:12]} (outside CI, runs on an uncommitted tree are not recorded)"
            )
        report = json_report.from_verdict(config, run, verdict)
        record = build(run, verdict, report, commit)  # typed values, free text masked at entry
        try:
            write(root, record)
        except (RuntimeError, OSError) as exc:
            raise RecordLost(f"on {commit[:12]}: {run.redact(str(exc))}") from None  # git's words
        whose = f"component {record.component} " if run.node != "promote" else ""
        return (
            f"ledger: recorded {whose}{record.stage} {record.headline} on {commit[:12]} ({REF}), "
            f"{report.get('signature')}"
        )

    @pytest.hookimpl(trylast=True)
    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        """One line per run saying what the ledger recorded."""
        for message in self.messages:
            terminalreporter.write_line(message)
