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

from pytest_promote.attest import dsse

STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
#: The promotion predicate: a run's verdict (a superset of the in-toto test-result
#: predicate, ``https://in-toto.io/attestation/test-result/v0.1``).
PROMOTION = "https://pytest-promote.dev/attestation/promotion/v1"
#: A reviewer's sign-off of a commit for a stage, or a break-glass authorisation.
APPROVAL = "https://pytest-promote.dev/attestation/approval/v1"
#: The colour in the test-result predicate's words.
RESULT = {"green": "PASSED", "yellow": "WARNED", "red": "FAILED"}
#: The report fields the promotion predicate carries as they are.
VERDICT_FIELDS = (
    "stage", "component", "colour", "verdict", "accept", "accepted", "reasons", "overrides", "overridden",
    "partial", "dirty", "environment", "caveats", "dry_run", "branch", "time", "selection",
)
#: Of each gate, what the predicate keeps (its findings stay in the report).
GATE_FIELDS = ("id", "mode", "status", "measured", "threshold", "overridden", "figures")
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
    gates = [{k: g.get(k) for k in GATE_FIELDS} for g in report["gates"]]
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
        **{k: report.get(k) for k in VERDICT_FIELDS},
        "gates": gates,
        "policy": dict(policy),
        "tools": tool_versions(),
    }
    return statement(PROMOTION, subject(report["commit"], tree, name), predicate)


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
