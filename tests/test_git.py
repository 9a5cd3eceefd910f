"""The git helpers against a real repository."""

from __future__ import annotations

import pytest
from gitrepo import Repo

from pytest_promote._util import git


@pytest.fixture
def repo(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> Repo:
    """main with one commit, and a branch ``feature`` one commit ahead."""
    repo = Repo(pytester.path, monkeypatch)
    repo.commit("base", {"a.txt": "a\n", "sub/b.txt": "b\n"})
    repo.git("checkout", "-q", "-b", "feature")
    return repo


def test_resolve_and_merge_base(repo: Repo) -> None:
    base = repo.git("rev-parse", "main")
    repo.commit("feature work", {"c.txt": ""})
    repo.git("checkout", "-q", "main")
    repo.commit("main moves on", {"d.txt": ""})
    repo.git("checkout", "-q", "feature")
    assert git.resolve(repo.path, "main") == repo.git("rev-parse", "main")
    assert git.resolve(repo.path, "no-such-branch") is None
    assert git.resolve(repo.path, "--help") is None  # never read as an option
    assert git.merge_base(repo.path, "main") == base


def test_changed_files_count_both_sides_of_a_rename(repo: Repo) -> None:
    base = repo.git("rev-parse", "HEAD")
    repo.git("mv", "a.txt", "sub/renamed.txt")
    repo.commit("move and add", {"new file.txt": ""})
    assert git.changed_files(repo.path, base) == ["a.txt", "new file.txt", "sub/renamed.txt"]
    # Relative to a subdirectory: only what is below it, named from there.
    assert git.changed_files(repo.path / "sub", base) == ["renamed.txt"]
    assert git.changed_files(repo.path, "no-such-ref") is None


def test_commits_reads_identities_and_trees(repo: Repo) -> None:
    first = repo.git("rev-parse", "HEAD")
    repo.identity("Rita", "rita@example.com")
    repo.git("commit", "-q", "--amend", "--reset-author", "-m", "same files")
    second = repo.git("rev-parse", "HEAD")
    found = git.commits(repo.path, [second, first])
    assert [(c.sha, c.author_name, c.author_email) for c in found] == [
        (second, "Rita", "rita@example.com"), (first, "Ada Author", "ada@example.com"),
    ]
    assert found[0].tree == found[1].tree
    assert git.commits(repo.path, []) == []


def test_notes_append_one_line_per_record(repo: Repo) -> None:
    head = repo.git("rev-parse", "HEAD")
    git.add_note(repo.path, "refs/notes/test", head, '{"n": 1}')
    git.add_note(repo.path, "refs/notes/test", head, '{"n": 2}')
    assert git.note(repo.path, "refs/notes/test", head) == '{"n": 1}\n{"n": 2}'
    assert git.noted_commits(repo.path, "refs/notes/test") == [head]
    with pytest.raises(RuntimeError, match="git notes"):
        git.add_note(repo.path, "refs/notes/test", "no-such-ref", "x")
