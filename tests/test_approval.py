"""The approval gate: sign-offs recorded by the real command in a real git repository."""

from __future__ import annotations

import json

import pytest
from gitrepo import Repo, gate_summary

POLICY = """
[tool.promote]
stages = ["dev", "test", "prod"]
enforce_path = false  # the ledger's `path` gate is tested in test_ledger.py

[tool.promote.gates.approval]
reviewers = ["rita@example.com", "Sam Reviewer", "ada@example.com"]
{extra}

[tool.promote.stage.dev]
required = []

[tool.promote.stage.test]
required = ["approval"]

[tool.promote.stage.prod]
approval = {{ count = 2 }}
"""
PROMOTE = ("--promote-only", "-p", "no:cacheprovider")


@pytest.fixture
def repo(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> Repo:
    """A repository whose HEAD Ada Author (a reviewer herself) committed."""
    repo = Repo(pytester.path, monkeypatch)
    repo.commit("work", {"pyproject.toml": POLICY.format(extra=""), "app.py": "x = 1\n"})
    return repo


def approve(repo: Repo, *args: str) -> None:
    """Record an approval; the command must succeed."""
    done = repo.approve(*args)
    assert done.returncode == 0, done.stderr


def test_fails_naming_who_may_still_approve(pytester: pytest.Pytester, repo: Repo) -> None:
    result = pytester.runpytest("--promote-to=test", *PROMOTE)
    result.assert_outcomes(failed=2)
    # The author is a reviewer but is not offered: her approval would not count.
    result.stdout.fnmatch_lines([
        "approval: 0/1 approvals for test; 1 more needed from: rita@example.com, Sam Reviewer",
        "record one: pytest-promote approve --stage test "
        "(then git push origin refs/notes/promote-approvals)",
    ])


def test_a_reviewer_approval_passes(pytester: pytest.Pytester, repo: Repo) -> None:
    approve(repo, "--stage", "test", "--as", "Rita@Example.com", "--note", "checklist done")
    summary = gate_summary(pytester, "approval", "--promote-to=test", *PROMOTE)
    assert summary == "approval: 1/1 approvals for test (rita@example.com)"


def test_the_author_cannot_approve_alone(pytester: pytest.Pytester, repo: Repo) -> None:
    approve(repo, "--stage", "test")  # as git's user.email: the author
    result = pytester.runpytest("--promote-to=test", *PROMOTE)
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines([
        "approval: 0/1 approvals for test; *",
        "ignored approval by ada@example.com on *: authored the commit",
    ])


def test_non_reviewers_are_ignored_and_reported(pytester: pytest.Pytester, repo: Repo) -> None:
    approve(repo, "--stage", "test", "--as", "mallory@example.com")
    approve(repo, "--stage", "test", "--as", "rita@example.com")
    result = pytester.runpytest(
        "--promote-to=test", *PROMOTE, "--promote-report=promote-report.json"
    )
    result.assert_outcomes(passed=2)
    gate = json.loads((pytester.path / "promote-report.json").read_text())["gates"][0]
    assert [f["message"] for f in gate["findings"]] == [
        f"approval by mallory@example.com on {repo.git('rev-parse', 'HEAD')[:12]}: "
        "not a reviewer"
    ]


def test_a_later_stage_needs_more_and_its_own(pytester: pytest.Pytester, repo: Repo) -> None:
    approve(repo, "--stage", "test", "--as", "Sam Reviewer")
    approve(repo, "--stage", "prod", "--as", "rita@example.com")
    approve(repo, "--stage", "prod", "--as", "rita@example.com")  # twice counts once
    result = pytester.runpytest("--promote-to=prod", *PROMOTE)
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(
        ["approval: 1/2 approvals for prod; 1 more needed from: Sam Reviewer"]
    )
    approve(repo, "--stage", "prod", "--as", "Sam Reviewer <sam@example.com>")
    summary = gate_summary(pytester, "approval", "--promote-to=prod", *PROMOTE)
    assert summary == "approval: 2/2 approvals for prod (rita@example.com, Sam Reviewer)"


def test_a_new_commit_needs_new_approval_unless_the_tree_is_identical(
    pytester: pytest.Pytester, repo: Repo
) -> None:
    approve(repo, "--stage", "test", "--as", "rita@example.com")
    repo.git("commit", "-q", "--amend", "-m", "reworded, same files")
    assert "1/1 approvals" in gate_summary(pytester, "approval", "--promote-to=test", *PROMOTE)
    repo.commit("more work", {"app.py": "x = 2\n"})
    result = pytester.runpytest("--promote-to=test", *PROMOTE)
    result.stdout.fnmatch_lines(["approval: 0/1 approvals for test; *"])


def test_same_tree_can_be_turned_off(pytester: pytest.Pytester, repo: Repo) -> None:
    repo.commit("strict", {"pyproject.toml": POLICY.format(extra="same_tree = false")})
    approve(repo, "--stage", "test", "--as", "rita@example.com")
    repo.git("commit", "-q", "--amend", "-m", "reworded, same files")
    result = pytester.runpytest("--promote-to=test", *PROMOTE)
    result.stdout.fnmatch_lines(["approval: 0/1 approvals for test; *"])


def test_the_author_of_an_identical_tree_cannot_approve_it(
    pytester: pytest.Pytester, repo: Repo
) -> None:
    # Rita re-commits Ada's files and approves her own commit; then Ada amends it
    # back: the content is Rita's commit's, so Rita's approval must not count.
    repo.identity("Rita", "rita@example.com")
    repo.git("commit", "-q", "--amend", "--reset-author", "-m", "rita's copy")
    approve(repo, "--stage", "test")
    repo.identity("Ada Author", "ada@example.com")
    repo.git("commit", "-q", "--amend", "--reset-author", "-m", "ada's copy")
    result = pytester.runpytest("--promote-to=test", *PROMOTE)
    result.stdout.fnmatch_lines(
        ["*approval by rita@example.com on *: authored the commit"]
    )


def test_unreadable_notes_are_reported(pytester: pytest.Pytester, repo: Repo) -> None:
    repo.git("notes", "--ref=refs/notes/promote-approvals", "add", "-m", "not json", "HEAD")
    result = pytester.runpytest("--promote-to=test", *PROMOTE)
    result.stdout.fnmatch_lines(["unreadable unreadable approval on *: not json"])


@pytest.mark.parametrize(
    ("extra", "stage_prod", "message"),
    [
        ("count = 4", "", "*`count` = 4 approvals cannot come from 3 reviewers*"),
        ("count = 2", "", "*stage.prod.approval.count = 1: a later stage may only tighten*"),
    ],
)
def test_bad_policies_are_usage_errors(
    pytester: pytest.Pytester, extra: str, stage_prod: str, message: str
) -> None:
    policy = POLICY.format(extra=extra)
    if extra == "count = 2":
        policy = policy.replace("count = 2 }", "count = 1 }")
    pytester.makepyprojecttoml(policy)
    result = pytester.runpytest("--promote-to=prod", *PROMOTE)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([message])


def test_no_reviewers_is_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makepyprojecttoml(POLICY.format(extra="").replace(
        'reviewers = ["rita@example.com", "Sam Reviewer", "ada@example.com"]', ""
    ))
    result = pytester.runpytest("--promote-to=test", *PROMOTE)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*`reviewers` must list the names or emails that may approve*"])


def test_outside_git_is_an_error(pytester: pytest.Pytester) -> None:
    pytester.makepyprojecttoml(POLICY.format(extra=""))
    result = pytester.runpytest("--promote-to=test", *PROMOTE)
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(["*is not a git checkout with a commit"])
