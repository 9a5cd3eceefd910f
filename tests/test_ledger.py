"""The ledger (git notes under refs/notes/promote) and the ``path`` gate that reads it."""

from __future__ import annotations

import json

from gitrepo import NO_CACHE, THREE_STAGES

from pytest_promote.ledger import REF, parse


def records(git, rev: str = "HEAD") -> list[dict]:
    return [json.loads(line) for line in git("notes", f"--ref={REF}", "show", rev).splitlines()]


def test_every_run_is_recorded_on_head(git_project, git) -> None:
    pytester = git_project(THREE_STAGES)
    result = pytester.runpytest("--promote-to=development", "--promote-report=r.json", *NO_CACHE)
    head = git("rev-parse", "HEAD")
    result.stdout.fnmatch_lines([f"ledger: recorded development GREEN on {head[:12]} ({REF})"])
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


def test_parse_skips_lines_that_are_not_records() -> None:
    text = '{"stage": "staging", "colour": "green", "accepted": true, "time": "t"}\nhello\n\n'
    (record,) = parse("abc", text)
    assert (record.commit, record.stage, record.accepted) == ("abc", "staging", True)


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
