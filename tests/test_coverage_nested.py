"""A promotion that a project's tests run in-process (a pytest plugin tested with
pytester, this repository's own suite) measures with a tracer stacked over the outer
promotion's. However that inner run ends, even before pytest configured it (a bad
argument, a rule between its options, a conftest that cannot be imported), its tracer
stops with it, and the outer promotion counts every line its tests run afterwards."""

from __future__ import annotations

import pytest
from test_coverage_config import report_gate

#: Each way an inner promotion can end: the arguments that end it that way, and a
#: conftest for its project (None: none).
ENDINGS: dict[str, tuple[tuple[str, ...], str | None]] = {
    "unknown_option": (("--no-such-option",), None),
    "options_in_conflict": (("--promote-status",), None),
    "unknown_plugin": (("-p", "no_such_plugin"), None),
    "conftest_not_importable": ((), "import no_such_module\n"),
    "bad_policy": (("--promote-policy=missing.toml",), None),
    "usage_error_in_a_test_run": (("--promote-to=nowhere",), None),
    "accepted": ((), None),
}

OUTER_POLICY = """
[tool.promote]
stages = ["staging"]
enforce_path = false

[tool.promote.stage.staging]
required = ["tests", "coverage"]
coverage = { min = 100 }

[tool.coverage.run]
source = ["calc"]

[tool.pytest.ini_options]
testpaths = ["tests"]
pythonpath = ["."]
"""

INNER_POLICY = """
[tool.promote]
stages = ["development"]
enforce_path = false

[tool.promote.stage.development]
required = ["tests"]
"""

TEST = '''
import pytest
import calc

pytest_plugins = ["pytester"]


@pytest.mark.parametrize("name", sorted(calc.ENDINGS))
def test_after_an_inner_promotion(pytester, name):
    args, conftest = calc.ENDINGS[name]
    pytester.makepyprojecttoml(INNER_POLICY)
    pytester.makepyfile(test_inner="def test_inner():\\n    pass\\n")
    if conftest is not None:
        pytester.makeconftest(conftest)
    pytester.runpytest("--promote-to=development", "--promote-no-ledger", "-p", "no:cacheprovider", *args)
    assert getattr(calc, name)() == name  # counted by the outer promotion only if it still measures
'''


def test_an_inner_promotion_leaves_no_tracer_over_the_outer_one(pytester: pytest.Pytester) -> None:
    """After each ending, the outer promotion still measures: every function called
    only after an inner run counts, so coverage is 100% and names no missed line."""
    functions = "".join(f"\n\ndef {name}():\n    return {name!r}\n" for name in ENDINGS)
    pytester.makepyprojecttoml(OUTER_POLICY)
    pytester.makepyfile(calc=f"ENDINGS = {ENDINGS!r}\n{functions}")
    tests = pytester.mkdir("tests")
    (tests / "test_nested.py").write_text(f"INNER_POLICY = {INNER_POLICY!r}\n{TEST}")
    result = pytester.runpytest_subprocess(
        "--promote-to=staging", "--promote-report=promote.json", "--promote-no-ledger",
        "-p", "no:cacheprovider", "-p", "no:randomly",
    )
    result.assert_outcomes(passed=len(ENDINGS) + 3)  # the tests; the tests, coverage and scorecard items
    gate = report_gate(pytester)
    assert gate["status"] == "passed", gate["summary"]
    assert gate["measured"] == "100%"
