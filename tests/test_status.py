"""``pytest --promote-status [--promote-json]``: the ledger per stage, no tests run."""

from __future__ import annotations

import json

import pytest
from gitrepo import NO_CACHE, THREE_STAGES


def test_status_shows_rollback_target_last_failure_and_head(git_project, git) -> None:
    pytester = git_project(THREE_STAGES)
    assert pytester.runpytest("--promote-to=development", *NO_CACHE).ret == 0
    assert pytester.runpytest("--promote-to=staging", *NO_CACHE).ret == 0
    good = git("rev-parse", "HEAD")
    (pytester.path / "test_more.py").write_text("def test_broken():\n    assert False\n")
    git("add", "test_more.py")
    git("commit", "-q", "-m", "break it")
    head = git("rev-parse", "HEAD")
    assert pytester.runpytest("--promote-to=development", *NO_CACHE).ret == 1

    result = pytester.runpytest("--promote-status", *NO_CACHE)
    assert result.ret == 0
    assert "test_" not in result.stdout.str()  # no tests ran
    result.stdout.fnmatch_lines([
        f"promotion ledger (refs/notes/promote): HEAD {head[:12]} on main",
        "stage * last accepted (rollback target) * last failed * HEAD",
        f"development  {good[:12]} GREEN * {head[:12]} RED * failed",
        f"staging      {good[:12]} GREEN * -  * not recorded",
        "production   - * -  * not recorded",
    ])

    data = json.loads(pytester.runpytest("--promote-status", "--promote-json", *NO_CACHE).stdout.str())
    development, staging, production = data["stages"]
    assert data["head"] == head
    assert development["last_accepted"]["commit"] == good
    assert (development["last_failed"]["commit"], development["head"]) == (head, "failed")
    assert (staging["last_accepted"]["commit"], staging["head"]) == (good, "not recorded")
    assert production == {"component": None, "stage": "production", "signers": [], "last_accepted": None,
                          "last_failed": None, "head": "not recorded", "unchanged_since": None}
    assert development["last_accepted"]["signature"] == "unsigned"


def test_status_outside_git_is_a_usage_error(project) -> None:
    pytester = project(THREE_STAGES)
    result = pytester.runpytest("--promote-status", *NO_CACHE)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--promote-status: * is not a git repository*"])


def test_json_needs_status(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--promote-json", *NO_CACHE)
    result.stderr.fnmatch_lines(["*--promote-json needs --promote-status*"])
