"""A write that fails (a full disk, a read-only directory, git refusing) fails the run
non-zero with the reason, never exit 0 and never a traceback."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from gitrepo import NO_CACHE, THREE_STAGES

from pytest_promote.ledger.records import REF

#: Fill the tiny filesystem to its last byte, then run the promotion on it.
FILL_AND_RUN = """
set -e
mount -t tmpfs -o size=2m tmpfs "$FULL"
cp -a "$PROJECT/." "$FULL/"
dd if=/dev/zero of="$FULL/.git/filler" bs=4k 2>/dev/null || true
dd if=/dev/zero of="$FULL/.git/filler2" bs=1 2>/dev/null || true
cd "$FULL"
exec "$PYTHON" -m pytest --promote-to=development -p no:cacheprovider "$@"
"""


def _namespaces() -> bool:
    """Whether this user may mount a filesystem of its own (a user and mount namespace)."""
    if shutil.which("unshare") is None:
        return False
    done = subprocess.run(["unshare", "--user", "--map-root-user", "--mount", "true"],
                          capture_output=True, check=False)
    return done.returncode == 0


def on_a_full_disk(project: Path, tmp_path: Path, *args: str) -> tuple[int, str]:
    """``pytest --promote-to=development args`` in a copy of ``project`` on a tiny
    filesystem with no byte left: its exit status and output."""
    full = tmp_path / "full"
    full.mkdir()
    env = {**os.environ, "FULL": str(full), "PROJECT": str(project), "PYTHON": sys.executable,
           "PYTHONDONTWRITEBYTECODE": "1"}
    done = subprocess.run(
        ["unshare", "--user", "--map-root-user", "--mount", "sh", "-c", FILL_AND_RUN, "sh", *args],
        env=env, capture_output=True, text=True, check=False, timeout=300,
    )
    return done.returncode, done.stdout + done.stderr


needs_namespaces = pytest.mark.skipif(
    not sys.platform.startswith("linux") or not _namespaces(),
    reason="needs a user and mount namespace to make a full filesystem",
)


@needs_namespaces
def test_a_full_disk_fails_the_run_with_the_reason(git_project, tmp_path: Path) -> None:
    pytester = git_project(THREE_STAGES)
    code, out = on_a_full_disk(pytester.path, tmp_path, "--promote-report=report.json")
    assert code == pytest.ExitCode.USAGE_ERROR, out
    assert "Traceback" not in out
    assert "No space left on device" in out
    assert "ERROR: --promote-report = 'report.json': cannot be written (No space left on device)" in out
    assert "ERROR: ledger: NOT recorded: on " in out
    assert f"the verdict above holds no record in {REF}" in out


@needs_namespaces
def test_a_shard_bundle_on_a_full_disk_fails_the_run_with_the_reason(git_project, tmp_path: Path) -> None:
    pytester = git_project(THREE_STAGES.replace('["tests"]', '["tests", "coverage"]'))
    code, out = on_a_full_disk(pytester.path, tmp_path, "--promote-shard=shards/1")
    assert code == pytest.ExitCode.USAGE_ERROR, out
    assert "Traceback" not in out
    assert "shard bundle NOT written to " in out
    assert "shard bundle NOT written to shards/1: No space left on device" in out


#: git commands that write what the run leaves behind (a deletion of a private ref
#: is cleanup: a later writer drops what it left).
GIT_WRITES = ("add", "update-ref", "hash-object", "commit-tree", "mktree")
FULL = "fatal: unable to write new index file: No space left on device"


class Injector:
    """Counts the run's writes (files written atomically, appended step summaries,
    git commands that write) and fails the one numbered ``fail_at``: an OSError for a
    file, git exiting 128 with a full disk's message for git."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, fail_at: int | None = None) -> None:
        self.fail_at = fail_at
        self.writes: list[str] = []
        run, fsync = subprocess.run, os.fsync
        from pytest_promote.report import outputs

        append = outputs._append

        def fake_run(argv, *args, **kwargs):
            written = argv and argv[0] == "git" and self._is_write(argv)
            if written and self._fails(f"git {' '.join(argv[1:4])}"):
                return subprocess.CompletedProcess(argv, 128, "", FULL + "\n")
            return run(argv, *args, **kwargs)

        def fake_fsync(fd):
            if self._fails(f"file {os.readlink(f'/proc/self/fd/{fd}')}"):
                raise OSError(28, "No space left on device")
            return fsync(fd)

        def fake_append(path, text):
            if self._fails(f"append {path}"):
                raise OSError(28, "No space left on device")
            return append(path, text)

        monkeypatch.setattr(subprocess, "run", fake_run)
        monkeypatch.setattr(os, "fsync", fake_fsync)
        monkeypatch.setattr(outputs, "_append", fake_append)

    @staticmethod
    def _is_write(argv) -> bool:
        return any(a in GIT_WRITES for a in argv[1:4]) and "-d" not in argv

    def _fails(self, what: str) -> bool:
        self.writes.append(what)
        return len(self.writes) - 1 == self.fail_at


def test_any_write_that_fails_fails_the_run_with_the_reason(git_project, monkeypatch) -> None:
    """Every write of a run in turn fails: the run exits 4 naming the output and the
    reason, never 0, never with a traceback; with no failure it exits 0."""
    pytester = git_project(THREE_STAGES)
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(pytester.path / "step-summary.md"))
    args = ("--promote-to=development", "--promote-report=r.json", "--promote-summary=s.md",
            "--promote-sarif=r.sarif", *NO_CACHE)
    with pytest.MonkeyPatch.context() as patch:
        clean = Injector(patch)
        assert pytester.runpytest(*args).ret == 0
    kinds = {w.split()[0] for w in clean.writes}
    assert kinds == {"git", "file", "append"}, clean.writes
    for at, what in enumerate(clean.writes):
        with pytest.MonkeyPatch.context() as patch:
            Injector(patch, fail_at=at)
            result = pytester.runpytest(*args)
        out = result.stdout.str() + result.stderr.str()
        assert result.ret == pytest.ExitCode.USAGE_ERROR, f"{what} failed, yet:\n{out}"
        assert "No space left on device" in out, what
        assert "Traceback" not in out and "INTERNALERROR" not in out, out
