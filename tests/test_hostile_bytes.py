"""Hostile bytes: undecodable notes, reports, bundles and baselines are kept and
reported, never a traceback; the run's own record is always written."""

from __future__ import annotations

import json
import subprocess

from gitrepo import NO_CACHE, THREE_STAGES

from pytest_promote.ledger.records import REF

BAD = b'{"stage": "development", "colour": "green", "accepted": true, "time": "caf\xe9"}\n'


def add_raw_note(path, data: bytes, rev: str = "HEAD") -> None:
    subprocess.run(["git", "notes", f"--ref={REF}", "add", "-f", "-F", "-", rev], cwd=path,
                   input=data, check=True, capture_output=True)


def raw_note(path, rev: str = "HEAD") -> bytes:
    return subprocess.run(["git", "notes", f"--ref={REF}", "show", rev], cwd=path,
                          capture_output=True, check=True).stdout


def test_a_non_utf8_byte_in_heads_note_is_kept_and_the_run_still_records(git_project, git) -> None:
    pytester = git_project(THREE_STAGES)
    add_raw_note(pytester.path, BAD)
    result = pytester.runpytest("--promote-to=development", *NO_CACHE)
    assert result.ret == 0, result.stdout.str()
    head = git("rev-parse", "HEAD")
    result.stdout.fnmatch_lines([f"ledger: recorded development GREEN on {head[:12]} ({REF}), unsigned"])
    assert "Traceback" not in result.stdout.str() + result.stderr.str()
    note = raw_note(pytester.path)
    assert note.startswith(BAD)  # the hostile line is kept byte for byte
    (mine,) = [json.loads(line) for line in note.splitlines()[1:]]
    assert mine["stage"] == "development"
