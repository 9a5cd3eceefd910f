"""The JSON report (``--promote-report``): the scorecard as data."""

from __future__ import annotations

import datetime
import hashlib
import json
from typing import TYPE_CHECKING, Any

import pytest

from pytest_promote._util import git
from pytest_promote.ledger import attestation
from pytest_promote.ledger.signing import statement
from pytest_promote.runner.scorecard import GateOutcome, Verdict

if TYPE_CHECKING:
    from pytest_promote.runner.run import PromoteRun

#: Bumped whenever a field changes meaning or goes away (docs/outputs.md, "JSON report").
SCHEMA_VERSION = 1

#: Each run's report, built once: the file, the ledger and any other reader share it.
REPORTS_KEY = pytest.StashKey[dict[int, dict[str, Any]]]()


def from_verdict(config: pytest.Config, run: PromoteRun, verdict: Verdict) -> dict[str, Any]:
    """The report of this run, built on first use (so its time and digest are one)."""
    built = config.stash.setdefault(REPORTS_KEY, {})
    if id(run) not in built:
        built[id(run)] = build(run, verdict)
    return built[id(run)]


def of_session(config: pytest.Config, runs: tuple[PromoteRun, ...], several: bool) -> dict[str, Any]:
    """What ``--promote-report`` holds: the report of the run; with several
    components, ``components``, each one's report (as its own run would write it),
    and ``accepted``, whether every one of them is accepted."""
    reports = [from_verdict(config, run, run.verdict) for run in runs if run.verdict is not None]
    if not several:
        return reports[0]
    return {
        "schema": SCHEMA_VERSION,
        "accepted": all(r["accepted"] for r in reports),
        "components": reports,
    }


def signature(run: PromoteRun) -> str:
    """How the run's attestation is signed, in words (``unsigned``, ``signed with ...``),
    with how to sign it when the policy trusts only signed records."""
    assert run.verdict is not None
    said = from_verdict(run.context.config, run, run.verdict)["signature"]
    if said == attestation.UNSIGNED and run.policy.trust is not None:
        said += (f" (sign it: {attestation.OPTION}=KEY, or "
                 f"pytest-promote sign REPORT --stage {run.verdict.stage} --key KEY)")
    return said


def digest(report: dict[str, Any]) -> str:
    """``sha256:<hex>`` of the canonical JSON of ``report`` without its ``digest``."""
    body = {k: v for k, v in report.items() if k != "digest"}
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    # A lone surrogate (bytes that were not UTF-8) as its JSON escape, as the file holds it.
    return "sha256:" + hashlib.sha256(canonical.encode("utf-8", "backslashreplace")).hexdigest()


def build(run: PromoteRun, verdict: Verdict) -> dict[str, Any]:
    """The report of one promotion run."""
    root = run.context.rootpath
    report: dict[str, Any] = {
        "schema": SCHEMA_VERSION,
        "stage": verdict.stage,
        "component": run.policy.component.name if run.policy.component else None,
        "policy": run.policy.source,
        "policy_digest": run.policy_proof.digest if run.policy_proof else None,
        "commit": git.head(root),
        "branch": git.branch(root),
        "time": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "colour": verdict.colour,
        "verdict": verdict.headline,
        "accept": verdict.accept,
        "accepted": verdict.accepted,
        "reasons": list(verdict.reasons),
        "decision": run.decision.as_dict() if run.decision else None,
        "dry_run": run.dry_run,
        "gates": [gate_entry(o) for o in verdict.gates],
        "overrides": [
            {**g.override.as_dict(), "used": g.overridden}
            for g in verdict.gates if g.override is not None
        ],
        "overridden": len(verdict.overridden),
        "selection": run.selection.as_dict() if run.selection else None,
        "bases": verdict.bases,
        **facts(run),
        "caveats": list(verdict.caveats),
    }
    # Made of typed values, whose free text (summaries, messages, reasons, values of
    # the environment) the run masked as it came in: nothing here passes the redactor.
    # Through JSON first, so the digest covers exactly what a reader will load.
    report = json.loads(json.dumps(report))
    _attach(run, report)
    report["digest"] = digest(report)  # last: it covers every other field
    return report


#: How many of the paths that differ from HEAD a report lists.
DIRTY_SHOWN = 100


def facts(run: PromoteRun) -> dict[str, Any]:
    """What makes a run's verdict unprovable, as data: ``partial`` (None: the whole
    suite, or not known), ``dirty`` (paths differing from HEAD at session start; None:
    not a git repository) and ``environment`` (variables that changed the judging)."""
    suite = run.tests.suite
    return {
        "partial": suite.as_dict() if suite is not None and suite.partial else None,
        "dirty": None if run.dirty is None else run.dirty[:DIRTY_SHOWN],
        "environment": run.shown_environment(),
        "shards": run.shards.as_report() if run.shards is not None else None,
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
        "figures": dict(result.figures) if result and result.figures else None,
        "overridden": outcome.overridden,
        "findings": [
            {"file": f.file, "line": f.line, "col": f.col, "rule": f.rule, "message": f.message}
            for f in (result.findings if result else ())
        ],
        "duration": round(outcome.duration, 3),
    }


def dumps(report: dict[str, Any]) -> str:
    """The report as stable, readable JSON."""
    return json.dumps(report, indent=2, sort_keys=False) + "\n"


def _attach(run: PromoteRun, report: dict[str, Any]) -> None:
    """Add ``attestation`` (the envelope, None for a dry run or outside git) and
    ``signature`` to ``report``, signing with the run's signers."""
    root = run.context.rootpath
    tree = git.tree(root)
    if run.dry_run or report.get("commit") is None or tree is None:
        report["attestation"] = None
        why = "a dry run attests nothing" if run.dry_run else "not a git repository"
        report["signature"] = f"{attestation.UNSIGNED} (no attestation: {why})"
        return
    from pytest_promote.policy.proof import in_force

    policy = {
        "source": run.policy.source, "digest": in_force(run.context.config).digest,
        "stage": attestation.stage_digest(run.policy.stage(str(report["stage"]))),
    }
    envelope = statement.envelope(statement.promotion(report, tree, root.name, policy))
    for signer in run.signers:
        envelope = envelope.signed(signer)
    report["attestation"] = envelope.as_dict()
    report["signature"] = attestation.describe(envelope)
