"""Approvals: manual sign-offs of a commit for a stage, kept in a git note.

An approval is one JSON line (``stage``, ``who``, ``note``, ``time``; when signed, its
statement as ``attestation``) in the note of the approved commit under
:data:`APPROVALS_REF`. A line with ``override`` is a break-glass authorisation, not an
approval. ``python -m pytest_promote approve`` records them; the ``approval`` gate
reads them back.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pytest_promote._util import git

#: Where approvals live (apart from the promotion ledger's ``refs/notes/promote``).
APPROVALS_REF = "refs/notes/promote-approvals"


@dataclasses.dataclass(frozen=True)
class Approval:
    """One recorded sign-off of ``commit`` for ``stage``."""

    commit: str
    stage: str
    who: str
    note: str = ""
    time: str = ""
    #: The signed statement of this approval (a DSSE envelope's JSON form), if signed.
    attestation: Mapping[str, Any] | None = None
    #: ``{"gate", "reason", "until"}`` when this is a break-glass authorisation, not an approval.
    override: Mapping[str, Any] | None = None

    def to_line(self) -> str:
        """The JSON line stored in the note (the commit is the note's own)."""
        line: dict[str, Any] = {"stage": self.stage, "who": self.who, "note": self.note, "time": self.time}
        if self.attestation is not None:
            line["attestation"] = dict(self.attestation)
        if self.override is not None:
            line["override"] = dict(self.override)
        return json.dumps(line, sort_keys=True)


def read(root: Path, commit: str) -> tuple[list[Approval], list[str]]:
    """The approvals recorded on ``commit``, and the note lines that are not one."""
    approvals: list[Approval] = []
    bad: list[str] = []
    for line in (git.note(root, APPROVALS_REF, commit) or "").splitlines():
        if not line.strip():
            continue
        if git.undecodable(line) is not None:
            bad.append(git.printable(line))
            continue
        try:
            data = json.loads(line)
            attestation, override = data.get("attestation"), data.get("override")
            if not all(v is None or isinstance(v, dict) for v in (attestation, override)):
                raise TypeError("attestation and override must be objects")
            approvals.append(Approval(
                commit, str(data["stage"]), str(data["who"]),
                str(data.get("note", "")), str(data.get("time", "")), attestation, override,
            ))
        except (ValueError, KeyError, TypeError, AttributeError):
            bad.append(line)
    return approvals, bad


def identities(who: str) -> set[str]:
    """The case-folded names ``who`` goes by: itself, and for ``Name <email>`` both parts."""
    names = {who.strip().casefold()}
    if "<" in who and who.rstrip().endswith(">"):
        name, _, email = who.rstrip()[:-1].partition("<")
        names |= {name.strip().casefold(), email.strip().casefold()}
    return names - {""}


def is_author(who: str, commit: git.Commit) -> bool:
    """Whether ``who`` is the author of ``commit`` (by name or by email)."""
    authored = {commit.author_name.casefold(), commit.author_email.casefold()} - {""}
    return bool(identities(who) & authored)
