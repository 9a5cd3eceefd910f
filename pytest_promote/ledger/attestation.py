"""A promotion run's attestation, and the trust of the records a later stage reads.

The run's JSON report carries the statement of its verdict in a DSSE envelope
(``attestation``), signed when a key is given (``--promote-sign-key``) or by a
later ``python -m pytest_promote sign``; ``signature`` says in words whether and by
which key. The ledger record carries the same envelope.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from pytest_promote.ledger.signing import dsse, keys, statement
from pytest_promote.ledger.signing.signers import AllowedSigner, TrustProblem
from pytest_promote.policy.trust import Standing, agrees, judge
from pytest_promote.runner.options import options

if TYPE_CHECKING:
    from pytest_promote.policy.model import Policy
    from pytest_promote.policy.stage import Stage

#: The option naming the run's signing key.
OPTION = "--promote-sign-key"
#: What a report or record says when nobody signed it.
UNSIGNED = "unsigned"
#: The fields of a ledger record that must say what its signed predicate says.
RECORD_FIELDS = ("stage", "component", "colour", "accepted", "caveats", "environment")


def signers(config: pytest.Config) -> list[dsse.Signer]:
    """The run's signers: the ``--promote-sign-key`` key, then those plugins give
    through ``pytest_promote_signers``; a bad key is a usage error now, before the
    tests run."""
    found: list[dsse.Signer] = []
    spec = options(config).sign_key
    if spec:
        try:
            found.append(keys.load(str(spec), config.rootpath))
        except keys.KeyProblem as exc:
            raise pytest.UsageError(f"{OPTION}: {exc}") from None
    for provided in config.hook.pytest_promote_signers(config=config):
        found += list(provided or ())
    return found


def check_trust(policy: Policy, root: Path) -> list[AllowedSigner]:
    """The trust policy's allowed signers; a usage error when the file is unusable."""
    if policy.trust is None:
        return []
    try:
        return policy.trust.read(root)
    except TrustProblem as exc:
        raise pytest.UsageError(str(exc)) from None


def describe(envelope: dsse.Envelope | None) -> str:
    """``unsigned``, or ``signed with SHA256:...`` (the keys' fingerprints)."""
    if envelope is None or not envelope.signatures:
        return UNSIGNED
    return "signed with " + ", ".join(k or "(no keyid)" for k, _ in envelope.signatures)


def stage_digest(stage: Stage) -> str:
    """``sha256:`` of what a stage asks: what it accepts, its required and advisory
    gates and each gate's options (thresholds included), as the policy resolved them."""
    options = {
        gid: dataclasses.asdict(o) if dataclasses.is_dataclass(o) and not isinstance(o, type) else o
        for gid, o in stage.options.items()
    }
    asked = {"accept": stage.accept, "required": stage.required, "advisory": stage.advisory, "options": options}
    body = json.dumps(
        asked, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
        default=lambda o: sorted(map(str, o)) if isinstance(o, (set, frozenset)) else str(o),
    )
    return "sha256:" + hashlib.sha256(body.encode("utf-8")).hexdigest()


def record_standing(
    record: Mapping[str, Any], signers: Sequence[AllowedSigner], need: Sequence[str]
) -> Standing:
    """Whether a ledger record (as a dict, with its real ``tree``) is signed by the
    principals in ``need``, and says what it signed."""
    standing = judge(
        record.get("attestation"), statement.PROMOTION, record["commit"], record.get("tree"),
        signers, need,
    )
    if standing.state == "trusted" and standing.statement is not None:
        signed = standing.statement.predicate
        shown = {  # what a record shows in its own words, as the statement says it
            "headline": signed.get("verdict"),
            "gates": {
                g["id"]: "overridden" if g.get("overridden") else g.get("status")
                for g in signed.get("gates") or [] if isinstance(g, dict) and "id" in g
            },
        }
        differs = agrees(record, {**signed, **shown}, (*RECORD_FIELDS, "headline", "gates", "partial"))
        if differs is not None:
            return Standing("untrusted", f"its {differs} differs from what was signed",
                            standing.lines)
    return standing
