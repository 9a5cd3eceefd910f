"""``python -m pytest_promote approve``: record a manual sign-off for HEAD.

An approval is one JSON line (``stage``, ``who``, ``note``, ``time``; with ``--key``,
its signed statement) appended to the git note of the approved commit (see
:mod:`pytest_promote.ledger.approvals`), so it travels with the repository (``git push
origin refs/notes/promote-approvals``) and never changes the commit itself. The
``approval`` gate reads them back. ``--break-glass`` records a signed authorisation of
an override instead.
"""

from __future__ import annotations

import argparse
import datetime
import os
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

from pytest_promote._util import git
from pytest_promote.ledger.approvals import APPROVALS_REF, Approval, is_author


def default_approver(root: Path) -> str | None:
    """git's ``user.email``, else ``user.name``, else the CI actor."""
    for key in ("user.email", "user.name"):
        value = git.git(root, "config", key)
        if value:
            return value
    return git.ci_actor()


def stage_names(root: Path, config: str | None) -> list[str]:
    """The policy's stages (the embedded default's when there is no policy)."""
    from pytest_promote.policy.loader import DEFAULT_POLICY, find_table

    table, _ = find_table(root, config)
    stages = (table or {}).get("stages") or tomllib.loads(DEFAULT_POLICY)["stages"]
    return [str(s) for s in stages]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``approve --stage STAGE [--as NAME] [--note TEXT] [--key KEY] [--break-glass
    GATE[@UNTIL]:REASON] [--config PATH]``."""
    parser.add_argument("--stage", required=True, help="the stage you sign off, e.g. production")
    parser.add_argument(
        "--as", dest="who", metavar="NAME",
        help="who approves (default: git user.email, user.name, or the CI actor)",
    )
    parser.add_argument("--note", default="", metavar="TEXT", help="what you checked")
    parser.add_argument(
        "--key", metavar="KEY", default=None,
        help="sign the approval with your Ed25519 key (a file, PEM or OpenSSH, or env:NAME); "
        "with [tool.promote.trust], only signed approvals count",
    )
    parser.add_argument(
        "--break-glass", metavar="GATE[@UNTIL]:REASON", default=None,
        help="instead of approving, authorise an override of GATE at the stage "
        "(needs --key; a stage whose records must be signed accepts only authorised overrides)",
    )
    parser.add_argument(
        "--config", metavar="PATH", default=None,
        help="the policy file, as --promote-config (default: [tool.promote] in pyproject.toml)",
    )


def run(args: argparse.Namespace) -> int:
    """Record the approval; 0 on success, 1 (with the reason on stderr) otherwise."""
    root = Path.cwd()
    commit = git.head(root)
    if commit is None:
        return _fail("not inside a git repository with a commit to approve")
    try:
        stages = stage_names(root, args.config)
    except pytest.UsageError as exc:
        return _fail(str(exc))
    if args.stage not in stages:
        from pytest_promote.policy.schema import did_you_mean

        return _fail(f"--stage {args.stage!r} is not a stage of the policy; "
                     f"{did_you_mean(args.stage, stages)}")
    who = (args.who or "").strip() or default_approver(root)
    if not who:
        return _fail("who approves? pass --as NAME or set git config user.email")
    now = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
    try:
        override = _override(args.break_glass)
        attestation, keyid = _attestation(root, commit, args, now, override)
    except (ValueError, pytest.UsageError) as exc:
        return _fail(str(exc))
    approval = Approval(commit, args.stage, who, args.note, now, attestation, override)
    if git.git(root, "var", "GIT_COMMITTER_IDENT") is None:
        # A note is a commit of its own: in CI, git may know no identity to make it.
        for role in ("AUTHOR", "COMMITTER"):
            os.environ.setdefault(f"GIT_{role}_NAME", who)
            os.environ.setdefault(f"GIT_{role}_EMAIL", who)
    try:
        git.add_note(root, APPROVALS_REF, commit, approval.to_line())
    except RuntimeError as exc:
        return _fail(str(exc))
    signed = f", signed with {keyid}" if keyid else ", unsigned"
    if args.break_glass:
        print(f"authorised the override {args.break_glass!r} of {commit[:12]} at {args.stage}{signed}")
    else:
        print(f"approved {commit[:12]} for {args.stage} as {who}{signed}")
    if any(is_author(who, c) for c in git.commits(root, [commit])):
        print("note: you authored this commit; your approval does not count toward the number")
    if git.git(root, "status", "--porcelain", "--untracked-files=no"):
        print("note: uncommitted changes are not part of what you approved")
    print(f"share it: git push origin {APPROVALS_REF}")
    return 0


def _override(option: str | None) -> dict[str, Any] | None:
    """``--break-glass GATE[@UNTIL]:REASON`` as the authorisation's override."""
    if option is None:
        return None
    from pytest_promote.policy.overrides import parse_option

    parsed = parse_option(option, "(signed)")
    until = parsed.until.isoformat() if parsed.until else None
    return {"gate": parsed.gate, "reason": parsed.reason, "until": until}


def _attestation(
    root: Path, commit: str, args: argparse.Namespace, now: str, override: dict[str, Any] | None
) -> tuple[dict[str, Any] | None, str | None]:
    """The signed statement of the approval (or authorisation) and the key's id, if ``--key``."""
    from pytest_promote.ledger.signing import keys, statement

    if args.key is None:
        if override is not None:
            raise ValueError("--break-glass needs --key: an unsigned authorisation proves nothing")
        return None, None
    try:
        key = keys.load(args.key)
    except keys.KeyProblem as exc:
        raise ValueError(f"--key {exc}") from None
    tree = git.tree(root, commit) or ""
    said = statement.approval(commit, tree, root.name, args.stage, args.note, now, override)
    return statement.envelope(said).signed(key).as_dict(), key.keyid


def _fail(message: str) -> int:
    print(f"python -m pytest_promote approve: {message}", file=sys.stderr)
    return 1
