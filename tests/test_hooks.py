"""Pre-checking before git takes a change: the pre-push hook ``pytest-promote hook
install`` writes, tested with real ``git push`` to a local bare repository, and the
pre-commit hook of ``.pre-commit-hooks.yaml``, tested with a real ``pre-commit`` run."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from gitrepo import environ

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
POLICY = """
[tool.pytest.ini_options]
pythonpath = ["."]

[tool.ruff.lint]
select = ["F"]

[tool.promote]
stages = ["development", "production"]
paths = ["app.py"]
enforce_path = false

[tool.promote.stage.development]
accept = "yellow"
required = ["tests"]
advisory = ["lint"]
match = ["main"]

[tool.promote.stage.production]
required = ["tests", "lint"]
match = ["v*"]
"""
CLEAN = "import os\n\nSEP = os.sep\n"


class Project:
    """A committed project (lint fails: ``app.py`` imports what it never uses) whose
    ``origin`` is a bare repository."""

    def __init__(self, tmp: Path) -> None:
        self.root, self.env = tmp / "project", environ(tmp)
        self.root.mkdir()
        (self.root / "pyproject.toml").write_text(POLICY)
        (self.root / "app.py").write_text("import os\n")
        (self.root / "test_app.py").write_text("import app\n\n\ndef test_app():\n    assert app\n")
        (self.root / ".gitignore").write_text(".pytest_cache/\n__pycache__/\n.coverage\n.ruff_cache/\n")
        self.run("git", "init", "-q", "-b", "main")
        self.run("git", "init", "-q", "--bare", str(tmp / "origin.git"))
        self.run("git", "remote", "add", "origin", str(tmp / "origin.git"))
        self.commit("first")

    def run(self, *command: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(command, cwd=self.root, env=self.env, capture_output=True, text=True,
                              check=False, timeout=600)
        assert not check or done.returncode == 0, done.stdout + done.stderr
        return done

    def commit(self, message: str) -> None:
        self.run("git", "add", "-A")
        self.run("git", "commit", "-q", "-m", message)


def test_the_pre_push_hook_refuses_a_push_its_target_stage_would_not_accept(tmp_path: Path) -> None:
    project = Project(tmp_path)
    installed = project.run(str(BIN / "pytest-promote"), "hook", "install")
    assert "wrote" in installed.stdout

    refused = project.run("git", "push", "-q", "origin", "main:refs/heads/main", "HEAD:refs/tags/v1",
                          check=False)
    assert refused.returncode != 0
    assert "promote: stage development: YELLOW: accepted, push goes ahead" in refused.stderr
    assert "promote: stage production: RED: not accepted (the verdict is below what the stage " \
           "accepts): push refused" in refused.stderr
    assert project.run("git", "ls-remote", "origin").stdout == ""  # nothing pushed

    (project.root / "app.py").write_text(CLEAN)
    dirty = project.run("git", "push", "-q", "origin", "HEAD:refs/tags/v1", check=False)
    assert dirty.returncode != 0
    assert "GREEN: not accepted (working tree dirty: 1 path differs from HEAD (app.py))" in dirty.stderr

    project.commit("unused import removed")
    pushed = project.run("git", "push", "-q", "origin", "main", "HEAD:refs/tags/v1")
    assert "promote: stage production: GREEN: accepted, push goes ahead" in pushed.stderr
    assert len(project.run("git", "ls-remote", "origin").stdout.splitlines()) == 2
    unchecked = project.run("git", "push", "-q", "origin", "HEAD:refs/heads/topic")
    assert "refs/heads/topic matches no stage's `match` pattern: pushed unchecked" in unchecked.stderr

    (project.root / ".git" / "hooks" / "pre-push").write_text("#!/bin/sh\nexit 0\n")
    other = project.run(str(BIN / "pytest-promote"), "hook", "install", check=False)
    assert other.returncode == 1 and "another tool's hook" in other.stderr


def test_the_pre_commit_hook_fails_a_commit_below_the_stage_s_colour(tmp_path: Path) -> None:
    if shutil.which("pre-commit", path=str(BIN)) is None:
        pytest.skip("pre-commit is not installed (pip install -e '.[test]')")
    hooks = tmp_path / "hooks"
    hooks.mkdir()
    shutil.copy(ROOT / ".pre-commit-hooks.yaml", hooks)
    subprocess.run(["git", "init", "-q", "-b", "main", str(hooks)], check=True)
    project = Project(tmp_path)
    for args in (("add", "-A"), ("commit", "-q", "-m", "hooks")):
        subprocess.run(["git", *args], cwd=hooks, env=project.env, check=True)
    rev = subprocess.run(["git", "rev-parse", "HEAD"], cwd=hooks, capture_output=True, text=True,
                         check=True).stdout.strip()
    (project.root / ".pre-commit-config.yaml").write_text(
        f"repos:\n  - repo: {hooks}\n    rev: {rev}\n    hooks:\n      - id: promote\n"
        '        args: ["--promote-to=production", "-q"]\n')
    project.commit("pre-commit")
    project.run(str(BIN / "pre-commit"), "install")

    (project.root / "test_app.py").write_text("import app\n\n\ndef test_app():\n    assert app.SEP\n")
    refused = project.run("git", "commit", "-qam", "a test of SEP", check=False)
    assert refused.returncode != 0
    assert "stage production: RED" in refused.stdout + refused.stderr
    (project.root / "app.py").write_text(CLEAN)
    committed = project.run("git", "commit", "-qam", "SEP, tested")
    assert "promote (pytest --promote-to)" in committed.stdout + committed.stderr
    assert "Passed" in committed.stdout + committed.stderr
