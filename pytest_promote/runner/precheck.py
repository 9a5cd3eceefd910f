"""A pre-check of some files: ``pytest --promote-precheck=STAGE FILE...``.

What the pre-commit hook runs (``pytest-promote hook pre-commit``, over the files
being committed). Only the gates of the stage that judge files one by one
(``Gate.per_file``: lint, types, secrets) run, each over the files given that it
would judge in a promotion run (its ``paths``; ruff and pyright only their Python
files, detect-secrets every file); a gate given none of them does not run. The other
gates (tests, coverage, invariants, the ledger's...) judge the whole tree: they are
named as not judged here. No test is collected, no verdict is made, nothing is
recorded: a pre-check is never a promotion. The exit status is 1 when a required gate
failed or could not be evaluated, else 0.

Results are reused as a promotion run's are (never in CI): a gate whose inputs are
unchanged since the stage's last run passed over every file passes here without
running (the files given were among those it judged), and each pre-check's results
are kept apart from the stage's (they judge fewer files). The secrets scan reuses
each file's result from any earlier run.
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from pytest_promote.api import Gate
from pytest_promote.gates import cache
from pytest_promote.policy.model import Policy
from pytest_promote.policy.schema import did_you_mean, policy_error
from pytest_promote.policy.stage import Stage
from pytest_promote.runner.acceptance import exit_rule
from pytest_promote.runner.items import gate_text
from pytest_promote.runner.options import options
from pytest_promote.runner.run import PromoteRun, stored_under
from pytest_promote.runner.scorecard import GateOutcome
from pytest_promote.runner.suite import SuiteCount

#: ``--promote-precheck`` value: the stage the branch's name matches, else the first.
AUTO = "auto"
#: What a pre-check says it is, on its first and last lines.
NAME = "promote pre-check"


class PreCheck:
    """The session of a pre-check: collects nothing, runs the file gates, reports."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        #: The exit status the pre-check decided (None: it did not run).
        self.status: int | None = None

    @pytest.hookimpl(tryfirst=True)
    def pytest_collection(self, session: pytest.Session) -> bool:
        """The arguments are the files to judge, not tests: nothing is collected."""
        session.items = []
        return True

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtestloop(self, session: pytest.Session) -> bool:
        """Run the gates and print what they found."""
        lines, self.status = check(self.config)
        write = self._writer()
        for line, failed in lines:
            write(line, failed)
        return True

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        """The pre-check's exit status instead of "no tests collected"."""
        if self.status is not None:
            session.exitstatus = self.status

    def _writer(self) -> Any:
        reporter = self.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.ensure_newline()
            return lambda line, failed: reporter.write_line(line, red=failed)
        return lambda line, failed: print(line, flush=True)


def check(config: pytest.Config) -> tuple[list[tuple[str, bool]], int]:
    """The pre-check's lines (text, whether it tells a failure) and exit status."""
    from pytest_promote.runner.session import load_policy

    policy, kinds = load_policy(config)
    stage, why = choose_stage(policy, config.rootpath, str(options(config).precheck))
    files, outside = given_files(config)
    chosen = options(config)
    run = PromoteRun(
        config, policy, stage, kinds, count=SuiteCount(config, promote_only=True),
        exit_rule=exit_rule(chosen.exit), dry_run=chosen.dry_run, files=tuple(files),
        cache_scope=f"{stage.name}.precheck",
    )
    counted = f"{len(files)} file{'s' * (len(files) != 1)}"
    lines = [(f"{NAME}: stage {stage.name} ({why}), the gates that judge files, over the "
              f"{counted} given; nothing is recorded: a pre-check is never a promotion", False)]
    if outside:
        lines.append((f"  outside the project root {config.rootpath}, not judged: "
                      f"{', '.join(outside)}", False))
    planned: list[str] = []
    unjudged: list[str] = []
    empty: list[str] = []
    for gid in stage.gates:
        kind = kinds[policy.gates[gid].kind]
        if not kind.per_file:
            unjudged.append(gid)
        elif files and kind(gid, stage.options[gid], run.context).judged_files():
            planned.append(gid)
        else:
            empty.append(gid)
    outcomes = [whole_stage_pass(run, gid) for gid in planned]
    run.start([gid for gid, done in zip(planned, outcomes, strict=True) if done is None])
    outcomes = [done or run.evaluate(gid) for gid, done in zip(planned, outcomes, strict=True)]
    blocking = []
    for outcome in outcomes:
        assert outcome.result is not None
        failed = outcome.status != "passed"
        if failed and outcome.mode == "required":
            blocking.append(outcome.id)
        label = {"passed": "PASSED", "failed": "FAILED", "error": "ERROR"}[outcome.status]
        mode = "advisory: does not block" if failed and outcome.mode == "advisory" else outcome.mode
        text = gate_text(outcome).replace("\n", "\n    ")
        lines.append((f"  {label} {outcome.id} ({mode}): {text}", failed and outcome.mode == "required"))
    for gid in empty:
        lines.append((f"  not run: {gid} ({stage.mode(gid)}): none of the files given is one "
                      "it judges", False))
    if unjudged:
        lines.append((f"  not judged here: {', '.join(unjudged)} (they judge the whole tree: "
                      f"pytest --promote-to={stage.name} judges them, at push and in CI)", False))
    if blocking:
        lines.append((f"{NAME}: FAILED: required {'gates' if len(blocking) > 1 else 'gate'} "
                      f"{', '.join(blocking)} of {stage.name} failed on the files given", True))
        return lines, int(pytest.ExitCode.TESTS_FAILED)
    judged = ", ".join(o.id for o in outcomes)
    said = (f"no required gate of {stage.name} failed on the {counted} given ({judged} judged them)"
            if judged else f"no gate of {stage.name} judged the {counted} given")
    lines.append((f"{NAME}: {said}; not a promotion", False))
    return lines, int(pytest.ExitCode.OK)


def choose_stage(policy: Policy, root: Path, name: str) -> tuple[Stage, str]:
    """The stage named (``auto``: the one the branch's name matches, else the first)
    and why it was chosen."""
    if name != AUTO:
        names = [s.name for s in policy.stages]
        if name not in names:
            problem = f"not a stage of {policy.source}; {did_you_mean(name, [*names, AUTO])}"
            raise policy_error("--promote-precheck", "STAGE", name, problem)
        return policy.stage(name), "named"
    from pytest_promote.policy import stages

    refs = stages.current_refs(root, os.environ)
    found = stages.best(policy, refs) if refs else None
    if found is not None:
        return policy.stage(found.stage), found.describe()
    names = ", ".join(repr(r.name) for r in refs) or "HEAD (no branch)"
    return policy.stages[0], f"the first stage: {names} matches no stage's `match` pattern"


def given_files(config: pytest.Config) -> tuple[list[str], list[str]]:
    """The arguments as regular files under the root (relative, POSIX, each once), and
    those that lie outside it; arguments that name no file (deleted, a directory)
    are left out."""
    here = config.invocation_params.dir
    root = config.rootpath.resolve()
    found: dict[str, None] = {}
    outside: list[str] = []
    for arg in config.args:
        path = Path(here, arg)
        if not path.is_file():
            continue
        try:
            found[path.resolve().relative_to(root).as_posix()] = None
        except ValueError:
            outside.append(arg)
    return list(found), outside


def whole_stage_pass(run: PromoteRun, gate_id: str) -> GateOutcome | None:
    """The stage's stored result of ``gate_id`` over every file, when it passed and
    its inputs are unchanged (so it judged the files given as they are now); None
    otherwise, and then the gate runs over the files given."""
    config = run.context.config
    if not cache.reuse_allowed(config):
        return None
    begin = time.perf_counter()
    spec = run.policy.gates[gate_id]
    whole = dataclasses.replace(run.context, files=None)
    gate: Gate = run.kinds[spec.kind](gate_id, run.stage.options[gate_id], whole)
    try:
        if gate.missing() is not None:
            return None
        fingerprint = stored_under(gate)
    except Exception:  # the gate's own run says what went wrong
        return None
    stored = cache.load(config, run.stage.name, gate_id, fingerprint) if fingerprint else None
    if stored is None or stored.status != "passed":
        return None
    summary = stored.summary.replace(
        f"{gate_id}: cached, inputs unchanged;",
        f"{gate_id}: cached: the stage's last run passed over every file, inputs unchanged;", 1)
    result = dataclasses.replace(stored, summary=summary)
    return GateOutcome(gate_id, run.stage.mode(gate_id), result, time.perf_counter() - begin)


def arguments(stage: str | None, files: Sequence[str]) -> list[str]:
    """pytest's arguments for a pre-check of ``files`` at ``stage`` (None: ``auto``):
    the project's ``addopts`` are left out (they configure test runs: ``-n``,
    ``--cov``...)."""
    return ["-o", "addopts=", "-p", "no:terminal", f"--promote-precheck={stage or AUTO}", "--", *files]
