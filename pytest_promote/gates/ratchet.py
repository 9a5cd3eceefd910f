"""The ratchet: a gate's figures may not fall behind the last accepted record of its
stage, in the ledger, on an ancestor of HEAD.

Only records that prove an acceptance count (accepted, the whole suite, a clean tree,
the real clock; see :attr:`pytest_promote.ledger.records.Record.proves`; signed as the trust
policy requires for the stage, with the figures that were signed), and only those of
commits HEAD descends from: a record of another branch holds nothing here. HEAD's own
records do not count either: a re-run is held to the code before it, as the first run was.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pytest_promote._util import git
from pytest_promote.ledger.attestation import record_standing
from pytest_promote.ledger.records import Record, records
from pytest_promote.ledger.signing.signers import TrustProblem

if TYPE_CHECKING:
    from pytest_promote.api import GateContext


@dataclasses.dataclass(frozen=True)
class Mark:
    """The figures of one gate in the record the ratchet holds a run to."""

    commit: str
    time: str
    figures: Mapping[str, Any]

    def __str__(self) -> str:
        return f"{self.commit[:12]} ({self.time[:19]})"


def trusted(record: Record, context: GateContext) -> bool:
    """Whether ``record`` may set the line: an accepted run that proves what it judged,
    and, where the trust policy requires signatures for its stage, signed so, with
    the figures its signed statement holds.

    The one place that decides which records the ratchet believes.
    """
    if not record.proves:
        return False
    trust = context.policy.trust
    need = trust.requires(record.stage) if trust else ()
    if not need:
        return True
    assert trust is not None
    try:
        signers = trust.read(context.rootpath)
    except TrustProblem:
        return False
    standing = record_standing(record.as_dict(), signers, need)
    if standing.state != "trusted" or standing.statement is None:
        return False
    gates = standing.statement.predicate.get("gates") or []
    signed = {g.get("id"): g.get("figures") for g in gates if isinstance(g, dict)}
    return all(signed.get(gid) == dict(figures) for gid, figures in record.figures.items())


def last_mark(context: GateContext, gate_id: str) -> Mark | None:
    """The figures of ``gate_id`` in the newest trusted record of the context's stage
    (and component) on a strict ancestor of HEAD; None when there is none."""
    root, stage = context.rootpath, context.stage
    component = context.policy.component.name if context.policy.component else None
    head = git.head(root)
    if head is None:
        return None
    candidates = [
        r for r in records(root)
        if r.stage == stage and r.component == component and r.commit != head
        and gate_id in r.figures and trusted(r, context)
    ]
    for record in reversed(candidates):  # newest first
        if git.git(root, "merge-base", "--is-ancestor", record.commit, head) is not None:
            return Mark(record.commit, record.time, record.figures[gate_id])
    return None


def number(figures: Mapping[str, Any], key: str) -> float | None:
    """``figures[key]`` when it is a number (a record from another version may lack it)."""
    value = figures.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def nothing_to_hold(stage: str) -> str:
    """What a ratchet says when no record sets the line yet."""
    return (f"ratchet: no accepted {stage} record on an ancestor of HEAD yet, so nothing to "
            "hold to; this run's figures set the line once accepted")
