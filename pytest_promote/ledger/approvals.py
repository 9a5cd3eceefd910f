"""Approvals: manual sign-offs of a commit for a stage, kept in a git note.

An approval is one JSON line (``stage``, ``who``, ``note``, ``time``) in the note of the
approved commit under :data:`APPROVALS_REF`. ``python -m pytest_promote approve``
records them; the ``approval`` gate reads them back.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

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

    def to_line(self) -> str:
        """The JSON line stored in the note (the commit is the note's own)."""
        return json.dumps(
            {"stage": self.stage, "who": self.who, "note": self.note, "time": self.time},
            sort_keys=True,
        )


def read(root: Path, commit: str) -> tuple[list[Approval], list[str]]:
    """The approvals recorded on ``commit``, and the note lines that are not one."""
    approvals: list[Approval] = []
    bad: list[str] = []
    for line in (git.note(root, APPROVALS_REF, commit) or "").splitlines():
        if not line.strip():
            continue
        try:
            data = json.loads(line)
            approvals.append(Approval(
                commit, str(data["stage"]), str(data["who"]),
                str(data.get("note", "")), str(data.get("time", "")),
            ))
        except (ValueError, KeyError, TypeError):
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
