"""No ledger record lost: concurrent writers on one clone, and clones sharing one remote."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import cli
import pytest
from gitrepo import Repo, run_git

from pytest_promote._util import git
from pytest_promote.ledger.records import REF, Record, now, write

#: Appends COUNT records tagged TAG to HEAD's note through the ledger's own writer.
WRITER = """
import datetime, sys
from pathlib import Path
from pytest_promote._util import git
from pytest_promote.ledger.records import Record, write
root, count, tag = Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
head = git.head(root)
for i in range(count):
    now = datetime.datetime.now(datetime.UTC).isoformat(timespec="microseconds")
    write(root, Record(head, tag, "green", True, now, headline=f"{tag} {i}"))
"""


def writers(root: Path, tags: list[str], count: int) -> None:
    """Run one writer process per tag, all at once; each must succeed."""
    procs = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(root), str(count), tag],
                         stderr=subprocess.PIPE, text=True)
        for tag in tags
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err


def stages(root: Path, rev: str = "HEAD") -> list[str]:
    text = run_git(root, "notes", f"--ref={REF}", "show", rev)
    return sorted(json.loads(line)["stage"] for line in text.splitlines())


def sync(root: Path) -> subprocess.Popen[str]:
    """``python -m pytest_promote ledger sync`` in ``root``, started as a process of its
    own: two clones' CI jobs sync at once."""
    return subprocess.Popen(
        [sys.executable, "-m", "pytest_promote", "ledger", "sync"], cwd=root,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def test_concurrent_writers_on_one_clone_lose_no_record(tmp_path, monkeypatch) -> None:
    repo = Repo(tmp_path, monkeypatch)
    repo.commit("first")
    tags = [f"w{n}" for n in range(6)]
    writers(tmp_path, tags, 5)
    assert stages(tmp_path) == sorted(tag for tag in tags for _ in range(5))
    # No private ref is left behind.
    assert run_git(tmp_path, "for-each-ref", "refs/notes/").splitlines()[0].endswith(REF)
    assert len(run_git(tmp_path, "for-each-ref", "refs/notes/").splitlines()) == 1


@pytest.fixture
def clones(tmp_path, monkeypatch) -> tuple[Path, Path, Path]:
    """A bare repository with one commit and two clones of it."""
    (tmp_path / "seed").mkdir()
    seed = Repo(tmp_path / "seed", monkeypatch)
    seed.commit("first")
    bare = tmp_path / "remote.git"
    run_git(tmp_path, "clone", "-q", "--bare", str(tmp_path / "seed"), str(bare))
    made = []
    for name in ("a", "b"):
        run_git(tmp_path, "clone", "-q", str(bare), name)
        for key, value in (("user.name", name), ("user.email", f"{name}@example.com")):
            run_git(tmp_path / name, "config", key, value)
        made.append(tmp_path / name)
    return bare, made[0], made[1]


def test_two_clones_pushing_to_one_remote_at_once_lose_no_record(clones) -> None:
    bare, a, b = clones
    for _ in range(3):
        writers(a, ["a"], 2)
        writers(b, ["b"], 2)
        procs = [sync(a), sync(b)]
        for proc in procs:
            out, err = proc.communicate(timeout=180)
            assert proc.returncode == 0, err
            assert f"{REF}: shared with origin" in out
    assert stages(bare, "main") == ["a"] * 6 + ["b"] * 6
    # Syncing again changes nothing and keeps each record once (a union, not a sum).
    for clone in (a, b):
        assert cli.run(clone, "ledger", "sync").returncode == 0
    assert stages(bare, "main") == stages(a) == stages(b) == ["a"] * 6 + ["b"] * 6


def test_sync_with_nothing_anywhere_says_so_and_a_bad_remote_fails(clones) -> None:
    _, a, _ = clones
    done = cli.run(a, "ledger", "sync")
    assert done.returncode == 0
    assert f"nothing to share: neither this clone nor origin has {REF}" in done.stdout
    done = cli.run(a, "ledger", "sync", "--remote", "nowhere")
    assert done.returncode == 1
    assert f"ledger sync: git fetch nowhere {REF} failed:" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_clone_behind_merges_the_remotes_records_and_a_rejected_push_is_redone(clones) -> None:
    bare, a, b = clones
    for clone, tag in ((a, "a"), (b, "b")):
        head = git.head(clone)
        assert head is not None
        write(clone, Record(head, tag, "green", True, now(), headline=f"{tag} 0"))
    assert cli.run(a, "ledger", "sync").returncode == 0
    # The remote turns the next push away once, as when another job pushed first.
    hook = bare / "hooks" / "pre-receive"
    hook.write_text('#!/bin/sh\n[ -e turned-away ] && exit 0\ntouch turned-away\necho busy >&2\nexit 1\n')
    hook.chmod(0o755)

    done = cli.run(b, "ledger", "sync")
    assert done.returncode == 0, done.stderr
    assert "ledger sync: push rejected (" in done.stderr and "; merging again" in done.stderr
    assert f"{REF}: shared with origin" in done.stdout
    assert cli.run(a, "ledger", "sync").returncode == 0
    assert stages(bare, "main") == stages(a) == stages(b) == ["a", "b"]
