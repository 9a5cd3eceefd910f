"""``python -m pytest_promote``: its version and the listing of its commands."""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys

import pytest

from pytest_promote.cli.main import COMMANDS

pytestmark = pytest.mark.supported_range


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest_promote", *args], capture_output=True, text=True, check=False
    )


def test_version_is_the_installed_distribution() -> None:
    done = cli("--version")

    assert done.returncode == 0
    assert done.stdout.strip() == f"pytest-promote {importlib.metadata.version('pytest-promote')}"


def test_help_says_what_each_command_does() -> None:
    done = cli("--help")

    assert done.returncode == 0
    listing = " ".join(done.stdout.split())  # argparse wraps the lines to the terminal
    for name, (summary, _, _) in COMMANDS.items():
        assert summary, f"command {name} has no one-line description"
        assert f"{name} {' '.join(summary.split())}" in listing


def test_each_command_help_starts_with_what_it_does() -> None:
    for name, (summary, _, _) in COMMANDS.items():
        done = cli(name, "--help")
        assert done.returncode == 0
        assert " ".join(summary.split()) in " ".join(done.stdout.split())


def test_no_command_is_a_usage_error() -> None:
    done = cli()

    assert done.returncode == 2
    assert "COMMAND" in done.stderr
