"""``python -m pytest_promote approve`` in a real repository."""

from __future__ import annotations

import json

import pytest
from gitrepo import Repo, approve

from pytest_promote.ledger.approvals import identities

REF = "--ref=refs/notes/promote-approvals"


@pytest.fixture
def repo(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> Repo:
    """One commit by Ada; the embedded default stages (no policy)."""
    repo = Repo(pytester.path, monkeypatch)
    repo.commit("work", {"app.py": "x = 1\n"})
    return repo


def notes(repo: Repo) -> list[dict[str, str]]:
    """The approval records on HEAD."""
    return [json.loads(line) for line in repo.git("notes", REF, "show", "HEAD").splitlines()]


def test_records_a_json_line_per_approval(repo: Repo) -> None:
    first = repo.approve("--stage", "staging", "--as", "rita@example.com", "--note", "QA ok")
    assert first.returncode == 0, first.stderr
    head = repo.git("rev-parse", "HEAD")
    assert first.stdout.splitlines() == [
        f"approved {head[:12]} for staging as rita@example.com, unsigned",
        "share it: git push origin refs/notes/promote-approvals",
    ]
    second = repo.approve("--stage", "production", "--as", "sam")
    assert second.returncode == 0, second.stderr
    records = notes(repo)
    assert [(r["stage"], r["who"], r["note"]) for r in records] == [
        ("staging", "rita@example.com", "QA ok"), ("production", "sam", ""),
    ]
    assert all(r["time"].endswith("+00:00") for r in records)
    # The commit itself is untouched: approving adds no commit to the branch.
    assert repo.git("rev-parse", "HEAD") == head


def test_the_approver_defaults_to_git_user_email(repo: Repo) -> None:
    repo.identity("Rita", "rita@example.com")
    done = repo.approve("--stage", "staging")
    assert done.returncode == 0, done.stderr
    assert notes(repo)[0]["who"] == "rita@example.com"


def test_then_user_name_then_the_ci_actor(repo: Repo, monkeypatch: pytest.MonkeyPatch) -> None:
    repo.git("config", "--unset", "user.email")
    assert repo.approve("--stage", "staging").returncode == 0
    repo.git("config", "--unset", "user.name")
    monkeypatch.setenv("GITHUB_ACTOR", "octocat")
    # With no git identity at all the note is still committed (as in a bare CI job).
    done = repo.approve("--stage", "staging")
    assert done.returncode == 0, done.stderr
    assert [r["who"] for r in notes(repo)] == ["Ada Author", "octocat"]


def test_no_identity_is_an_error(repo: Repo) -> None:
    repo.git("config", "--unset", "user.email")
    repo.git("config", "--unset", "user.name")
    done = repo.approve("--stage", "staging")
    assert done.returncode == 1
    assert "who approves? pass --as NAME or set git config user.email" in done.stderr


def test_the_author_is_told_it_does_not_count(repo: Repo) -> None:
    done = repo.approve("--stage", "staging")
    assert "note: you authored this commit; your approval does not count" in done.stdout


def test_uncommitted_changes_are_pointed_out(repo: Repo) -> None:
    repo.write({"app.py": "x = 2\n"})
    done = repo.approve("--stage", "staging", "--as", "rita")
    assert "note: uncommitted changes are not part of what you approved" in done.stdout


def test_the_stage_must_be_one_of_the_policy(repo: Repo, pytester: pytest.Pytester) -> None:
    done = repo.approve("--stage", "prodution", "--as", "rita")
    assert done.returncode == 1
    assert "--stage 'prodution' is not a stage of the policy; did you mean 'production'?" in (
        done.stderr
    )
    pytester.makepyprojecttoml('[tool.promote]\nstages = ["dev", "test", "main"]\n')
    assert repo.approve("--stage", "test", "--as", "rita").returncode == 0
    alt = pytester.path / "alt.toml"
    alt.write_text('stages = ["qa"]\n')
    assert repo.approve("--stage", "test", "--as", "rita", "--config", "alt.toml").returncode == 1
    assert repo.approve("--stage", "qa", "--as", "rita", "--config", "alt.toml").returncode == 0


def test_outside_git_is_an_error(pytester: pytest.Pytester) -> None:
    done = approve(pytester.path, "--stage", "staging", "--as", "rita")
    assert done.returncode == 1
    assert "not inside a git repository with a commit to approve" in done.stderr


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("Rita@Example.com", {"rita@example.com"}),
        ("Sam Reviewer <sam@example.com>", {"sam reviewer <sam@example.com>", "sam reviewer",
                                            "sam@example.com"}),
        ("  ", set()),
    ],
)
def test_identities(who: str, expected: set[str]) -> None:
    assert identities(who) == expected
