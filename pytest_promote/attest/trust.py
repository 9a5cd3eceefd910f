"""Who signed what: judging a signed statement by the allowed-signers file.

A signature counts for a principal exactly when ``ssh-keygen -Y verify -f FILE -I
PRINCIPAL -n pytest-promote`` would accept it (:mod:`pytest_promote.attest.signers`
reads the file as OpenSSH does).
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal

from pytest_promote.attest import dsse
from pytest_promote.attest.signers import AllowedSigner, seconds
from pytest_promote.attest.statement import Statement, read

#: The signature namespace of every pytest-promote signature (``ssh-keygen -n``).
NAMESPACE = "pytest-promote"


@dataclasses.dataclass(frozen=True)
class Standing:
    """Whether a signed statement is trusted: ``unsigned``, ``trusted`` or
    ``untrusted`` (with why), and the allowed-signers lines whose keys verified it
    (usable now, in the ``pytest-promote`` namespace)."""

    state: Literal["unsigned", "trusted", "untrusted"]
    reason: str = ""
    lines: tuple[AllowedSigner, ...] = ()
    statement: Statement | None = None

    @property
    def principals(self) -> tuple[str, ...]:
        """The principals (pattern-lists) of the lines whose keys signed."""
        return tuple(dict.fromkeys(line.principals for line in self.lines))

    def speaks_for(self, name: str) -> bool:
        """Whether the signature is ``name``'s, as ``ssh-keygen -Y verify -I name`` decides."""
        return any(line.names(name) for line in self.lines)

    def describe(self) -> str:
        """``unsigned``, ``signed by ci@example.com`` or ``untrusted: why``."""
        if self.state == "trusted":
            return "signed by " + ", ".join(self.principals)
        return self.state + (f": {self.reason}" if self.reason else "")


def judge(
    attestation: object,
    predicate_type: str,
    commit: str,
    tree: str | None,
    signers: Iterable[AllowedSigner],
    need: Sequence[str] = (),
    when: datetime.datetime | None = None,
) -> Standing:
    """Judge an envelope (its JSON form, or None) about ``commit`` (whose real tree
    is ``tree``): which allowed signers' keys verify it, and whether they speak for
    every principal in ``need``."""
    if attestation is None:
        return Standing("unsigned", "no attestation")
    try:
        envelope = dsse.parse(attestation)
        said = read(envelope, predicate_type)
    except ValueError as exc:
        return Standing("untrusted", f"unreadable attestation: {exc}")
    if not envelope.signatures:
        return Standing("unsigned", "", statement=said)
    if said.commit != commit:
        why = f"its subject is commit {said.commit[:12]}, not {commit[:12]}"
        return Standing("untrusted", why, statement=said)
    if tree is not None and said.tree != tree:
        why = f"its subject claims tree {said.tree[:12]}, not the commit's {tree[:12]}"
        return Standing("untrusted", why, statement=said)
    now = seconds(when or datetime.datetime.now(datetime.UTC))
    usable = [s for s in signers if s.key is not None and s.usable(NAMESPACE, now)]
    verified = envelope.verified_by(s.key for s in usable if s.key is not None)
    lines = tuple(s for s in usable if s.key in verified)
    if not lines:
        ids = ", ".join(k for k, _ in envelope.signatures)
        return Standing(
            "untrusted", f"no signature verifies with a key of the allowed signers (signed as {ids})",
            statement=said,
        )
    standing = Standing("trusted", "", lines, said)
    missing = [p for p in need if not standing.speaks_for(p)]
    if missing:
        who = ", ".join(standing.principals)
        return Standing("untrusted", f"not signed by {', '.join(missing)} (signed by {who})", lines, said)
    return standing


def agrees(record: Mapping[str, Any], predicate: Mapping[str, Any], fields: Sequence[str]) -> str | None:
    """The first of ``fields`` on which ``record`` and its signed ``predicate``
    disagree, or None (the record's unsigned copy must say what was signed)."""
    for name in fields:
        mine, signed = record.get(name), predicate.get(name)
        if isinstance(mine, tuple):
            mine = list(mine)
        if (mine or None) != (signed or None) and mine != signed:
            return name
    return None
