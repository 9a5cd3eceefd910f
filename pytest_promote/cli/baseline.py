"""``python -m pytest_promote baseline``: record the current lint and type findings.

Runs the stage's gates that take a baseline (``lint``, ``types`` and any gate whose
options derive from :class:`~pytest_promote.gates.baseline.HoldOptions`) exactly as a
promotion would (``pytest --promote-to=STAGE --promote-only``, the project's policy,
paths and tool configuration), then writes every finding's fingerprint to
``.promote-baseline.json``. Commit that file: from then on those gates fail only on
findings it does not hold.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from pathlib import Path
from typing import Any

import pytest

from pytest_promote.api import GateResult
from pytest_promote.gates import baseline


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``[--stage STAGE] [--config PATH] [--root DIR]``."""
    parser.add_argument("--stage", default=None,
                        help="the stage whose gates to run (default: the policy's last stage)")
    parser.add_argument("--config", default=None, help="the policy file (as --promote-config)")
    parser.add_argument("--root", default=".", help="the project root (default: .)")


class Recorder:
    """Keeps only the gates that take a baseline, has them report every finding, and
    takes their results."""

    def __init__(self) -> None:
        self.wanted: list[str] = []
        self.results: dict[str, GateResult] = {}

    def pytest_configure(self, config: pytest.Config) -> None:
        """Every finding is reported: none is held back by an older baseline."""
        config.stash[baseline.UPDATE_KEY] = True

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, config: pytest.Config, items: list[Any]) -> None:
        """Deselect every item but the gates that take a baseline."""
        from pytest_promote.runner.run import RUNS_KEY

        (run,) = config.stash[RUNS_KEY]  # the whole repository's
        self.wanted = [
            gid for gid in run.stage.gates
            if issubclass(run.kinds[run.policy.gates[gid].kind].Options, baseline.HoldOptions)
        ]
        kept = [i for i in items if getattr(i, "gate_id", None) in self.wanted]
        config.hook.pytest_deselected(items=[i for i in items if i not in kept])
        items[:] = kept

    def pytest_promote_verdict(self, config: pytest.Config, verdict: Any) -> None:
        """Take the results of the gates that ran."""
        self.results = {g.id: g.result for g in verdict.gates
                        if g.id in self.wanted and g.result is not None}


def default_stage(root: Path, config: str | None) -> str:
    """The policy's last stage: stages only add gates, so it runs them all."""
    from pytest_promote.policy.loader import find_table

    table, _ = find_table(root, config)
    stages = (table or {}).get("stages") or ["development", "staging", "production"]
    return str(stages[-1])


def run(args: argparse.Namespace) -> int:
    """Run the gates, write the baseline; 1 when a gate could not judge."""
    root = Path(args.root).resolve()
    recorder = Recorder()
    with contextlib.chdir(root):
        try:
            stage = args.stage or default_stage(root, args.config)
        except pytest.UsageError as exc:
            print(f"baseline: {exc}", file=sys.stderr)
            return 4
        argv = [
            f"--promote-to={stage}", "--promote-only", "--promote-dry-run", "-m", "promote",
            "-p", "no:cacheprovider", "-p", "no:xdist", "-o", "addopts=",
            "-p", "no:terminal", f"--rootdir={root}",
        ]
        if args.config:
            argv.append(f"--promote-config={args.config}")
        # A dry run's summary is no promotion: keep it out of the CI's step summary.
        summary = os.environ.pop("GITHUB_STEP_SUMMARY", None)
        try:
            code = pytest.main(argv, plugins=[recorder])
        finally:
            if summary is not None:
                os.environ["GITHUB_STEP_SUMMARY"] = summary
    if not recorder.wanted:
        if code == pytest.ExitCode.OK:
            print(f"baseline: stage {stage} has no gate that takes a baseline (lint, types)",
                  file=sys.stderr)
        return 1 if code == pytest.ExitCode.OK else int(code)
    problems = [gid for gid in recorder.wanted
                if gid not in recorder.results or recorder.results[gid].status == "error"]
    for gid in problems:
        result = recorder.results.get(gid)
        print(f"baseline: {gid} could not judge: "
              f"{result.summary if result else 'it did not run'}", file=sys.stderr)
    if problems:
        print(f"baseline: nothing written to {baseline.BASELINE_FILE}", file=sys.stderr)
        return 1
    try:
        by_gate = baseline.read(root) or {}
    except baseline.BaselineError:
        by_gate = {}  # replaced whole: the gates' entries are all it needs
    counts = []
    for gid in recorder.wanted:
        by_gate[gid] = baseline.entries(root, recorder.results[gid].findings)
        counts.append(f"{gid} {baseline.plural(len(by_gate[gid]), 'finding')}")
    path = baseline.write(root, by_gate)
    print(f"baseline: wrote {path.name} ({', '.join(counts)}, stage {stage}); commit it")
    return 0
