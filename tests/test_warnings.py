"""Warnings never break a promotion or a command: projects that turn every warning into
an error (``filterwarnings = ["error"]``, ``-W error``) or switch pytest's warnings
plugin off run each command as any other project does, with pytest-promote installed
as a wheel installs it (marked for pytest's assertion rewriting)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from gitrepo import environ
from test_worktree import POLICY

BIN = Path(sys.executable).parent
#: Every warning an error; no `path` gate, so every stage can be promoted at once.
PROJECT = POLICY.replace('pythonpath = ["."]', 'pythonpath = ["."]\nfilterwarnings = ["error"]').replace(
    'paths = ["app"]', 'paths = ["app"]\nenforce_path = false')


def installed_as_a_wheel(where: Path) -> str:
    """A distribution whose files hold the ``pytest_promote`` package, as a wheel's
    record lists them (an editable install lists none): pytest marks such a plugin's
    packages for assertion rewriting when it starts."""
    info = where / "promote_as_wheel-1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: promote-as-wheel\nVersion: 1\n")
    (info / "RECORD").write_text("pytest_promote/__init__.py,,\npytest_promote/plugin.py,,\n")
    (info / "entry_points.txt").write_text("[pytest11]\npromote = pytest_promote.plugin\n")
    return str(where)


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """A committed project whose tests, gates and tools all pass, and the environment
    to run it in: every warning an error."""
    root = tmp_path_factory.mktemp("strict")
    (root / "pyproject.toml").write_text(PROJECT)
    (root / "app").mkdir()
    (root / "app" / "__init__.py").write_text("def add(a: int, b: int) -> int:\n    return a + b\n")
    (root / "test_app.py").write_text("from app import add\n\n\ndef test_add():\n    assert add(1, 2) == 3\n")
    (root / ".gitignore").write_text(".pytest_cache/\n__pycache__/\n.coverage\n*.json\n")
    env = environ(tmp_path_factory.mktemp("home"))
    env.update(PYTHONWARNINGS="error", PYTHONPATH=installed_as_a_wheel(tmp_path_factory.mktemp("site")))
    for args in (("init", "-q", "-b", "main"), ("add", "-A"), ("commit", "-q", "-m", "first")):
        subprocess.run(["git", *args], cwd=root, env=env, check=True)
    return root, env


def run(repo: tuple[Path, dict[str, str]], *command: str) -> subprocess.CompletedProcess[str]:
    """Run a console script of the environment in the project; it must not warn."""
    root, env = repo
    done = subprocess.run([str(BIN / command[0]), *command[1:]], cwd=root, env=env,
                          capture_output=True, text=True, check=False, timeout=300)
    output = done.stdout + done.stderr
    assert "Traceback" not in output and "Warning" not in output, output
    return done


@pytest.mark.parametrize("options", [(), ("-W", "error"), ("-p", "no:warnings")],
                         ids=["filterwarnings", "W-error", "no-warnings-plugin"])
def test_a_promotion_passes_when_every_warning_is_an_error(
    repo: tuple[Path, dict[str, str]], options: tuple[str, ...]
) -> None:
    done = run(repo, "pytest", "--promote-to=production", "--promote-no-ledger", *options)
    assert done.returncode == 0, done.stdout
    assert "stage production: GREEN: accepted" in done.stdout


def test_every_command_runs_when_every_warning_is_an_error(
    repo: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    root, env = repo
    key = tmp_path / "key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    remote = tmp_path / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", str(remote)], check=True)
    subprocess.run(["git", "remote", "add", "origin", str(remote)], cwd=root, env=env, check=True)

    baseline = run(repo, "pytest-promote", "baseline")
    assert baseline.returncode == 0, baseline.stderr
    assert json.loads((root / ".promote-baseline.json").read_text())["gates"] == {"lint": []}
    for args in (("add", "-f", ".promote-baseline.json"), ("commit", "-q", "-m", "baseline")):
        subprocess.run(["git", *args], cwd=root, env=env, check=True)
    assert run(repo, "pytest-promote", "approve", "--stage", "staging", "--as", "tess@example.com").returncode == 0
    promoted = run(repo, "pytest", "--promote-to=production", "--promote-report=r.json")
    assert promoted.returncode == 0, promoted.stdout
    assert run(repo, "pytest-promote", "verify", "r.json", "--stage", "production").returncode == 0
    signed = run(repo, "pytest-promote", "sign", "r.json", "--stage", "production", "--key", str(key))
    assert signed.returncode == 0, signed.stderr
    assert run(repo, "pytest-promote", "hook", "install", "--stage", "production").returncode == 0
    pushed = subprocess.run(["git", "push", "-q", "origin", "main"], cwd=root, env=env,
                            capture_output=True, text=True, check=False, timeout=300)
    assert pushed.returncode == 0 and "Warning" not in pushed.stderr, pushed.stderr
    assert "promote: stage production: GREEN: accepted, push goes ahead" in pushed.stderr
    synced = run(repo, "pytest-promote", "ledger", "sync")
    assert synced.returncode == 0, synced.stderr
    assert run(repo, "pytest", "--promote-status").returncode == 0
