"""``python -m pytest_promote``: its version and the listing of its commands."""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys
from pathlib import Path

import cli
import pytest

from pytest_promote.cli.main import COMMANDS

pytestmark = pytest.mark.supported_range

#: The two ways a user starts the commands, each a process of its own.
STARTED_AS = {
    "python -m": [sys.executable, "-m", "pytest_promote"],
    "console script": [str(Path(sys.executable).with_name("pytest-promote"))],
}


@pytest.mark.parametrize("started_as", STARTED_AS)
def test_version_is_the_installed_distribution(started_as: str) -> None:
    done = subprocess.run([*STARTED_AS[started_as], "--version"], capture_output=True, text=True, check=False)

    assert done.returncode == 0
    assert done.stdout.strip() == f"pytest-promote {importlib.metadata.version('pytest-promote')}"


def test_help_says_what_each_command_does(tmp_path: Path) -> None:
    done = cli.run(tmp_path, "--help")

    assert done.returncode == 0
    listing = " ".join(done.stdout.split())  # argparse wraps the lines to the terminal
    for name, (summary, _, _) in COMMANDS.items():
        assert summary, f"command {name} has no one-line description"
        assert f"{name} {' '.join(summary.split())}" in listing


def test_each_command_help_starts_with_what_it_does(tmp_path: Path) -> None:
    for name, (summary, _, _) in COMMANDS.items():
        done = cli.run(tmp_path, name, "--help")
        assert done.returncode == 0
        assert " ".join(summary.split()) in " ".join(done.stdout.split())


def test_no_command_is_a_usage_error(tmp_path: Path) -> None:
    done = cli.run(tmp_path)

    assert done.returncode == 2
    assert "COMMAND" in done.stderr
