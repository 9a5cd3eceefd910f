"""Pre-checking before git takes a change: the pre-push hook ``pytest-promote hook
install`` writes, tested with real ``git push`` to a local bare repository, and the
pre-commit hook of ``.pre-commit-hooks.yaml``, tested with a real ``pre-commit`` run;
what the ``hook`` command decides before anything runs, tested in this process."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import cli
import pytest
import test_precheck
from gitrepo import Repo, environ

from pytest_promote.cli.hook import MARK, ZERO

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

    def attempt(self, message: str, files: dict[str, str]) -> tuple[int, str]:
        """Write and stage ``files`` (path -> text), then ``git commit``: its exit status
        and what it printed."""
        for path, text in files.items():
            (self.root / path).write_text(text)
        self.run("git", "add", *files)
        done = self.run("git", "commit", "-q", "-m", message, check=False)
        return done.returncode, done.stdout + done.stderr


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


def hooks_repository(tmp: Path, env: dict[str, str]) -> tuple[Path, str]:
    """A git repository holding this checkout's ``.pre-commit-hooks.yaml`` (pre-commit
    reads hooks from a commit of a repository), and that commit."""
    hooks = tmp / "hooks"
    hooks.mkdir()
    shutil.copy(ROOT / ".pre-commit-hooks.yaml", hooks)
    for args in (("init", "-q", "-b", "main"), ("add", "-A"), ("commit", "-q", "-m", "hooks")):
        subprocess.run(["git", *args], cwd=hooks, env=env, check=True)
    rev = subprocess.run(["git", "rev-parse", "HEAD"], cwd=hooks, capture_output=True, text=True,
                         check=True).stdout.strip()
    return hooks, rev


def use_pre_commit(project: Project, hook: str, args: str) -> None:
    """Install pre-commit in ``project`` with one hook of this repository's."""
    if shutil.which("pre-commit", path=str(BIN)) is None:
        pytest.skip("pre-commit is not installed (pip install -e '.[test]')")
    hooks, rev = hooks_repository(project.root.parent, project.env)
    (project.root / ".pre-commit-config.yaml").write_text(
        f"repos:\n  - repo: {hooks}\n    rev: {rev}\n    hooks:\n      - id: {hook}\n"
        f"        args: {args}\n")
    project.commit("pre-commit")
    project.run(str(BIN / "pre-commit"), "install")


def test_the_whole_stage_hook_fails_a_commit_below_the_stage_s_colour(tmp_path: Path) -> None:
    project = Project(tmp_path)
    use_pre_commit(project, "promote-stage", '["--promote-to=production", "-q"]')

    (project.root / "test_app.py").write_text("import app\n\n\ndef test_app():\n    assert app.SEP\n")
    refused = project.run("git", "commit", "-qam", "a test of SEP", check=False)
    assert refused.returncode != 0
    assert "stage production: RED" in refused.stdout + refused.stderr
    (project.root / "app.py").write_text(CLEAN)
    committed = project.run("git", "commit", "-qam", "SEP, tested")
    assert "promote (pytest --promote-to)" in committed.stdout + committed.stderr
    assert "Passed" in committed.stdout + committed.stderr


#: A key of the shape of an AWS access key id, made up.
AWS_LINE = 'ID = "AKIAZ7Q3XK2M9PLW4RTY"\n'  # pragma: allowlist secret (a made-up key)
HOOK = "promote pre-check (the gates that judge files, over the files committed)"


def test_the_pre_commit_hook_judges_the_files_committed_with_the_gates_that_judge_files(
    tmp_path: Path,
) -> None:
    project = Project(tmp_path)
    (project.root / "pyproject.toml").write_text(test_precheck.POLICY)  # lint required at production
    (project.root / "pkg").mkdir()
    (project.root / "pkg" / "a.py").write_text(CLEAN)
    project.commit("clean")
    use_pre_commit(project, "promote", '["--stage=production"]')

    status, said = project.attempt("notes", {"notes.md": "# Notes\n\nNothing secret.\n",
                                             "pkg/a.py": CLEAN + "NAME = 'app'\n"})
    assert status == 0 and HOOK in said and "Passed" in said, said

    status, said = project.attempt("unused import", {"pkg/unused.py": "import sys\n"})
    assert status != 0, said
    assert "FAILED lint (required)" in said and "pkg/unused.py:1: F401 `sys` imported but unused" in said
    assert "PASSED secrets (required): secrets: no new secret in 1 file" in said
    assert "not judged here: tests (they judge the whole tree: pytest --promote-to=production " \
           "judges them, at push and in CI)" in said
    assert "required gate lint of production failed on the files given" in said
    project.run("git", "rm", "-q", "--cached", "pkg/unused.py")

    status, said = project.attempt("a key", {"settings.py": AWS_LINE})
    assert status != 0, said
    assert "FAILED secrets (required)" in said and "settings.py:1: AWS Access Key" in said
    assert "not run: lint (required): none of the files given is one it judges" in said
    assert "AKIAZ7Q3XK2M9PLW4RTY" not in said  # pragma: allowlist secret (the value is masked)
    project.run("git", "rm", "-q", "--cached", "settings.py")

    # What is not staged is not judged: the untracked files above, and this change.
    (project.root / "pkg" / "a.py").write_text(CLEAN + "import json\n")
    status, said = project.attempt("more notes", {"more.md": "More notes.\n"})
    assert status == 0 and "Passed" in said and "a.py" not in said, said
    assert project.run("git", "show", "--name-only", "--format=", "HEAD").stdout.split() == ["more.md"]
    assert (project.root / "pkg" / "a.py").read_text() == CLEAN + "import json\n"  # left as it was
    assert project.run("git", "notes", "--ref=promote", "list", check=False).stdout == ""


# What the command decides before git or pytest runs anything, in this process: where
# the hook goes and whose hook it may replace; which pushed refs need a promotion.


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Repo:
    """A committed repository with :data:`POLICY` (no origin: nothing is pushed)."""
    repo = Repo(tmp_path, monkeypatch)
    repo.commit("first", {"pyproject.toml": POLICY})
    return repo


def test_install_writes_this_commands_hook_where_git_reads_hooks(repo: Repo) -> None:
    done = cli.run(repo.path, "hook", "install", "--stage", "production")
    assert done.returncode == 0, done.stderr
    hook = repo.path / ".git" / "hooks" / "pre-push"
    assert f"wrote {hook}; `git push --no-verify` skips it" in done.stdout
    text = hook.read_text()
    assert text.startswith(f"#!/bin/sh\n{MARK}")
    assert f"exec {sys.executable} -m pytest_promote hook pre-push --stage=production \"$@\"" in text
    assert hook.stat().st_mode & 0o100
    assert cli.run(repo.path, "hook", "install").returncode == 0  # its own hook: replaced

    repo.git("config", "core.hooksPath", "githooks")
    assert cli.run(repo.path, "hook", "install").returncode == 0
    assert MARK in (repo.path / "githooks" / "pre-push").read_text()


def test_install_keeps_another_tools_hook_unless_forced(
    repo: Repo, tmp_path_factory: pytest.TempPathFactory
) -> None:
    hook = repo.path / ".git" / "hooks" / "pre-push"
    hook.write_text("#!/bin/sh\nexit 0\n")
    other = cli.run(repo.path, "hook", "install")
    assert other.returncode == 1
    assert f"{hook.resolve()} is another tool's hook; add `{sys.executable} -m pytest_promote hook pre-push" \
           in other.stderr
    assert hook.read_text() == "#!/bin/sh\nexit 0\n"
    assert cli.run(repo.path, "hook", "install", "--force").returncode == 0
    assert MARK in hook.read_text()

    outside = cli.run(tmp_path_factory.mktemp("plain"), "hook", "install")
    assert (outside.returncode, outside.stderr) == (1, "pytest-promote hook install: not a git repository\n")


def test_pre_push_promotes_only_branches_and_tags_a_stage_matches(repo: Repo) -> None:
    head = repo.git("rev-parse", "HEAD")
    lines = [
        f"(delete) {ZERO} refs/heads/main {head}",  # a deletion: nothing to promote
        f"refs/notes/promote {head} refs/notes/promote {ZERO}",  # the ledger
        f"refs/heads/topic {head} refs/heads/topic {ZERO}",  # no stage matches
    ]
    done = cli.run(repo.path, "hook", "pre-push", "origin", "url", stdin="\n".join(lines) + "\n")
    assert (done.returncode, done.stderr) == (
        0, "promote: refs/heads/topic matches no stage's `match` pattern: pushed unchecked\n")


def test_pre_push_refuses_a_commit_other_than_head(repo: Repo) -> None:
    first = repo.git("rev-parse", "HEAD")
    head = repo.commit("second")
    done = cli.run(repo.path, "hook", "pre-push", stdin=f"refs/heads/main {first} refs/heads/main {ZERO}\n")
    assert done.returncode == 1
    assert (f"promote: the push of {first[:12]} to refs/heads/main needs development, but only HEAD "
            f"({head[:12]}) can be promoted here: check it out first") in done.stderr


def test_pre_push_refuses_when_the_policy_cannot_be_read(repo: Repo) -> None:
    head = repo.git("rev-parse", "HEAD")
    repo.write({"pyproject.toml": POLICY.replace('match = ["v*"]', 'match = "v*"')})
    done = cli.run(repo.path, "hook", "pre-push", stdin=f"refs/tags/v1 {head} refs/tags/v1 {ZERO}\n")
    assert done.returncode == 1
    assert "promote: pyproject.toml [tool.promote]: stage.production.match = 'v*': expected a list" \
           in done.stderr
