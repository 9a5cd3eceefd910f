"""Approvals: manual sign-offs of a commit for a stage, kept in a git note.

An approval is one JSON line (``stage``, ``who``, ``note``, ``time``; when signed, its
statement as ``attestation``) in the note of the approved commit under
:data:`APPROVALS_REF`. A line with ``override`` is a break-glass authorisation, not an
approval. ``python -m pytest_promote approve`` records them; the ``approval`` gate
reads them back.

Signed approvals and break-glass authorisations are judged against the trust policy.

With ``[tool.promote.trust]``, an approval counts only when its statement is signed
by a key of the allowed signers and says what its note line says; the reviewer is
the signature's principal, never the ``who`` the line claims. An override at a
stage whose records must be signed is accepted only with an authorisation
(``approve --break-glass GATE:REASON --key KEY``) on HEAD, or a commit with its
tree, signed by a principal the stage lets break glass.

A signature whose key is listed under principals matching the commit's author
(a pattern included) never counts, and a key listed under a pattern only
(``*@example.com``) stands for no named reviewer unless
``trust.pattern_reviewers = true``.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pytest_promote._util import git
from pytest_promote.ledger.signing.patterns import literal_names, match_pattern_list
from pytest_promote.ledger.signing.signers import AllowedSigner, TrustProblem
from pytest_promote.ledger.signing.statement import APPROVAL
from pytest_promote.policy.overrides import OPTION
from pytest_promote.policy.schema import policy_error
from pytest_promote.policy.trust import Standing, judge

if TYPE_CHECKING:
    from pytest_promote.policy.model import Policy
    from pytest_promote.policy.overrides import Override
    from pytest_promote.policy.stage import Stage

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


def standing(approval: Approval, tree: str | None, signers: Sequence[AllowedSigner]) -> Standing:
    """Whether ``approval`` is signed by an allowed signer and its line says what was signed."""
    judged = judge(approval.attestation, APPROVAL, approval.commit, tree, signers)
    said = judged.statement
    if judged.state != "trusted" or said is None:
        return judged
    signed_override = said.predicate.get("override")
    if said.predicate.get("stage") != approval.stage or signed_override != (
        dict(approval.override) if approval.override is not None else None
    ):
        return Standing("untrusted", "its note line differs from what was signed", judged.lines)
    return judged


def names(entry: str) -> tuple[str, ...]:
    """The names a reviewer entry goes by: itself, and for ``Name <email>`` both parts."""
    entry = entry.strip()
    if "<" in entry and entry.endswith(">"):
        name, _, email = entry[:-1].partition("<")
        return tuple(n for n in (entry, name.strip(), email.strip()) if n)
    return (entry,)


def stands_for(judged: Standing, entry: str, patterns: bool) -> bool:
    """Whether the signature is the named ``entry``'s: a line of its key names it, as
    OpenSSH matches principals, and (unless ``patterns``) names it literally, not
    through a wildcard (a ``*@example.com`` key is nobody in particular)."""
    return any(
        line.names(name) and (patterns or name in literal_names(line.principals))
        for line in judged.lines for name in names(entry)
    )


def signed_reviewer(judged: Standing, reviewers: Sequence[str], patterns: bool) -> str | None:
    """The entry of ``reviewers`` the signature stands for (see :func:`stands_for`)."""
    return next((r for r in reviewers if stands_for(judged, r, patterns)), None)


def authored(judged: Standing, signers: Sequence[AllowedSigner], commits: Iterable[git.Commit]) -> bool:
    """Whether a key that made the signature is listed, on any line of the
    allowed-signers file, under principals that match the author of one of
    ``commits`` (pattern included, case ignored): such a signature never counts."""
    keys = {line.key for line in judged.lines}
    lines = [s for s in signers if s.key in keys]
    return any(
        match_pattern_list(who.lower(), line.principals, lower=True) == 1
        for commit in commits for who in (commit.author_email, commit.author_name) if who
        for line in lines
    )


def same_tree_commits(root: Path, head: git.Commit) -> list[git.Commit]:
    """HEAD and every commit with approvals whose tree is HEAD's."""
    noted = [c for c in git.noted_commits(root, APPROVALS_REF) if c != head.sha]
    return [head, *(c for c in git.commits(root, noted) if c.tree == head.tree)]


def authorise(
    policy: Policy, stage: Stage, chosen: dict[str, Override], root: Path, today: datetime.date
) -> dict[str, Override]:
    """The overrides, each with who signed its authorisation, when the stage's records
    must be signed; a usage error for an override nobody allowed to break glass signed."""
    trust = policy.trust
    if trust is None or not trust.requires(stage.name) or not chosen:
        return chosen
    allowed = trust.break_glass.get(stage.name, ())
    try:
        signers = trust.read(root)
    except TrustProblem as exc:
        raise policy_error(trust.source, "trust.allowed_signers", trust.allowed_signers, str(exc)) from None
    sha = git.head(root)
    head = git.commits(root, [sha]) if sha else []
    found: dict[str, str] = {}
    for commit in same_tree_commits(root, head[0]) if head else []:
        for approval in read(root, commit.sha)[0]:
            if approval.override is None or approval.stage != stage.name:
                continue
            judged = standing(approval, commit.tree, signers)
            if judged.state != "trusted" or authored(judged, signers, {head[0], commit}):
                continue
            who = signed_reviewer(judged, allowed, trust.pattern_reviewers)
            if who and not _expired(approval.override.get("until"), today):
                found.setdefault(str(approval.override.get("gate")), who)
    authorised = {}
    for gid, override in chosen.items():
        if gid not in found:
            where = f"{stage.name}, whose records must be signed"
            problem = (
                f"an override at {where} needs a break-glass authorisation of HEAD signed by "
                f"{' or '.join(allowed) or 'a principal in trust.stage.' + stage.name + '.break_glass'}: "
                f"pytest-promote approve --stage {stage.name} "
                f"--break-glass '{gid}:REASON' --key KEY"
            )
            if override.origin == OPTION:
                raise policy_error(OPTION, "GATE", gid, problem)
            raise policy_error(policy.source, f"{override.origin}.gate", gid, problem)
        authorised[gid] = dataclasses.replace(override, signed_by=found[gid])
    return authorised


def _expired(until: object, today: datetime.date) -> bool:
    """Whether an authorisation's ``until`` has passed (an unreadable one has)."""
    if until is None:
        return False
    try:
        return datetime.date.fromisoformat(str(until)) < today
    except ValueError:
        return True
