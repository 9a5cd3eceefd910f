"""The whole suite or not accepted: a run that left tests out never passes as a whole one."""

from __future__ import annotations

import json

import pytest

from conftest import BASIC_POLICY

GOOD = """
import pytest

def test_one():
    pass

@pytest.mark.invariant
def test_invariant_holds():
    pass
"""
BAD = "def test_bad():\n    assert False\n"
FILES = {"test_good": GOOD, "test_x": BAD}

ALLOW_PARTIAL = BASIC_POLICY.replace(
    'advisory = ["invariants"]', 'advisory = ["invariants"]\ntests = { allow_partial = true }'
)


def report(pytester: pytest.Pytester) -> dict:
    """The JSON report the last run wrote."""
    return json.loads((pytester.path / "r.json").read_text(encoding="utf-8"))


def gate_of_tests(pytester: pytest.Pytester) -> dict:
    """The ``tests`` gate's entry of the last report."""
    return next(g for g in report(pytester)["gates"] if g["id"] == "tests")


@pytest.mark.parametrize(
    ("args", "means"),
    [
        (["-k", "not bad"], "-k 'not bad'"),
        (["--deselect", "test_x.py::test_bad"], "--deselect"),
        (["test_good.py"], "the arguments test_good.py"),
        (["test_good.py::test_one", "test_good.py::test_invariant_holds"], "the arguments"),
    ],
    ids=["-k", "--deselect", "a file", "node ids"],
)
@pytest.mark.parametrize("xdist", [[], ["-n", "2"]], ids=["serial", "xdist"])
def test_a_run_leaving_out_the_failing_test_is_red(project, args, means, xdist) -> None:
    pytester = project(**FILES)
    result = pytester.runpytest("--promote-to=development", "--promote-report=r.json",
                                *xdist, *args)
    assert result.ret == 1
    result.stdout.fnmatch_lines([f"partial 1 of 3 tests left out by {means}*"])
    gate = gate_of_tests(pytester)
    assert gate["status"] == "failed"
    assert "partial: 2 of 3 tests" in gate["measured"]
    assert report(pytester)["partial"]["ran"] == 2
    assert report(pytester)["partial"]["total"] == 3
    assert report(pytester)["accepted"] is False


def test_last_failed_leaves_out_what_broke_since(project) -> None:
    pytester = project(test_good=GOOD, test_x="def test_bad():\n    assert False\n")
    pytester.runpytest()  # records test_bad as the last failure
    pytester.makepyfile(test_x="def test_bad():\n    pass\n",
                        test_good=GOOD.replace("pass\n\n@", "assert False\n\n@"))

    result = pytester.runpytest("--promote-to=development", "--lf", "--promote-report=r.json")

    assert result.ret == 1
    # --lf also deselects the gates, which did not fail before: RED, and it says why.
    result.stdout.fnmatch_lines(["stage development: RED *(partial: 1 of 3 tests (left out by --lf))*"])


def test_the_whole_suite_named_on_the_command_line_is_whole(project) -> None:
    pytester = project(**{"test_good": GOOD})
    result = pytester.runpytest("--promote-to=development", "--promote-report=r.json", ".")
    assert result.ret == 0
    assert gate_of_tests(pytester)["status"] == "passed"
    assert report(pytester)["partial"] is None


def test_a_stage_may_allow_partial_runs_and_says_so_everywhere(project) -> None:
    pytester = project(ALLOW_PARTIAL, **FILES)
    result = pytester.runpytest(
        "--promote-to=development", "-k", "not bad", "--promote-report=r.json",
        "--promote-summary=s.md", "--junitxml=j.xml",
    )
    assert result.ret == 0  # the colour meets the stage: a local pre-check passes
    result.stdout.fnmatch_lines([
        "stage development: GREEN: not accepted (partial: 2 of 3 tests (left out by -k "
        "'not bad')), development accepts yellow",
    ])
    assert gate_of_tests(pytester)["status"] == "passed"
    assert report(pytester)["accepted"] is False
    assert report(pytester)["caveats"] == ["partial: 2 of 3 tests (left out by -k 'not bad')"]
    assert "partial: 2 of 3 tests" in (pytester.path / "s.md").read_text()
    assert 'name="promote.caveat" value="partial: 2 of 3 tests' in (
        pytester.path / "j.xml").read_text()


def test_a_later_stage_cannot_allow_what_an_earlier_forbids(project) -> None:
    policy = BASIC_POLICY.replace(
        'required = ["tests", "invariants"]\n\n[tool.promote.stage.production]',
        'required = ["tests", "invariants"]\ntests = { allow_partial = true }\n\n'
        "[tool.promote.stage.production]",
    )
    pytester = project(policy)
    result = pytester.runpytest("--promote-to=development")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["*stage.staging.tests.allow_partial = True: a later stage may only tighten*"]
    )


def test_skipped_and_xfailed_are_counted_and_capped(project) -> None:
    policy = BASIC_POLICY.replace(
        'advisory = ["invariants"]', 'advisory = ["invariants"]\ntests = { max_skipped = 0 }'
    )
    pytester = project(policy, test_good=GOOD + """
@pytest.mark.skip(reason="later")
def test_skipped():
    pass

@pytest.mark.xfail(reason="known")
def test_known():
    assert False
""")
    result = pytester.runpytest("--promote-to=development", "--promote-report=r.json")
    assert result.ret == 1
    gate = gate_of_tests(pytester)
    assert gate["measured"] == "2 passed, 0 failed, 1 skipped, 1 xfailed"
    assert gate["threshold"] == "all pass, >= 1, <= 0 skipped"
    result.stdout.fnmatch_lines(["skipped 1 skipped, at most 0 allowed"])


def test_gates_only_run_says_no_test_ran_and_fails_closed(project) -> None:
    policy = BASIC_POLICY.replace('required = ["tests"]', 'required = ["tests", "coverage"]')
    pytester = project(policy, **{"test_good": GOOD})
    result = pytester.runpytest("--promote-to=development", "-m", "promote",
                                "--promote-report=r.json")
    assert result.ret == 1
    gates = {g["id"]: g for g in report(pytester)["gates"]}
    assert gates["tests"]["status"] == gates["coverage"]["status"] == "error"
    assert gates["tests"]["summary"].startswith(
        "tests: this session ran no test: -m 'promote' left out all 2 tests;"
    )
    assert "--promote-only" not in gates["tests"]["summary"].split(";")[0]
    assert gates["coverage"]["summary"].startswith(
        "coverage: this session ran no test: -m 'promote' left out all 2 tests;"
    )
    assert "%" not in str(gates["coverage"]["measured"])


def test_promote_only_judges_the_junit_of_the_whole_suite_only(project) -> None:
    pytester = project(**FILES)
    # A promotion run leaves the manifest that names its tests beside the XML.
    pytester.runpytest("--promote-to=development", "-k", "not bad", "--junitxml=partial.xml")
    result = pytester.runpytest("--promote-to=development", "--promote-only",
                                "--promote-junit=partial.xml", "--promote-report=r.json")
    assert result.ret == 1
    assert "partial: 2 of 3 tests (left out by the JUnit XML partial.xml)" in (
        gate_of_tests(pytester)["measured"])


def test_a_partial_record_proves_nothing_to_the_ledger_or_verify(git_project, git) -> None:
    from pytest_promote.cli.main import main

    pytester = git_project(ALLOW_PARTIAL.replace("enforce_path = false", ""), **FILES)
    result = pytester.runpytest("--promote-to=development", "-k", "not bad",
                                "--promote-report=r.json", "-p", "no:cacheprovider")
    assert result.ret == 0
    note = git("notes", "--ref=refs/notes/promote", "show", "HEAD").splitlines()[-1]
    record = json.loads(note)
    assert record["accepted"] is False
    assert record["partial"] == {"ran": 2, "total": 3, "left_out_by": ["-k 'not bad'"]}
    assert main(["verify", str(pytester.path / "r.json"), "--root", str(pytester.path),
                 "--stage", "development"]) == 1

    result = pytester.runpytest("--promote-to=staging", "-p", "no:cacheprovider")
    result.stdout.fnmatch_lines(["*not-accepted development recorded GREEN (not accepted: "
                                 "partial: 2 of 3 tests*"])
