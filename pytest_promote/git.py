"""The few facts pytest-promote asks of git: the commit and the branch."""

from __future__ import annotations

import subprocess
from pathlib import Path


def git(root: Path, *args: str) -> str | None:
    """``git args`` in ``root``; its stripped output, or None when git fails."""
    try:
        done = subprocess.run(
            ["git", *args], cwd=root, capture_output=True, text=True, check=False, timeout=30
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def head(root: Path) -> str | None:
    """The commit sha of HEAD, or None outside a repository (or before a commit)."""
    return git(root, "rev-parse", "--verify", "-q", "HEAD")


def branch(root: Path) -> str | None:
    """The current branch name, or None when HEAD is detached."""
    return git(root, "symbolic-ref", "--short", "-q", "HEAD")
