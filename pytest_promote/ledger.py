"""The promotion ledger: each run's outcome as a git note on HEAD (``refs/notes/promote``).

One JSON line per run (stage, colour, accepted, gate statuses, the report's digest,
time, actor, tree); a commit promoted twice carries both lines. Notes travel with
``git fetch/push origin refs/notes/promote``; see docs/governance.md and docs/ci.md.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from pytest_promote import git

if TYPE_CHECKING:
    from pytest_promote.run import PromoteRun
    from pytest_promote.scorecard import Verdict

REF = "refs/notes/promote"


@dataclasses.dataclass(frozen=True)
class Record:
    """One recorded promotion run of one commit."""

    commit: str
    stage: str
    colour: str
    accepted: bool
    time: str
    tree: str | None = None
    headline: str = ""
    actor: str | None = None
    digest: str | None = None
    gates: Mapping[str, str] = dataclasses.field(default_factory=dict)
    #: Why the colour proves nothing (partial run, dirty tree, moved clock); a record
    #: with any is never accepted.
    caveats: tuple[str, ...] = ()
    #: ``{"ran": N, "total": M, "left_out_by": [...]}`` when tests were left out.
    partial: Mapping[str, Any] | None = None
    #: How many paths differed from HEAD at session start (None: unknown).
    dirty: int | None = 0
    #: Environment variables that changed the judging (``PROMOTE_NOW``).
    environment: Mapping[str, str] = dataclasses.field(default_factory=dict)

    @property
    def proves(self) -> bool:
        """Whether this record is an accepted run of the whole suite on a clean tree."""
        return self.accepted and not (self.caveats or self.partial or self.dirty
                                      or self.environment)

    def as_dict(self) -> dict[str, Any]:
        """The record as JSON (the note's line, and ``--promote-status --promote-json``)."""
        return {
            k: dict(v) if isinstance(v, Mapping) else list(v) if isinstance(v, tuple) else v
            for k, v in vars(self).items()
        }


def build(run: PromoteRun, verdict: Verdict, report: Mapping[str, Any], commit: str) -> Record:
    """The record of this run, from its verdict and its JSON report."""
    gates = {g.id: ("overridden" if g.overridden else g.status) for g in verdict.gates}
    return Record(
        commit=commit,
        stage=verdict.stage,
        colour=verdict.colour,
        accepted=verdict.accepted,
        # Real time, never PROMOTE_NOW: the ledger says when things happened.
        time=datetime.datetime.now(datetime.UTC).isoformat(timespec="microseconds"),
        tree=git.tree(run.context.rootpath),
        headline=verdict.headline,
        actor=git.actor(run.context.rootpath),
        digest=report.get("digest"),
        gates=gates,
        caveats=verdict.caveats,
        partial=report.get("partial"),
        dirty=None if run.dirty is None else len(run.dirty),
        environment=dict(run.environment),
    )


def parse(commit: str, text: str) -> list[Record]:
    """The records in one note; lines that are not records are skipped."""
    fields = {f.name for f in dataclasses.fields(Record)}
    found = []
    for line in text.splitlines():
        try:
            data = json.loads(line)
            data = {k: v for k, v in data.items() if k in fields and k != "commit"}
            data["caveats"] = tuple(data.get("caveats", ()))
            found.append(Record(commit=commit, **data))
        except (ValueError, TypeError, AttributeError):
            continue  # a hand-written or foreign line in the note
    return found


def records(root: Path) -> list[Record]:
    """Every record of the repository, oldest first."""
    found = [r for commit, text in git.all_notes(root, REF).items() for r in parse(commit, text)]
    return sorted(found, key=lambda r: r.time)


def for_head(all_records: Iterable[Record], head: str, tree: str | None) -> list[Record]:
    """The records of HEAD, or of any commit with HEAD's tree (the same files)."""
    return [r for r in all_records if r.commit == head or (tree and r.tree == tree)]


def write(root: Path, record: Record) -> None:
    """Append ``record`` to the note on its commit."""
    line = json.dumps({k: v for k, v in record.as_dict().items() if k != "commit"}, sort_keys=True)
    git.add_note(root, REF, record.commit, line)


class LedgerPlugin:
    """Records the verdict of every run that is not a dry run."""

    def __init__(self, run: PromoteRun) -> None:
        self.run = run
        self.message: str | None = None

    @pytest.hookimpl(trylast=True)
    def pytest_promote_verdict(self, config: pytest.Config, verdict: Verdict) -> None:
        """Write the record (after the reports, whose digest it carries)."""
        from pytest_promote.report import json_report

        if self.run.dry_run:
            self.message = "ledger: dry run, nothing recorded"
            return
        if config.getoption("promote_no_ledger"):
            self.message = f"ledger: not recorded (--promote-no-ledger); nothing written to {REF}"
            return
        root = self.run.context.rootpath
        commit = git.head(root)
        if commit is None:
            self.message = "ledger: not recorded: not a git repository (or no commit yet)"
            return
        record = build(self.run, verdict, json_report.of(config, self.run, verdict), commit)
        try:
            write(root, record)
        except RuntimeError as exc:
            self.message = f"ledger: NOT recorded on {commit[:12]}: {exc}"
            return
        self.message = f"ledger: recorded {record.stage} {record.headline} on {commit[:12]} ({REF})"

    @pytest.hookimpl(trylast=True)
    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        """One line saying what the ledger recorded."""
        if self.message:
            terminalreporter.write_line(self.message)
