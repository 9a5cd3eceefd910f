"""Without --promote-to the plugin adds nothing: no items, no output, no imports."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.supported_range


def test_nothing_heavy_imported_without_promote_to(pytester) -> None:
    pytester.makeconftest(
        """
        import sys

        def pytest_sessionfinish(session):
            loaded = sorted(m for m in sys.modules if m.startswith("pytest_promote"))
            print("\\nLOADED", ",".join(loaded))
            heavy = [m for m in ("coverage", "detect_secrets", "cyclonedx", "tomllib") if m in sys.modules]
            print("HEAVY", ",".join(heavy) or "none")
        """
    )
    pytester.makepyfile(test_a="def test_a():\n    pass\n")
    result = pytester.runpytest_subprocess("-s", "-p", "no:cov", "-p", "no:hypothesispytest")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        ["*LOADED pytest_promote,pytest_promote.hookspecs,pytest_promote.plugin", "HEAVY none"]
    )


def test_no_items_without_promote_to(pytester) -> None:
    pytester.makepyfile(test_a="def test_a():\n    pass\n")
    result = pytester.runpytest("--collect-only", "-q")
    assert "promote::" not in result.stdout.str()
