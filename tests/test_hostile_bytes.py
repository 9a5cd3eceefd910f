"""Hostile bytes: undecodable notes, reports, bundles and baselines are kept and
reported, never a traceback; the run's own record is always written."""

from __future__ import annotations

import dataclasses
import json
import subprocess

import cli
import pytest
from gitrepo import NO_CACHE, THREE_STAGES
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

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


def test_status_reports_the_undecodable_line_and_counts_the_rest(git_project, git) -> None:
    pytester = git_project(THREE_STAGES)
    assert pytester.runpytest("--promote-to=development", *NO_CACHE).ret == 0
    note = raw_note(pytester.path)
    add_raw_note(pytester.path, BAD + note)
    result = pytester.runpytest("--promote-status", "--promote-json", *NO_CACHE)
    assert result.ret == 0, result.stderr.str()
    status = json.loads(result.stdout.str())
    (bad,) = status["malformed"]
    assert bad["problem"] == "byte 0xe9 at column 75 is not UTF-8"
    assert bad["line"].endswith('"time": "caf\\xe9"}')
    text = pytester.runpytest("--promote-status", *NO_CACHE)
    text.stdout.fnmatch_lines(["*malformed ledger entry on * (ignored): byte 0xe9 at column 75 is not UTF-8*"])
    assert "Traceback" not in text.stdout.str() + text.stderr.str()


def test_ledger_sync_carries_hostile_bytes_unchanged(git_project, git, tmp_path) -> None:
    pytester = git_project(THREE_STAGES)
    remote = tmp_path / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", str(remote)], check=True)
    git("remote", "add", "origin", str(remote))
    add_raw_note(pytester.path, BAD)
    assert pytester.runpytest("--promote-to=development", *NO_CACHE).ret == 0
    done = cli.run(pytester.path, "ledger", "sync")
    assert done.returncode == 0, done.stderr
    pushed = subprocess.run(["git", "notes", f"--ref={REF}", "show", git("rev-parse", "HEAD")],
                            cwd=remote, capture_output=True, check=True).stdout
    assert pushed == raw_note(pytester.path) and pushed.startswith(BAD)


# Every reader of a file the run or a user hands it, fed what a hostile or broken
# writer could leave: arbitrary bytes, a byte that is not UTF-8 inside a valid file,
# JSON whose values are replaced by anything (lone surrogates included). Each either
# reads it or refuses it with its own error, never another exception.

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8)
    | st.sampled_from(["\udce9", "\ud800", "x" * 3]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=6,
)


@st.composite
def hostile(draw, valid: bytes) -> bytes:
    """``valid`` (a good file) made hostile in one of three ways."""
    how = draw(st.sampled_from(["bytes", "byte", "value"]))
    if how == "bytes":
        return draw(st.binary(max_size=200))
    if how == "byte":
        at = draw(st.integers(0, len(valid)))
        return valid[:at] + bytes([draw(st.integers(0x80, 0xFF))]) + valid[at:]
    data = json.loads(valid)
    node, key = data, None
    while True:  # walk down to a random place and put anything there
        keys = list(node) if isinstance(node, dict) else list(range(len(node))) if isinstance(node, list) else []
        if not keys or (key is not None and draw(st.booleans())):
            break
        key = draw(st.sampled_from(keys))
        if not isinstance(node[key], (dict, list)) or draw(st.booleans()):
            node[key] = draw(json_values)
            break
        node = node[key]
    return json.dumps(data).encode()


def check_reader(valid: bytes, write, read, refusal: type[BaseException]) -> None:
    @settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
    @given(hostile(valid))
    def reads_or_refuses(data: bytes) -> None:
        write(data)
        try:
            read()
        except refusal as exc:
            assert str(exc)  # says why
    reads_or_refuses()


def test_the_baseline_reader_reads_or_refuses_any_bytes(tmp_path) -> None:
    from pytest_promote.gates import baseline

    entry = baseline.Entry(**{f.name: "x" for f in dataclasses.fields(baseline.Entry)})
    baseline.write(tmp_path, {"lint": [entry], "types": [entry]})
    path = tmp_path / baseline.BASELINE_FILE
    check_reader(path.read_bytes(), path.write_bytes, lambda: baseline.read(tmp_path), baseline.BaselineError)


def test_the_secrets_baseline_reader_reads_or_refuses_any_bytes(tmp_path) -> None:
    from pytest_promote.gates.secrets.scan import ScanError, read_baseline

    path = tmp_path / ".secrets.baseline"
    valid = {"version": "1.5.0", "results": {"a.py": [{"type": "Secret Keyword", "hashed_secret": "0" * 40,
                                                      "line_number": 1, "is_verified": False}]}}
    check_reader(json.dumps(valid).encode(), path.write_bytes, lambda: read_baseline(path), ScanError)


def test_the_bundle_reader_reads_or_refuses_any_bytes(tmp_path) -> None:
    from pytest_promote.runner.shard import bundle

    manifest = {
        "format": bundle.FORMAT, "version": bundle.VERSION, "stage": "development", "commit": None,
        "tree": None, "dirty": ["a.py"], "root": ".", "shard": {"index": 1, "total": 2, "by": "hash"},
        "selection": [], "collected": [{"id": "t.py::t", "markers": ["m"]}], "errors": [],
        "ran": [{"id": "t.py::t", "outcome": "passed", "duration": 0.1}], "coverage": None,
        "no_coverage": "not measured", "versions": {"pytest": "8"},
    }
    bundle._parse(tmp_path, manifest)  # the example is a valid bundle
    path = tmp_path / bundle.MANIFEST
    check_reader(json.dumps(manifest).encode(), path.write_bytes, lambda: bundle.read(tmp_path),
                 pytest.UsageError)


def test_the_report_verifier_reads_or_refuses_any_bytes(git_project, git) -> None:
    from pytest_promote.cli.verify import Rejected, check

    pytester = git_project(THREE_STAGES)
    assert pytester.runpytest("--promote-to=development", "--promote-report=r.json", *NO_CACHE).ret == 0
    path = pytester.path / "r.json"
    valid = path.read_bytes()
    check(path, "development", "HEAD", pytester.path, None)  # the example is accepted
    check_reader(valid, path.write_bytes, lambda: check(path, "development", "HEAD", pytester.path, None),
                 Rejected)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_a_note_of_any_bytes_parses_into_records_and_malformed_lines(data: bytes) -> None:
    from pytest_promote.ledger.records import parse

    text = data.decode("utf-8", "surrogateescape")
    found, bad = parse("c" * 40, text)
    assert len(found) + len(bad) == len([line for line in text.splitlines() if line.strip()])
    for line in bad:
        json.dumps(line.as_dict(), ensure_ascii=False).encode("utf-8")  # printable as it is shown
