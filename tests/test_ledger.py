"""The ledger (git notes under refs/notes/promote) and the ``path`` gate that reads it."""

from __future__ import annotations

import json

from gitrepo import NO_CACHE, THREE_STAGES

from pytest_promote.ledger.records import REF, parse


def records(git, rev: str = "HEAD") -> list[dict]:
    return [json.loads(line) for line in git("notes", f"--ref={REF}", "show", rev).splitlines()]


def test_every_run_is_recorded_on_head(git_project, git) -> None:
    pytester = git_project(THREE_STAGES)
    result = pytester.runpytest("--promote-to=development", "--promote-report=r.json", *NO_CACHE)
    head = git("rev-parse", "HEAD")
    result.stdout.fnmatch_lines([f"ledger: recorded development GREEN on {head[:12]} ({REF}), unsigned"])
    (record,) = records(git)
    report = json.loads((pytester.path / "r.json").read_text())
    assert record["stage"] == "development"
    assert (record["colour"], record["accepted"]) == ("green", True)
    assert record["gates"] == {"tests": "passed"}
    assert record["digest"] == report["digest"]
    assert record["actor"] == "Tess Ter <tess@example.com>"
    assert record["tree"] == git("rev-parse", "HEAD^{tree}")


def test_dry_run_records_nothing_and_exits_0(git_project, git) -> None:
    pytester = git_project(THREE_STAGES)
    result = pytester.runpytest("--promote-to=staging", "--promote-dry-run", *NO_CACHE)
    assert result.ret == 0
    result.stdout.fnmatch_lines(["*RED (required gate path failed)*(dry run: exit status 0)",
                                 "ledger: dry run, nothing recorded"])
    assert git("notes", f"--ref={REF}", "list") == ""


def test_no_ledger_writes_no_note_and_keeps_the_exit_status(git_project, git) -> None:
    pytester = git_project(THREE_STAGES)
    green = pytester.runpytest("--promote-to=development", "--promote-no-ledger", *NO_CACHE)
    assert green.ret == 0
    green.stdout.fnmatch_lines([f"ledger: not recorded (--promote-no-ledger); nothing written to {REF}"])
    red = pytester.runpytest("--promote-to=staging", "--promote-no-ledger", *NO_CACHE)
    assert red.ret == 1  # unlike --promote-dry-run, a verdict the stage rejects still fails
    red.stdout.fnmatch_lines(["*RED (required gate path failed)*"])
    assert git("notes", f"--ref={REF}", "list") == ""


def test_production_without_staging_fails(git_project, git) -> None:
    pytester = git_project(THREE_STAGES)
    assert pytester.runpytest("--promote-to=development", *NO_CACHE).ret == 0
    result = pytester.runpytest("--promote-to=production", *NO_CACHE)
    assert result.ret == 1
    result.stdout.fnmatch_lines([
        "*path: HEAD * has no accepted staging record, required before production: "
        "promote to staging first*git fetch origin refs/notes/promote:refs/notes/promote*",
    ])
    # The failed attempt is recorded too.
    assert [(r["stage"], r["accepted"]) for r in records(git)] == [
        ("development", True), ("production", False)
    ]


def test_path_through_every_stage_and_the_same_tree_recommitted(git_project, git) -> None:
    pytester = git_project(THREE_STAGES)
    for stage in ("development", "staging"):
        assert pytester.runpytest(f"--promote-to={stage}", *NO_CACHE).ret == 0
    # A new commit with the identical tree (a rebase or a reworded merge) passes.
    git("commit", "-q", "--amend", "-m", "reworded, same files")
    result = pytester.runpytest("--promote-to=production", "-rA", *NO_CACHE)
    assert result.ret == 0
    result.stdout.fnmatch_lines(["*path*required*passed*measured staging accepted on *"])
    # Changed files: staging has not seen them.
    (pytester.path / "CHANGES.txt").write_text("more\n")
    git("add", "CHANGES.txt")
    git("commit", "-q", "-m", "change")
    assert pytester.runpytest("--promote-to=production", *NO_CACHE).ret == 1


def test_path_outside_git_fails_closed(project) -> None:
    pytester = project(THREE_STAGES)
    result = pytester.runpytest("--promote-to=staging", *NO_CACHE)
    assert result.ret == 1
    result.stdout.fnmatch_lines([
        "*path: cannot read the ledger: * is not a git repository with a commit*",
        "ledger: not recorded: not a git repository (or no commit yet)",
    ])


def test_path_can_be_switched_off(project) -> None:
    pytester = project(THREE_STAGES.replace("[tool.promote]\n", "[tool.promote]\nenforce_path = false\n"))
    listed = pytester.runpytest("--promote-to=production", "--collect-only", "-q", *NO_CACHE)
    assert "promote::tests" in listed.stdout.str()
    assert "promote::path" not in listed.stdout.str()


def test_parse_keeps_records_and_names_every_malformed_line() -> None:
    good = '{"stage": "staging", "colour": "green", "accepted": true, "time": "2025-06-02T09:14:03+00:00"}'
    text = "\n".join([
        good, "hello", "",
        good.replace('"2025-06-02T09:14:03+00:00"', "5"),
        good.replace("true", '"no"'),
        good.replace('"green"', '"red"'),
        good.replace('"stage"', '"stag"'),
        good.replace("}", ', "gates": {"tests": 1}}'),
        "[1, 2]",
    ])
    (record,), bad = parse("abc", text)
    assert (record.commit, record.stage, record.accepted) == ("abc", "staging", True)
    assert [m.problem for m in bad] == [
        "not JSON",
        "time = 5: expected an ISO 8601 time with its UTC offset",
        'accepted = "no": expected true or false',
        "accepted with colour red: no stage accepts red",
        "unknown field 'stag'",
        "gates = {\"tests\": 1}: expected a table of gate id -> status",
        "not a JSON object",
    ]


def _forge(git, commit: str, **fields: object) -> None:
    line = {"stage": "staging", "colour": "green", "accepted": True,
            "time": "2025-06-02T09:14:03+00:00", **fields}
    git("notes", f"--ref={REF}", "add", "-f", "-m", json.dumps(line), commit)


def test_malformed_entries_are_shown_by_status_and_ignored_by_the_path_gate(git_project, git) -> None:
    pytester = git_project(THREE_STAGES)
    head = git("rev-parse", "HEAD")
    _forge(git, head, time=5)
    result = pytester.runpytest("--promote-to=production", *NO_CACHE)
    assert result.ret == 1
    result.stdout.fnmatch_lines(["*path: HEAD * has no accepted staging record*"])
    assert "Traceback" not in result.stdout.str() + result.stderr.str()
    _forge(git, head, accepted="no")
    assert pytester.runpytest("--promote-to=production", *NO_CACHE).ret == 1
    status = pytester.runpytest("--promote-status", *NO_CACHE)
    assert status.ret == 0
    status.stdout.fnmatch_lines([
        f"malformed ledger entry on {head[:12]} (ignored): accepted = \"no\": expected true or false",
    ])
    listed = pytester.runpytest("--promote-status", "--promote-json", *NO_CACHE)
    data = json.loads(listed.stdout.str())
    assert [m["problem"] for m in data["malformed"]] == ['accepted = "no": expected true or false']
    assert data["stages"][1]["last_accepted"] is None


def test_path_gate_trusts_the_commits_real_tree_never_the_claimed_one(git_project, git) -> None:
    pytester = git_project(THREE_STAGES)
    target = git("rev-parse", "HEAD")
    claimed = git("rev-parse", "HEAD^{tree}")
    # An unrelated commit (other files) carries a staging record claiming HEAD's tree.
    git("checkout", "-q", "-b", "other")
    (pytester.path / "other.txt").write_text("other files\n")
    git("add", "other.txt")
    git("commit", "-q", "-m", "unrelated")
    _forge(git, git("rev-parse", "HEAD"), tree=claimed)
    git("checkout", "-q", "main")
    assert git("rev-parse", "HEAD") == target
    result = pytester.runpytest("--promote-to=production", *NO_CACHE)
    assert result.ret == 1
    result.stdout.fnmatch_lines(["*path: HEAD * has no accepted staging record*"])
    status = pytester.runpytest("--promote-status", *NO_CACHE)
    status.stdout.fnmatch_lines(["malformed ledger entry on * (ignored): claims tree *, but the commit's tree is *"])


def test_previous_stage_not_accepted_is_named(git_project) -> None:
    pytester = git_project(THREE_STAGES, test_app="def test_fails():\n    assert False\n")
    assert pytester.runpytest("--promote-to=development", *NO_CACHE).ret == 1
    result = pytester.runpytest("--promote-to=staging", *NO_CACHE)
    result.stdout.fnmatch_lines(["*development recorded RED (not accepted) at *"])


def test_xdist_records_once_from_the_controller(git_project, git) -> None:
    pytester = git_project(THREE_STAGES)
    result = pytester.runpytest_subprocess("--promote-to=development", "-n", "2", *NO_CACHE)
    assert result.ret == 0
    assert [r["stage"] for r in records(git)] == ["development"]
