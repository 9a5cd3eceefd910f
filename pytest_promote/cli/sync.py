"""``python -m pytest_promote ledger sync``: share the ledger with a remote, losing nothing.

Parallel CI jobs on different machines each append records to their clone's
``refs/notes/promote`` and push it; a plain push of the second job is rejected
(and a forced one would drop the first job's records). ``sync`` fetches the
remote's notes, merges them with the local ones as a union of records (git's own
``cat_sort_uniq`` notes merge: each record is one line, so the union of two notes
is the sorted set of their lines), and pushes the result, which the remote's ref
fast-forwards to. When another job pushed in between, the push is rejected and
the whole round is redone, until it lands or ``--timeout`` passes. Approvals
(``refs/notes/promote-approvals``) travel the same way.
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
import time
from pathlib import Path

from pytest_promote._util import git
from pytest_promote._util.redact import mask_text
from pytest_promote.ledger.approvals import APPROVALS_REF
from pytest_promote.ledger.records import REF

#: The notes refs ``sync`` shares.
REFS = (REF, APPROVALS_REF)
#: Words of a rejected push that another round can mend (someone pushed first).
RETRY_PUSH = ("rejected", "non-fast-forward", "fetch first", "cannot lock ref", "failed to update ref")


class SyncError(RuntimeError):
    """The ledger could not be shared; the message says why, in git's words."""


def sync(root: Path, remote: str, ref: str, timeout: float = git.CAS_DEADLINE) -> str:
    """Fetch, merge and push ``ref`` with ``remote``; what was done, as one line."""
    deadline = time.monotonic() + timeout
    pause = 0.05
    while True:
        why = _round(root, remote, ref)
        if why is None or why.startswith("nothing"):
            return why or f"{ref}: shared with {remote} (both hold the union of their records)"
        if time.monotonic() + pause > deadline:
            raise SyncError(f"{ref}: gave up after {timeout:g}s: {why}")
        print(mask_text(f"ledger sync: {why}; merging again"), file=sys.stderr)
        time.sleep(pause * (1 + random.random()))
        pause = min(pause * 2, 1.0)


def _round(root: Path, remote: str, ref: str) -> str | None:
    """One fetch-merge-push; None when pushed, else why another round is needed
    (or ``nothing ...`` when there is nothing to share). Raises SyncError for
    failures another round cannot mend."""
    local = git.git(root, "rev-parse", "--verify", "-q", ref)
    with git.private_ref(root, None) as theirs:
        _fetch(root, remote, ref, theirs)
        fetched = git.git(root, "rev-parse", "--verify", "-q", theirs)
        if fetched is None and local is None:
            return f"nothing to share: neither this clone nor {remote} has {ref}"
        if fetched is not None:
            merged = _merge(root, local, theirs)
            if merged != local:
                moved = git.compare_and_swap(root, ref, merged, local)
                if moved is not None:
                    return f"{ref} changed while merging ({moved})"
                local = merged
        if fetched == local:
            return None  # the remote already holds everything
    return _push(root, remote, ref)


def _fetch(root: Path, remote: str, ref: str, into: str) -> None:
    done = _run(root, "fetch", "--quiet", "--no-tags", remote, f"+{ref}:{into}")
    if done.returncode != 0 and "couldn't find remote ref" not in done.stderr:
        raise SyncError(f"git fetch {remote} {ref} failed: {done.stderr.strip()}")


def _merge(root: Path, local: str | None, theirs: str) -> str:
    """The commit of the union of the local notes and ``theirs``."""
    fetched = git.git(root, "rev-parse", "--verify", "-q", theirs)
    assert fetched is not None
    if local is None:
        return fetched
    with git.private_ref(root, local) as work:
        done = git.notes_command(root, work, "merge", "--quiet", "--strategy=cat_sort_uniq", theirs)
        if done.returncode != 0:
            raise SyncError(f"git notes merge failed: {done.stderr.strip()}")
        merged = git.git(root, "rev-parse", "--verify", "-q", work)
    if merged is None:
        raise SyncError("git notes merge left no commit")
    return merged


def _push(root: Path, remote: str, ref: str) -> str | None:
    done = _run(root, "push", "--quiet", remote, f"{ref}:{ref}")
    if done.returncode == 0:
        return None
    said = done.stderr.strip()
    if any(word in said for word in RETRY_PUSH):
        return f"push rejected ({said.splitlines()[-1] if said else 'no reason given'})"
    raise SyncError(f"git push {remote} {ref} failed: {said}")


def _run(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    try:
        return git.run(root, *args, timeout=120)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise SyncError(f"git {args[0]} did not finish: {exc}") from None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``ledger sync [--remote NAME] [--root DIR] [--timeout SECONDS]``."""
    sub = parser.add_subparsers(dest="action", required=True)
    sync_parser = sub.add_parser(
        "sync", help="fetch the remote's ledger, merge it with this clone's, push the union",
    )
    sync_parser.add_argument("--remote", default="origin", help="the remote (default: origin)")
    sync_parser.add_argument("--root", default=".", help="the repository (default: .)")
    sync_parser.add_argument(
        "--timeout", type=float, default=git.CAS_DEADLINE,
        help="retry rejected pushes for this many seconds (default: %(default)g)",
    )


def run(args: argparse.Namespace) -> int:
    """Sync every notes ref; exit 0 when each was shared (or there was nothing)."""
    root = Path(args.root)
    if not 0 < args.timeout < float("inf"):
        print(f"ledger sync: --timeout {args.timeout}: give a positive number of seconds",
              file=sys.stderr)
        return 2
    if git.head(root) is None and git.git(root, "rev-parse", "--git-dir") is None:
        print(f"ledger sync: {root} is not a git repository", file=sys.stderr)
        return 1
    for ref in REFS:
        try:
            print(f"ledger sync: {sync(root, args.remote, ref, args.timeout)}")
        except RuntimeError as exc:  # SyncError, or git refusing to move a ref
            print(mask_text(f"ledger sync: {exc}"), file=sys.stderr)
            return 1
    return 0
