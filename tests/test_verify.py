"""``python -m pytest_promote verify REPORT --stage STAGE [--commit SHA]``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pytest_promote.cli.main import main

POLICY = """
[tool.promote]
stages = ["development", "staging"]
enforce_path = false

[tool.promote.gates]
smoke = { command = ["true"] }

[tool.promote.stage.development]
required = ["tests", "smoke"]
"""

RUN = ("-p", "no:cacheprovider")


@pytest.fixture
def report(git_project) -> Path:
    """An accepted development report of HEAD, in a git repository."""
    pytester = git_project(POLICY)
    assert pytester.runpytest("--promote-to=development", "--promote-report=r.json", *RUN).ret == 0
    return pytester.path / "r.json"


def verify(path: Path, *args: str) -> int:
    return main(["verify", str(path), "--root", str(path.parent), *args])


def edit(path: Path, change) -> None:
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data, indent=2))


def test_accepted_report_verifies(report: Path, git, capsys) -> None:
    assert verify(report, "--stage", "development") == 0
    assert verify(report, "--stage", "development", "--commit", git("rev-parse", "HEAD")) == 0
    assert "OK: GREEN promotion of" in capsys.readouterr().out


def test_hand_edited_report_fails(report: Path, capsys) -> None:
    edit(report, lambda d: d["gates"][0].update(measured="999 passed, 0 failed"))
    assert verify(report, "--stage", "development") == 1
    assert "its digest does not match its content" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (("--stage", "staging"), "it is for stage 'development', not 'staging'"),
        (("--stage", "development", "--commit", "HEAD~0^{tree}"), "is not a commit"),
    ],
)
def test_wrong_stage_or_commit_fails(report: Path, capsys, args, reason) -> None:
    assert verify(report, *args) == 1
    assert reason in capsys.readouterr().err


def test_report_of_another_commit_fails(report: Path, git, capsys) -> None:
    git("commit", "-q", "--allow-empty", "-m", "later")
    assert verify(report, "--stage", "development") == 1
    assert "it is for commit" in capsys.readouterr().err


def test_policy_requiring_more_than_the_report_holds_fails(report: Path, capsys) -> None:
    pyproject = report.parent / "pyproject.toml"
    text = pyproject.read_text().replace('"tests", "smoke"', '"tests", "smoke", "ping"')
    pyproject.write_text(text.replace('smoke = {', 'ping = { command = ["true"] }\nsmoke = {'))
    assert verify(report, "--stage", "development") == 1
    reason = "it lacks gate 'ping', which the policy requires for development"
    assert reason in capsys.readouterr().err


def test_rejected_report_and_garbage_fail(git_project, capsys, tmp_path: Path) -> None:
    pytester = git_project(POLICY.replace('["true"]', '["false"]'))
    pytester.runpytest("--promote-to=development", "--promote-report=r.json", *RUN)
    assert verify(pytester.path / "r.json", "--stage", "development") == 1
    assert "it is not accepted: RED" in capsys.readouterr().err
    (pytester.path / "junk.json").write_text("{not json")
    assert verify(pytester.path / "junk.json", "--stage", "development") == 1
    assert "not JSON" in capsys.readouterr().err
    assert verify(pytester.path / "missing.json", "--stage", "development") == 1
    assert "cannot read it" in capsys.readouterr().err


def test_dry_run_report_fails(git_project, capsys) -> None:
    pytester = git_project(POLICY)
    pytester.runpytest(
        "--promote-to=development", "--promote-dry-run", "--promote-report=r.json", *RUN
    )
    assert verify(pytester.path / "r.json", "--stage", "development") == 1
    assert "dry run" in capsys.readouterr().err


def installed_plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, kinds: str) -> None:
    """An installed distribution whose pytest11 plugin ``name`` provides gate kinds ``kinds``."""
    (tmp_path / f"{name}.py").write_text(
        "from pytest_promote.gates.command import CommandGate\n\n"
        f"def pytest_promote_gate_kinds():\n    return {{name: CommandGate for name in {kinds}}}\n"
    )
    info = tmp_path / f"{name}-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(f"[pytest11]\n{name} = {name}\n")
    monkeypatch.syspath_prepend(str(tmp_path))


def test_verify_finds_installed_kinds_through_pluggy(tmp_path, monkeypatch) -> None:
    from pytest_promote.cli.verify import gate_kinds

    installed_plugin(tmp_path, monkeypatch, "smoky_plugin", '["smoke2"]')
    kinds = gate_kinds()
    assert kinds["smoke2"].__name__ == "CommandGate"
    assert "coverage" in kinds


def test_two_plugins_with_one_kind_name_are_an_error(tmp_path, monkeypatch) -> None:
    from pytest_promote.cli.verify import gate_kinds

    installed_plugin(tmp_path, monkeypatch, "clashing_plugin", '["lint"]')
    with pytest.raises(pytest.UsageError, match="'lint': provided by both clashing_plugin and promote-gates"):
        gate_kinds()
