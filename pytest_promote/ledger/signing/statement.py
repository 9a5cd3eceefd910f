"""The in-toto statements pytest-promote signs: a promotion run's verdict and a
reviewer's approval (or break-glass authorisation), each about one git commit.

A statement is ``{"_type": "https://in-toto.io/Statement/v1", "subject": [{"name",
"digest": {"gitCommit", "gitTree"}}], "predicateType", "predicate"}``. The
promotion predicate carries the in-toto test-result fields (``result``
PASSED/WARNED/FAILED, ``passedTests``/``warnedTests``/``failedTests`` as gate ids,
``configuration``) beside the verdict's own (docs/signing.md describes each field).
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import importlib.metadata
import json
import platform
from collections.abc import Mapping
from typing import Any

from pytest_promote.ledger.signing import dsse

STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
#: The promotion predicate: a run's verdict (a superset of the in-toto test-result
#: predicate, ``https://in-toto.io/attestation/test-result/v0.1``).
PROMOTION = "https://pytest-promote.dev/attestation/promotion/v1"
#: A reviewer's sign-off of a commit for a stage, or a break-glass authorisation.
APPROVAL = "https://pytest-promote.dev/attestation/approval/v1"
#: The colour in the test-result predicate's words.
RESULT = {"green": "PASSED", "yellow": "WARNED", "red": "FAILED"}
#: Report fields outside the verdict the statement carries: the envelope itself, how it
#: is signed (derived from the envelope) and the digest over the whole report.
ENVELOPE_FIELDS = ("attestation", "signature", "digest")
#: Predicate fields that are not a report field shown as it is (``commit`` is the
#: subject's, the report's ``policy`` is the predicate's ``policy.source``).
PREDICATE_ONLY = ("result", "configuration", "passedTests", "warnedTests", "failedTests", "policy", "tools")
#: Distributions whose versions the predicate records, when installed.
TOOLS = ("pytest", "coverage", "ruff", "pyright", "detect-secrets", "pytest-xdist")


def canonical(value: object) -> bytes:
    """The canonical JSON of ``value``: keys sorted, no whitespace, UTF-8 (a lone
    surrogate, from bytes that were not UTF-8, as its JSON escape ``\\udcXX``)."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
    ).encode("utf-8", "backslashreplace")


def policy_digest(table: Mapping[str, Any] | None, default: str) -> str:
    """``sha256:`` of the policy table's canonical JSON (or of the embedded default's text)."""
    body = canonical(table) if table is not None else default.encode("utf-8")
    return "sha256:" + hashlib.sha256(body).hexdigest()


def tool_versions() -> dict[str, str]:
    """pytest-promote's, Python's and the installed tools' versions."""
    from pytest_promote import __version__

    found = {"pytest-promote": __version__, "python": platform.python_version()}
    for name in TOOLS:
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return found


def subject(commit: str, tree: str, name: str) -> list[dict[str, Any]]:
    """The statement's subject: one commit, by its commit and tree digests."""
    return [{"name": name, "digest": {"gitCommit": commit, "gitTree": tree}}]


def statement(predicate_type: str, subjects: list[dict[str, Any]], predicate: dict[str, Any]) -> dict[str, Any]:
    """An in-toto Statement v1."""
    return {
        "_type": STATEMENT_TYPE, "subject": subjects,
        "predicateType": predicate_type, "predicate": predicate,
    }


def promotion(report: Mapping[str, Any], tree: str, name: str, policy: Mapping[str, str]) -> dict[str, Any]:
    """The statement of a promotion run, from its JSON report (without attestation).

    ``policy``: ``{"source", "digest"}`` of the policy that judged.
    """
    gates = shown(report)["gates"]
    passed = [g["id"] for g in gates if g["status"] == "passed" and not g["overridden"]]
    failed = [
        g["id"] for g in gates
        if g["id"] not in passed and g["mode"] == "required" and not g["overridden"]
    ]
    warned = [g["id"] for g in gates if g["id"] not in passed and g["id"] not in failed]
    predicate = {
        "result": RESULT[report["colour"]],
        "configuration": [{"name": policy["source"], "digest": {"sha256": policy["digest"].removeprefix("sha256:")}}],
        "passedTests": passed,
        "warnedTests": warned,
        "failedTests": failed,
        **shown(report),
        "policy": dict(policy),
        "tools": tool_versions(),
    }
    return statement(PROMOTION, subject(report["commit"], tree, name), predicate)


def shown(report: Mapping[str, Any]) -> dict[str, Any]:
    """Every field a report shows, as the promotion predicate carries it: all but
    :data:`ENVELOPE_FIELDS`, ``commit`` and ``policy``, each gate whole except its
    findings, which the gate's ``findings`` commits to by digest."""
    view = {k: v for k, v in report.items() if k not in (*ENVELOPE_FIELDS, "commit", "policy")}
    view["gates"] = [
        {**g, "findings": findings_digest(g.get("findings"))} if isinstance(g, dict) else g
        for g in report.get("gates") or []
    ]
    return view


def findings_digest(findings: object) -> str:
    """``sha256:`` of a gate's findings list (canonical JSON)."""
    return "sha256:" + hashlib.sha256(canonical(findings)).hexdigest()


def difference(report: Mapping[str, Any], said: Statement) -> str | None:
    """The first field a report shows that its promotion statement does not say, named
    (``gates[coverage].measured``), or None when the statement says all of it."""
    signed = {k: v for k, v in said.predicate.items() if k not in PREDICATE_ONLY}
    mine = shown(report)
    policy = said.predicate.get("policy")
    signed |= {"commit": said.commit, "policy": policy.get("source") if isinstance(policy, dict) else None}
    mine |= {"commit": report.get("commit"), "policy": report.get("policy")}
    for name in sorted(set(mine) | set(signed), key=lambda k: (k != "gates", k)):
        if name == "gates" and isinstance(mine["gates"], list) and isinstance(signed.get("gates"), list):
            differs = _gates(mine["gates"], signed["gates"])
            if differs is not None:
                return differs
        elif name not in signed:
            return f"{name} (not in what was signed)"
        elif mine.get(name, _ABSENT) != signed[name]:
            return name
    return None


_ABSENT = object()


def _gates(mine: list[Any], signed: list[Any]) -> str | None:
    if len(mine) != len(signed):
        return f"gates ({len(mine)} shown, {len(signed)} signed)"
    for shown_gate, signed_gate in zip(mine, signed, strict=True):
        if not (isinstance(shown_gate, dict) and isinstance(signed_gate, dict)):
            if shown_gate != signed_gate:
                return "gates"
            continue
        gid = signed_gate.get("id")
        for field in sorted(set(shown_gate) | set(signed_gate)):
            if shown_gate.get(field, _ABSENT) != signed_gate.get(field, _ABSENT):
                return f"gates[{gid}].{field}"
    return None


def approval(commit: str, tree: str, name: str, stage: str, note: str, time: str,
             override: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The statement of a sign-off of ``commit`` for ``stage``; with ``override``
    (``{"gate", "reason", "until"}``), a break-glass authorisation of that override."""
    predicate: dict[str, Any] = {"stage": stage, "note": note, "time": time}
    if override is not None:
        predicate["override"] = dict(override)
    return statement(APPROVAL, subject(commit, tree, name), predicate)


def envelope(value: Mapping[str, Any]) -> dsse.Envelope:
    """An unsigned envelope holding ``value`` (a statement) as canonical JSON."""
    return dsse.Envelope(canonical(value))


@dataclasses.dataclass(frozen=True)
class Statement:
    """A statement read back from an envelope: whose commit, of which kind, saying what."""

    commit: str
    tree: str
    predicate_type: str
    predicate: Mapping[str, Any]


def read(envelope_: dsse.Envelope, predicate_type: str) -> Statement:
    """The statement in ``envelope_``, which must be of ``predicate_type``; a
    ValueError says what is wrong."""
    if envelope_.payload_type != dsse.PAYLOAD_TYPE:
        raise ValueError(f"payloadType {envelope_.payload_type!r}, expected {dsse.PAYLOAD_TYPE!r}")
    try:
        data = json.loads(envelope_.payload)
    except ValueError:
        raise ValueError("its payload is not JSON") from None
    if not isinstance(data, dict) or data.get("_type") != STATEMENT_TYPE:
        raise ValueError(f"its payload is not an in-toto statement ({STATEMENT_TYPE})")
    if data.get("predicateType") != predicate_type:
        raise ValueError(f"predicateType {data.get('predicateType')!r}, expected {predicate_type!r}")
    subjects = data.get("subject")
    if not isinstance(subjects, list) or len(subjects) != 1 or not isinstance(subjects[0], dict):
        raise ValueError("its subject is not one commit")
    digest = subjects[0].get("digest")
    predicate = data.get("predicate")
    if not isinstance(digest, dict) or not isinstance(predicate, dict):
        raise ValueError("its subject has no digest or it has no predicate")
    commit, tree = digest.get("gitCommit"), digest.get("gitTree")
    if not isinstance(commit, str) or not isinstance(tree, str):
        raise ValueError("its subject lacks the gitCommit and gitTree digests")
    return Statement(commit, tree, predicate_type, predicate)


def now() -> str:
    """The real time, UTC, to the second (statements record when they were made)."""
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
