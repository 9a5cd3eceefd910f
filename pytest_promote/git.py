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


def note(root: Path, ref: str, commit: str) -> str | None:
    """The git note under ``ref`` (e.g. ``refs/notes/promote``) on ``commit``, if any."""
    return git(root, "notes", f"--ref={ref}", "show", commit)


def add_note(root: Path, ref: str, commit: str, text: str) -> None:
    """Append ``text`` as a line to the note under ``ref`` on ``commit``.

    Appending keeps every record: a commit promoted twice carries both outcomes.
    """
    done = subprocess.run(
        ["git", "notes", f"--ref={ref}", "append", "--no-separator", "-m", text, commit],
        cwd=root, capture_output=True, text=True, check=False, timeout=30,
    )
    if done.returncode != 0:
        raise RuntimeError(f"git notes append failed: {done.stderr.strip()}")


def noted_commits(root: Path, ref: str) -> list[str]:
    """Every commit that carries a note under ``ref``."""
    out = git(root, "notes", f"--ref={ref}", "list")
    return [line.split()[1] for line in (out or "").splitlines() if len(line.split()) == 2]
