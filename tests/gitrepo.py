"""A real git repository in a pytester directory, for the gates that read git."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import cli
import pytest

#: A policy of three stages whose first needs only the tests (the ledger's and the
#: status command's tests).
THREE_STAGES = """
[tool.promote]
stages = ["development", "staging", "production"]

[tool.promote.stage.development]
required = ["tests"]
"""

#: What the test runs write into a project (pytester's own files, caches, reports):
#: ignored, so a project in git stays the committed tree from run to run.
WRITTEN_BY_RUNS = (
    ".pytest_cache/", "__pycache__/", ".coverage", "runpytest-*", "stdout", "stderr",
    "r.json", "j.xml", "promote-report.json", ".no-global-gitconfig", "r.sarif", "s.md",
    "step-summary.md", "*.promote.json",
)

#: Options that keep pytest's cache out of a ledger test's repository.
NO_CACHE = ("-p", "no:cacheprovider")


def environ(home: Path) -> dict[str, str]:
    """The environment a separate process of a test runs in, as a user's shell would
    have it: this virtual environment active (its console scripts first on PATH),
    nothing of the test run's own pytest or coverage, a fixed git identity and no
    global git configuration, pre-commit's cache under ``home``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "COV_", "COVERAGE_"))}
    env.update(
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
        PRE_COMMIT_HOME=str(home / "pre-commit"),
        GIT_CONFIG_GLOBAL=str(home / "gitconfig"), GIT_CONFIG_NOSYSTEM="1",
        GIT_AUTHOR_NAME="Tess Ter", GIT_AUTHOR_EMAIL="tess@example.com",
        GIT_COMMITTER_NAME="Tess Ter", GIT_COMMITTER_EMAIL="tess@example.com",
    )
    return env


def run_git(path: Path, *args: str) -> str:
    """Run git in ``path``; its stripped stdout (a failure fails the test)."""
    done = subprocess.run(["git", *args], cwd=path, capture_output=True, text=True, check=True)
    return done.stdout.strip()


def approve(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``python -m pytest_promote approve ARGS`` in ``cwd`` (run in this process)."""
    return cli.run(cwd, "approve", *args)


class Repo:
    """Runs git in ``path`` with a fixed identity; commits what the test wrote."""

    def __init__(self, path: Path, monkeypatch: pytest.MonkeyPatch, *, init: bool = True) -> None:
        self.path = path
        # The CI's variables are cleared for every test (tests/conftest.py); no global
        # or system git config may change what the tests see either.
        monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(path / ".no-global-gitconfig"))
        monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
        if init:
            self.git("init", "-q", "-b", "main")
            self.identity("Ada Author", "ada@example.com")
            (path / ".gitignore").write_text("\n".join(WRITTEN_BY_RUNS) + "\n")

    @classmethod
    def copy(cls, source: Path, path: Path, monkeypatch: pytest.MonkeyPatch) -> Repo:
        """A copy at ``path`` of the repository at ``source`` (its commits, identity and
        files, the ignored ones too), for a test that changes what another test built."""
        shutil.copytree(source, path, dirs_exist_ok=True, symlinks=True)
        return cls(path, monkeypatch, init=False)

    def git(self, *args: str) -> str:
        """Run git; its stripped stdout (a failure fails the test)."""
        return run_git(self.path, *args)

    def identity(self, name: str, email: str) -> None:
        """Who the next commits (and default approvals) are by."""
        self.git("config", "user.name", name)
        self.git("config", "user.email", email)

    def write(self, files: dict[str, str]) -> None:
        """Write ``files`` (relative path -> text), making directories."""
        for rel, text in files.items():
            target = self.path / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")

    def approve(self, *args: str) -> subprocess.CompletedProcess[str]:
        """``python -m pytest_promote approve ARGS`` in this repository."""
        return approve(self.path, *args)

    def commit(self, message: str, files: dict[str, str] | None = None) -> str:
        """Write ``files``, commit everything, return the new sha."""
        self.write(files or {})
        self.git("add", "-A")
        self.git("commit", "-q", "--allow-empty", "-m", message)
        return self.git("rev-parse", "HEAD")


def gate_summary(pytester: pytest.Pytester, gate: str, *args: str) -> str:
    """Run the promotion with ``args``, assert it passed, return ``gate``'s summary."""
    result = pytester.runpytest(*args, "--promote-report=promote-report.json")
    result.assert_outcomes(passed=2)
    report = json.loads((pytester.path / "promote-report.json").read_text())
    return next(g["summary"] for g in report["gates"] if g["id"] == gate)
