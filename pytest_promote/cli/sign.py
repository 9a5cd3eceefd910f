"""``python -m pytest_promote sign FILE --key KEY``: sign a run's attestation in a
separate step, so the key never enters the process that runs the project's tests.

FILE is a JSON report (``--promote-report``) or an attestation alone. The report
must be unchanged since it was written (its digest), its attestation must say what
the report says, and its subject must be the commit checked out here (``--commit``,
default HEAD) with that commit's tree: the key signs nothing but this commit's own
verdict. The signed envelope is written back into FILE (atomically) and, for a
report, a record carrying it is appended to the ledger (``refs/notes/promote``)
unless ``--no-ledger``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from pytest_promote._util import git
from pytest_promote._util.files import write_atomic
from pytest_promote._util.redact import plain
from pytest_promote.attest import dsse, keys
from pytest_promote.attest.promotion import describe
from pytest_promote.attest.statement import PROMOTION, read
from pytest_promote.ledger import records as ledger
from pytest_promote.report.json_report import digest, dumps


class Refused(Exception):
    """The file is not signed; the message says why."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``FILE --key KEY [--commit SHA] [--root DIR] [--no-ledger]``."""
    parser.add_argument("file", metavar="FILE", help="the JSON report, or an attestation alone")
    parser.add_argument(
        "--key", required=True, metavar="KEY",
        help="the Ed25519 private key: a file (PKCS#8 PEM or OpenSSH) or env:NAME",
    )
    parser.add_argument("--commit", default="HEAD", help="the commit it must be about (default HEAD)")
    parser.add_argument("--root", default=".", help="the repository (default: .)")
    parser.add_argument(
        "--no-ledger", action="store_true",
        help="do not append the signed record to the ledger (refs/notes/promote)",
    )


def run(args: argparse.Namespace) -> int:
    """Sign FILE; 0 when signed (and recorded), 1 with the reason otherwise."""
    root = Path(args.root)
    try:
        said = sign(Path(args.file), keys.load(args.key), root, args.commit, not args.no_ledger)
    except (Refused, keys.KeyProblem) as exc:
        print(plain(f"sign: {args.file}: NOT signed: {exc}"), file=sys.stderr)
        return 1
    print(plain(f"sign: {args.file}: {said}"))
    return 0


def sign(path: Path, key: keys.SigningKey, root: Path, commit: str, record: bool) -> str:
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
        ledger.write(root, entry)
    except RuntimeError as exc:
        raise Refused(f"signed and written, but NOT recorded in the ledger: {exc}") from None
    return f"signed with {key.keyid}; recorded {entry.stage} {entry.headline} on {sha[:12]} ({ledger.REF})"


def from_report(root: Path, report: dict[str, Any], commit: str) -> ledger.Record:
    """The ledger record of a (signed) report."""
    gates = {g["id"]: "overridden" if g.get("overridden") else g["status"] for g in report["gates"]}
    dirty = report.get("dirty")
    return ledger.Record(
        commit=commit, stage=report["stage"], colour=report["colour"],
        accepted=report["accepted"], time=ledger.now(), tree=git.tree(root, commit),
        headline=report["verdict"], actor=git.actor(root), digest=report["digest"], gates=gates,
        caveats=tuple(report.get("caveats") or ()), partial=report.get("partial"),
        dirty=len(dirty) if isinstance(dirty, list) else None,
        environment=report.get("environment") or {}, attestation=report["attestation"],
    )
