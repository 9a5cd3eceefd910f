"""End to end: gate items, selection, outcomes and exit status, as users run them."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.supported_range


def test_inert_without_promote_to(project) -> None:
    pytester = project()
    result = pytester.runpytest("-v")
    result.assert_outcomes(passed=2)
    assert "promote::" not in result.stdout.str()
    assert "promotion" not in result.stdout.str()


def test_gates_run_after_tests_and_pass(project) -> None:
    pytester = project()
    result = pytester.runpytest("--promote-to=staging", "-v")
    result.assert_outcomes(passed=5)
    result.stdout.fnmatch_lines(
        [
            "*promote: stage staging (policy: pyproject.toml [[]tool.promote[]], sha256:*)",
            "*test_works PASSED*",
            "*test_invariant_holds PASSED*",
            "promote::tests PASSED*",
            "promote::invariants PASSED*",
            "promote::scorecard PASSED*",
            "*= promotion =*",
            "stage staging: GREEN: accepted, staging accepts green",
        ]
    )
    assert result.ret == 0


def test_collect_only_lists_the_plan(project) -> None:
    pytester = project()
    result = pytester.runpytest("--promote-to=production", "--collect-only", "-q")
    result.stdout.fnmatch_lines(
        ["*test_works", "*test_invariant_holds", "promote::tests",
         "promote::invariants", "promote::scorecard"]
    )
    assert "= promotion =" not in result.stdout.str()


def test_marker_selects_gates_only_and_verdict_needs_them_all(project) -> None:
    pytester = project()
    # -m promote: gates only, but the tests gate then has no tests to judge.
    result = pytester.runpytest("--promote-to=staging", "-m", "promote", "-v")
    result.stdout.fnmatch_lines(["promote::tests FAILED*", "promote::scorecard FAILED*"])
    assert "test_works" not in result.stdout.str()
    assert result.ret == 1


def test_deselected_required_gate_makes_red(project) -> None:
    pytester = project()
    result = pytester.runpytest("--promote-to=staging", "--deselect", "promote::invariants")
    result.stdout.fnmatch_lines(
        ["*RED (required gate invariants not run): not accepted, staging accepts green*"]
    )
    result.assert_outcomes(passed=3, failed=1)
    assert result.ret == 1


def test_deselected_scorecard_still_fails_the_run(project) -> None:
    pytester = project()
    result = pytester.runpytest("--promote-to=staging", "-k", "not invariant")
    # -k "not invariant" drops the invariant test (so the tests gate judges a partial
    # run and fails) and the invariants gate.
    result.assert_outcomes(passed=1, failed=2)
    result.stdout.fnmatch_lines(
        ["*RED (required gate tests failed; required gate invariants not run)*not accepted*"]
    )
    assert result.ret == 1


def test_scorecard_deselected_red_verdict_sets_exit_status(project) -> None:
    pytester = project()
    result = pytester.runpytest(
        "--promote-to=staging", "--deselect", "promote::scorecard",
        "--deselect", "promote::invariants",
    )
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines(["*RED (required gate invariants not run)*"])
    assert result.ret == 1


def test_failing_test_fails_tests_gate_and_scorecard(project) -> None:
    pytester = project(test_app="""
        def test_broken():
            assert False
    """)
    result = pytester.runpytest("--promote-to=staging")
    result.stdout.fnmatch_lines(
        [
            "*_ promote::tests _*",
            "tests: 0 passed, 1 failed; all must pass, >= 1, for staging",
            "test_app.py: failed test_app.py::test_broken",
            "min 0 passed, at least 1 required",
        ]
    )
    assert result.ret == 1


def test_advisory_failure_is_xfailed_and_yellow_accepted_in_development(project) -> None:
    pytester = project(test_app="""
        def test_works():
            pass
    """)
    result = pytester.runpytest("--promote-to=development", "-rx")
    result.assert_outcomes(passed=3, xfailed=1)
    result.stdout.fnmatch_lines(
        [
            "stage development: YELLOW (advisory gate invariants failed): accepted, development accepts yellow",
            "XFAIL promote::invariants - *advisory: invariants: 0/1 passed (1 required for development)",
        ]
    )
    assert result.ret == 0


def test_interrupted_run_is_red(project) -> None:
    pytester = project(test_app="""
        def test_a():
            assert False

        def test_b():
            pass
    """)
    result = pytester.runpytest("--promote-to=development", "-x")
    result.stdout.fnmatch_lines(["*RED (required gate tests not run*"])
    assert result.ret == 1


def test_promote_only_runs_gates_without_tests(project) -> None:
    pytester = project()
    result = pytester.runpytest("--promote-to=staging", "--promote-only", "-v")
    assert "test_works" not in result.stdout.str()
    result.stdout.fnmatch_lines(
        ["*promote::tests FAILED*", "*pass --promote-junit=PATH*"]
    )
    assert result.ret == 1


def test_promote_only_reads_junit_of_earlier_run(project) -> None:
    pytester = project(
        policy="""
        [tool.promote]
        stages = ["ci"]
        [tool.promote.stage.ci]
        required = ["tests"]
        """
    )
    # A promotion run leaves beside its JUnit XML the manifest naming its tests.
    first = pytester.runpytest("--promote-to=ci", "--junitxml=results.xml")
    assert first.ret == 0
    result = pytester.runpytest("--promote-to=ci", "--promote-only", "--promote-junit=results.xml")
    # Outside git no result can be shown to be of a commit: judged, never accepted.
    result.assert_outcomes(passed=1, xfailed=1)
    result.stdout.fnmatch_lines(["*tests*required*passed*measured 2 passed, 0 failed*"])


def test_unknown_stage_is_usage_error(project) -> None:
    pytester = project()
    result = pytester.runpytest("--promote-to=prodution")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--promote-to: STAGE = 'prodution': not a stage of*did you mean 'production'?*"])


def test_promote_only_without_promote_to_is_usage_error(project) -> None:
    pytester = project()
    result = pytester.runpytest("--promote-only")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--promote-only needs --promote-to=STAGE*"])


def test_dry_run_exits_zero_but_reports_red(project) -> None:
    pytester = project(test_app="""
        def test_broken():
            assert False
    """)
    result = pytester.runpytest("--promote-to=staging", "--promote-dry-run")
    result.stdout.fnmatch_lines(["*RED*not accepted*(dry run: exit status 0)*"])
    assert result.ret == 0


def test_plugin_can_be_disabled(project) -> None:
    pytester = project()
    result = pytester.runpytest("-p", "no:promote", "--promote-to=staging")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*unrecognized arguments: --promote-to=staging*"])


def test_promote_only_ignores_test_files_named_on_the_command_line(project) -> None:
    pytester = project()
    result = pytester.runpytest("--promote-to=staging", "--promote-only", "test_app.py", "-v")
    assert "test_works" not in result.stdout.str()
    result.stdout.fnmatch_lines(["*promote::tests FAILED*"])


def test_a_non_posix_system_is_a_usage_error_at_start_up(project, monkeypatch) -> None:
    from pytest_promote import plugin

    pytester = project()
    monkeypatch.setattr(plugin, "posix", lambda: False)
    result = pytester.runpytest("--promote-to=development")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--promote-to: pytest-promote runs on POSIX systems only*"])
    # Without --promote-to the plugin stays out of the way, on any system.
    assert pytester.runpytest().ret == 0
