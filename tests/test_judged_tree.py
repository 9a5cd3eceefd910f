"""The judged tree is the recorded tree; no environment knob changes a verdict unseen."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from gitrepo import NO_CACHE

from pytest_promote.cli.main import main

POLICY = """
[tool.promote]
stages = ["development", "staging"]

[tool.ruff.lint]
select = ["F"]

[tool.promote.stage.development]
required = ["tests", "lint"]
"""
CLEAN = "import os\n\nprint(os.sep)\n"
TESTS = {"test_app": "def test_ok():\n    pass\n", "app": "import os\n"}  # lint fails


def promote(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest("--promote-to=development", "--promote-report=r.json",
                              "--junitxml=j.xml", *NO_CACHE, *args)


def report(pytester: pytest.Pytester) -> dict:
    return json.loads((pytester.path / "r.json").read_text(encoding="utf-8"))


def records(git) -> list[dict]:
    return [json.loads(line) for line in git("notes", "--ref=refs/notes/promote", "show", "HEAD")
            .splitlines()]


def verify(path: Path, stage: str = "development") -> int:
    return main(["verify", str(path), "--root", str(path.parent), "--stage", stage])


def test_lint_failure_fixed_but_not_committed_is_never_accepted(
    git_project, git, capsys
) -> None:
    pytester = git_project(POLICY, **TESTS)  # HEAD fails `ruff check`
    (pytester.path / "app.py").write_text(CLEAN)  # fixed in the working tree only

    result = promote(pytester)

    result.stdout.fnmatch_lines([
        "promote: working tree dirty: 1 path differs from HEAD (app.py): judged, never accepted",
        "stage development: GREEN: not accepted (working tree dirty: 1 path differs from HEAD "
        "(app.py)), development accepts yellow",
    ])
    assert result.ret == 0  # a local pre-check sees its colour
    data = report(pytester)
    assert (data["colour"], data["accepted"], data["dirty"]) == ("green", False, ["app.py"])
    assert 'name="promote.caveat" value="working tree dirty' in (pytester.path / "j.xml").read_text()
    assert git("notes", "--ref=refs/notes/promote", "list") == ""  # a pre-check: no record
    result.stdout.fnmatch_lines(["ledger: not recorded: working tree dirty: 1 path differs from HEAD "
                                 "(app.py), so the run says nothing about *"])
    assert verify(pytester.path / "r.json") == 1
    assert "REJECTED: it judged something other than development's whole suite on the " \
           "committed tree (working tree dirty" in capsys.readouterr().err

    git("commit", "-qam", "fix lint")
    assert promote(pytester).ret == 0
    assert report(pytester)["accepted"] is True and report(pytester)["dirty"] == []
    assert verify(pytester.path / "r.json") == 0


def test_uncommitted_policy_and_untracked_files_make_the_tree_dirty(git_project, git) -> None:
    pytester = git_project(POLICY.replace('"lint"]', '"lint"]\nadvisory = []'),
                           test_app="def test_ok():\n    pass\n", app=CLEAN)
    pytester.makepyprojecttoml(POLICY)  # the policy itself changed, not committed
    assert report_of(promote(pytester), pytester)["dirty"] == ["pyproject.toml"]

    git("commit", "-qam", "policy")
    (pytester.path / "new_module.py").write_text(CLEAN)
    assert report_of(promote(pytester), pytester)["dirty"] == ["new_module.py"]

    with (pytester.path / ".gitignore").open("a", encoding="utf-8") as ignore:
        ignore.write("new_module.py\n")
    git("add", ".gitignore")
    git("commit", "-qm", "ignore it")
    assert report_of(promote(pytester), pytester)["accepted"] is True


def report_of(result: pytest.RunResult, pytester: pytest.Pytester) -> dict:
    assert result.ret == 0
    return report(pytester)


def test_local_pre_checks_on_a_dirty_tree_leave_no_records(git_project, git) -> None:
    pytester = git_project(POLICY, test_app="def test_ok():\n    pass\n", app=CLEAN)
    for attempt in range(3):
        (pytester.path / "app.py").write_text(CLEAN + f"# attempt {attempt}\n")
        assert promote(pytester).ret == 0
    assert git("notes", "--ref=refs/notes/promote", "list") == ""
    git("checkout", "app.py")
    promote(pytester).stdout.fnmatch_lines(["ledger: recorded development GREEN on *"])
    assert [r["accepted"] for r in records(git)] == [True]


def test_the_path_gate_never_counts_a_dirty_run(git_project, git, monkeypatch) -> None:
    policy = POLICY.replace('"staging"]', '"staging"]\n\n[tool.promote.stage.staging]\n'
                            'required = ["tests"]')
    pytester = git_project(policy, test_app="def test_ok():\n    pass\n", app=CLEAN)
    (pytester.path / "app.py").write_text(CLEAN + "# edited\n")
    monkeypatch.setenv("CI", "true")  # CI records every run: GREEN, not accepted
    promote(pytester)
    assert [(r["accepted"], r["dirty"]) for r in records(git)] == [(False, 1)]
    monkeypatch.delenv("CI")
    git("checkout", "app.py")
    result = pytester.runpytest("--promote-to=staging", *NO_CACHE)
    assert result.ret == 1
    result.stdout.fnmatch_lines([
        "*not-accepted development recorded GREEN (not accepted: working tree dirty*",
    ])


def test_a_moved_clock_is_stated_everywhere_and_never_accepted(
    git_project, git, monkeypatch
) -> None:
    pytester = git_project(POLICY, test_app="def test_ok():\n    pass\n", app=CLEAN)
    monkeypatch.setenv("PROMOTE_NOW", "2020-01-01T00:00:00+00:00")

    result = promote(pytester)

    result.stdout.fnmatch_lines([
        "promote: PROMOTE_NOW=2020-01-01T00:00:00+00:00 changes how this run judges: "
        "judged, never accepted",
    ])
    data = report(pytester)
    assert data["environment"] == {"PROMOTE_NOW": "2020-01-01T00:00:00+00:00"}
    assert data["accepted"] is False
    assert records(git)[-1]["environment"] == {"PROMOTE_NOW": "2020-01-01T00:00:00+00:00"}
    assert verify(pytester.path / "r.json") == 1


def test_a_moved_clock_is_refused_in_ci(project, monkeypatch) -> None:
    pytester = project()
    monkeypatch.setenv("PROMOTE_NOW", "2020-01-01T00:00:00+00:00")
    monkeypatch.setenv("CI", "true")
    result = pytester.runpytest("--promote-to=development")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*PROMOTE_NOW='2020-01-01T00:00:00+00:00' is set, and CI=true*"])


def test_the_clock_is_utc_where_the_readme_says_so(monkeypatch) -> None:
    from pytest_promote._util import clock

    # 00:30 in Berlin on the 2nd is still the 1st in UTC, the day overrides count in.
    monkeypatch.setenv("PROMOTE_NOW", "2025-07-02T00:30:00+02:00")
    assert clock.now().isoformat() == "2025-07-01T22:30:00+00:00"
