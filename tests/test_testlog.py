"""Test outcomes from a live session and from a JUnit XML of an earlier run."""

from __future__ import annotations

import pytest

from pytest_promote.runner.testlog import TestLog

pytestmark = pytest.mark.supported_range


def test_reads_junit_outcomes(pytester) -> None:
    pytester.makepyfile(
        test_x="""
        import pytest

        def test_ok(): pass
        def test_bad(): assert False
        @pytest.mark.skip
        def test_skipped(): pass
        @pytest.mark.xfail
        def test_known(): assert False
        @pytest.fixture
        def broken(): raise RuntimeError
        def test_error(broken): pass
        """
    )
    pytester.runpytest("--junitxml=r.xml")
    log = TestLog()
    log.read_junit(pytester.path / "r.xml")
    outcomes = {k.split("::")[-1]: v.outcome for k, v in log.outcomes.items()}
    assert outcomes == {
        "test_ok": "passed", "test_bad": "failed", "test_skipped": "skipped",
        "test_known": "xfailed", "test_error": "failed",
    }
    assert not log.has_markers
    assert log.count("passed") == 1 and len(log.failed()) == 2


def test_promote_only_ignores_the_earlier_runs_gate_items(pytester) -> None:
    """A failed gate in the earlier run's JUnit XML is not a failed test."""
    pytester.makepyprojecttoml(
        '[tool.ruff.lint]\nselect = ["F"]\n'
        '[tool.promote.stage.development]\nrequired = ["tests"]\nadvisory = ["lint"]\n'
    )
    pytester.makepyfile(app="import os\n", test_app="def test_ok():\n    pass\n")
    pytester.runpytest("--promote-to=development", "--junitxml=junit.xml", "-p", "no:cacheprovider")

    result = pytester.runpytest(
        "--promote-to=development", "--promote-only", "--promote-junit=junit.xml",
        "-p", "no:cacheprovider",
    )

    result.stdout.fnmatch_lines(["  tests *required*passed*measured 1 passed, 0 failed*"])
