"""``pytest-promote sign FILE --stage STAGE --key KEY``: sign a run's attestation in a
separate step, so the key never enters the process that runs the project's tests.

FILE is a JSON report (``--promote-report``) or an attestation alone. The report
must be unchanged since it was written (its digest), its attestation must say all
the report shows, and its subject must be the commit checked out here (``--commit``,
default HEAD) with that commit's tree. Its verdict must be for STAGE (the CI
configuration names it, never the report), judged by the policy committed at that
commit (its digest) and by what that policy asks of STAGE: the same gates, modes and
options, thresholds included. So the key signs nothing but this commit's own verdict
for the stage the sign job was told. The signed envelope is written back into FILE (atomically) and, for a
report, a record carrying it is appended to the ledger (``refs/notes/promote``)
unless ``--no-ledger``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from pytest_promote._util import git
from pytest_promote._util.files import write_atomic
from pytest_promote._util.redact import mask_text
from pytest_promote.ledger.attestation import describe
from pytest_promote.ledger.records import REF, Record, now, write
from pytest_promote.ledger.signing import dsse, keys
from pytest_promote.ledger.signing.statement import PROMOTION, read
from pytest_promote.report.json_report import digest, dumps


class Refused(Exception):
    """The file is not signed; the message says why."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``FILE --stage STAGE --key KEY [--commit SHA] [--component NAME] [--config PATH] [--root DIR] [--no-ledger]``."""
    parser.add_argument("file", metavar="FILE", help="the JSON report, or an attestation alone")
    parser.add_argument(
        "--stage", required=True,
        help="the stage this job signs for (from the CI configuration): a verdict of any other is refused",
    )
    parser.add_argument(
        "--key", required=True, metavar="KEY",
        help="the Ed25519 private key: a file (PKCS#8 PEM or OpenSSH) or env:NAME",
    )
    parser.add_argument("--commit", default="HEAD", help="the commit it must be about (default HEAD)")
    parser.add_argument("--component", default=None, help="the component it judged (--promote-component)")
    parser.add_argument("--config", default=None, help="the policy file (as --promote-config)")
    parser.add_argument("--root", default=".", help="the repository (default: .)")
    parser.add_argument(
        "--no-ledger", action="store_true",
        help="do not append the signed record to the ledger (refs/notes/promote)",
    )


def run(args: argparse.Namespace) -> int:
    """Sign FILE; 0 when signed (and recorded), 1 with the reason otherwise."""
    root = Path(args.root)
    try:
        asked = Asked(args.stage, args.component, args.config)
        said = sign(Path(args.file), keys.load(args.key), root, args.commit, not args.no_ledger, asked)
    except (Refused, keys.KeyProblem) as exc:
        print(mask_text(f"sign: {args.file}: NOT signed: {exc}"), file=sys.stderr)
        return 1
    print(mask_text(f"sign: {args.file}: {said}"))
    return 0


@dataclasses.dataclass(frozen=True)
class Asked:
    """What the sign job was told: the stage, the component (None: the whole
    repository) and the policy file (None: pyproject.toml)."""

    stage: str
    component: str | None = None
    config: str | None = None


def sign(path: Path, key: keys.SigningKey, root: Path, commit: str, record: bool, asked: Asked) -> str:
    """Sign the attestation in ``path`` with ``key``; what was done, in words."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise Refused(f"cannot read it as JSON ({exc})") from None
    alone = isinstance(data, dict) and "payloadType" in data
    if not isinstance(data, dict) or (not alone and data.get("digest") != digest(data)):
        raise Refused("not a report whose digest matches its content (it was changed after it was written)")
    envelope_data = data if alone else data.get("attestation")
    if envelope_data is None:
        raise Refused("the report has no attestation (a dry run, or made outside git)")
    try:
        envelope = dsse.parse(envelope_data)
        said = read(envelope, PROMOTION)
    except ValueError as exc:
        raise Refused(f"unreadable attestation: {exc}") from None
    sha = git.resolve(root, commit)
    if sha is None:
        raise Refused(f"{commit!r} is not a commit of the repository at {root}")
    tree = git.tree(root, sha)
    if said.commit != sha or said.tree != tree:
        raise Refused(
            f"its subject is commit {said.commit[:12]} (tree {said.tree[:12]}), not {commit} "
            f"({sha[:12]}, tree {str(tree)[:12]}): only the checked-out commit's verdict is signed here"
        )
    if not alone:
        from pytest_promote.cli.verify import disagreement

        differs = disagreement(data, said)
        if differs is not None:
            raise Refused(f"its {differs!r} differs from what its attestation says")
    _as_asked(said.predicate, root, asked)
    envelope = envelope.signed(key)
    if alone:
        write_atomic(path, json.dumps(envelope.as_dict(), indent=2) + "\n")
        return f"signed with {key.keyid}"
    data["attestation"] = envelope.as_dict()
    data["signature"] = describe(envelope)
    data["digest"] = digest(data)
    write_atomic(path, dumps(data))
    if not record:
        return f"signed with {key.keyid}"
    entry = from_report(root, data, sha)
    try:
        write(root, entry)
    except RuntimeError as exc:
        raise Refused(f"signed and written, but NOT recorded in the ledger: {exc}") from None
    return f"signed with {key.keyid}; recorded {entry.stage} {entry.headline} on {sha[:12]} ({REF})"


def _as_asked(predicate: Mapping[str, Any], root: Path, asked: Asked) -> None:
    """Refuse a verdict of another stage or component than the job was told, or one
    judged otherwise than the committed policy asks of that stage."""
    from pytest_promote.cli.verify import Rejected, read_policy
    from pytest_promote.ledger.attestation import stage_digest
    from pytest_promote.ledger.signing.statement import policy_digest
    from pytest_promote.policy.loader import DEFAULT_POLICY, find_table

    if predicate.get("stage") != asked.stage:
        raise Refused(f"it is a verdict for stage {predicate.get('stage')!r}; this job signs {asked.stage!r} only")
    if predicate.get("component") != asked.component:
        whose = predicate.get("component") or "the whole repository"
        raise Refused(f"it is a verdict for {whose}, not {asked.component or 'the whole repository'}")
    try:
        judged_by = read_policy(root, asked.config)
        table, source = find_table(root, asked.config)
    except (Rejected, pytest.UsageError) as exc:
        raise Refused(str(exc)) from None
    policy_file = asked.config or "pyproject.toml"
    changed = git.git(root, "status", "--porcelain", "--untracked-files=all", "--", policy_file)
    if changed is None or changed:
        raise Refused(
            f"the policy file {policy_file} is not the commit's (changed, uncommitted or outside the repository)"
        )
    signed_policy = predicate.get("policy")
    if not isinstance(signed_policy, dict):
        signed_policy = {}
    if signed_policy.get("digest") != policy_digest(table, DEFAULT_POLICY):
        raise Refused(f"it was judged by another policy than the committed {source}")
    stages = judged_by.stages
    if asked.component is not None:
        if asked.component not in judged_by.components:
            raise Refused(f"the policy ({source}) has no component {asked.component!r}")
        stages = judged_by.components[asked.component].stages
    stage = next((s for s in stages if s.name == asked.stage), None)
    if stage is None:
        raise Refused(f"the policy ({source}) has no stage {asked.stage!r}")
    if signed_policy.get("stage") != stage_digest(stage):
        raise Refused(
            f"its gates are not judged as {source} asks of {asked.stage} (other gates, modes or "
            "thresholds: a verdict of another stage relabelled?)"
        )


def from_report(root: Path, report: dict[str, Any], commit: str) -> Record:
    """The ledger record of a (signed) report."""
    gates = {g["id"]: "overridden" if g.get("overridden") else g["status"] for g in report["gates"]}
    dirty = report.get("dirty")
    return Record(
        commit=commit, stage=report["stage"], colour=report["colour"],
        accepted=report["accepted"], time=now(), tree=git.tree(root, commit),
        headline=report["verdict"], actor=git.actor(root), digest=report["digest"], gates=gates,
        caveats=tuple(report.get("caveats") or ()), partial=report.get("partial"),
        dirty=len(dirty) if isinstance(dirty, list) else None,
        environment=report.get("environment") or {}, attestation=report["attestation"],
    )
