"""``approval``: enough named reviewers signed off HEAD for this stage.

For a designated reviewer who approves after manual testing, or several roles (tech
lead, QA and security) who must each sign off. Approvals are recorded
with ``python -m pytest_promote approve --stage STAGE`` (see :mod:`pytest_promote.cli.approve`).

Rules: only approvals for this very stage count, each reviewer once. The commit's
author never counts, even when a reviewer, so nobody approves their own change
alone. An approval recorded on another commit with the identical tree (a rebase or
a merge that changed no file) counts too, unless ``same_tree = false``; its author
is excluded as well. Approvals by anyone not in ``reviewers`` are ignored and
reported. With ``[tool.promote.trust]``, only approvals signed by a key of the
allowed signers count, and the reviewer is the key's principal (``approve --key``):
a key whose principals match the author (a pattern included) never counts, and a
key listed under a pattern names no reviewer unless ``trust.pattern_reviewers``.
"""

from __future__ import annotations

import dataclasses

from pytest_promote._util import git
from pytest_promote.api import Finding, Gate, GateResult, minimum
from pytest_promote.ledger.approvals import (
    APPROVALS_REF,
    Approval,
    authored,
    identities,
    is_author,
    read,
    same_tree_commits,
    signed_reviewer,
    standing,
)
from pytest_promote.ledger.signing.signers import TrustProblem


@dataclasses.dataclass(frozen=True)
class ApprovalOptions:
    """``[tool.promote.gates.approval]``: who may approve and how many must."""

    reviewers: tuple[str, ...] = ()
    count: int = minimum(1, "approvals required", 0, 1000)
    same_tree: bool = True

    def __post_init__(self) -> None:
        if not self.reviewers:
            raise ValueError("`reviewers` must list the names or emails that may approve")
        if self.count < 1:
            raise ValueError("`count` must be at least 1")
        if self.count > len(self.reviewers):
            raise ValueError(
                f"`count` = {self.count} approvals cannot come from {len(self.reviewers)} reviewers"
            )


class ApprovalGate(Gate):
    """Counts the reviewers' approvals of HEAD (or of its identical tree) for the stage."""

    Options = ApprovalOptions
    title = "manual approval"

    def evaluate(self) -> GateResult:
        """Read the approval notes and count those that may count."""
        opts: ApprovalOptions = self.options
        root, stage = self.context.rootpath, self.context.stage
        sha = git.head(root)
        head = git.commits(root, [sha]) if sha else []
        if not head:
            return GateResult.error(f"{self.id}: {root} is not a git checkout with a commit")
        approved_commits = same_tree_commits(root, head[0]) if opts.same_tree else [head[0]]
        trust = self.context.policy.trust
        try:
            signers = trust.read(root) if trust else None
        except TrustProblem as exc:
            return GateResult.error(f"{self.id}: {exc}")
        counted: dict[str, Approval] = {}
        findings: list[Finding] = []
        for commit in approved_commits:
            approvals, bad = read(root, commit.sha)
            findings += [
                Finding(f"unreadable approval on {commit.sha[:12]}: {line[:80]}", rule="unreadable")
                for line in bad
            ]
            for approval in (a for a in approvals if a.stage == stage and a.override is None):
                commits = {head[0], commit}
                if signers is None:
                    signer, own = "", is_author(approval.who, head[0]) or is_author(approval.who, commit)
                    reviewer = _reviewer(approval.who, opts.reviewers)
                else:
                    judged = standing(approval, commit.tree, signers)
                    if judged.state != "trusted":
                        why = f"{judged.describe()}; only signed approvals count"
                        findings.append(_ignored(approval, why))
                        continue
                    signer, own = f"{judged.describe()}: ", authored(judged, signers, commits)
                    reviewer = signed_reviewer(judged, opts.reviewers, bool(trust and trust.pattern_reviewers))
                if own or (reviewer is not None and any(is_author(reviewer, c) for c in commits)):
                    findings.append(_ignored(approval, f"{signer}authored the commit"))
                elif reviewer is None:
                    why = "not a reviewer" if signers is None else (
                        "its key names no reviewer (a key listed under a pattern names nobody "
                        "unless trust.pattern_reviewers = true)")
                    findings.append(_ignored(approval, signer + why))
                else:
                    counted.setdefault(reviewer, approval)
        measured = f"{len(counted)}/{opts.count}"
        if len(counted) >= opts.count:
            names = ", ".join(counted)
            return GateResult.passed(
                f"{self.id}: {measured} approvals for {stage} ({names})",
                measured=measured, threshold=opts.count, findings=findings,
            )
        eligible = [
            r for r in opts.reviewers if r not in counted and not is_author(r, head[0])
        ]
        missing = opts.count - len(counted)
        return GateResult.failed(
            f"{self.id}: {measured} approvals for {stage}; {missing} more needed from: "
            f"{', '.join(eligible) or 'nobody (every remaining reviewer authored the commit)'}\n"
            f"record one: pytest-promote approve --stage {stage} "
            f"(then git push origin {APPROVALS_REF})",
            measured=measured, threshold=opts.count, findings=findings,
        )


def _reviewer(who: str, reviewers: tuple[str, ...]) -> str | None:
    """The entry of ``reviewers`` that ``who`` is, if any."""
    names = identities(who)
    return next((r for r in reviewers if identities(r) & names), None)


def _ignored(approval: Approval, why: str) -> Finding:
    return Finding(
        f"approval by {approval.who} on {approval.commit[:12]}: {why}", rule="ignored"
    )
