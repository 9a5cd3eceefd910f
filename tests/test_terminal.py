"""What the terminal shows: one progress line that ends at 100%, counts that agree,
gate statuses coloured like pytest's outcomes, advisory findings in the short summary."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.supported_range

ADVISORY = """
[tool.promote]
stages = ["development", "staging"]
enforce_path = false

[tool.promote.gates.invariants]
count = 2

[tool.promote.stage.development]
required = ["tests"]
advisory = ["invariants"]

[tool.promote.stage.staging]
required = ["tests", "invariants"]
"""

PROGRESS = re.compile(r"\[\s*\d+%\]")


def progress_lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if PROGRESS.search(line)]


@pytest.mark.parametrize("args", [(), ("-n", "2")], ids=["serial", "xdist"])
def test_progress_ends_at_100_percent_once(project, args) -> None:
    pytester = project()
    result = pytester.runpytest("--promote-to=staging", "-p", "no:randomly", *args)
    lines = progress_lines(result.stdout.str())
    assert lines, result.stdout.str()
    assert all(len(PROGRESS.findall(line)) == 1 for line in lines), lines
    assert lines[-1].endswith("[100%]"), lines
    result.assert_outcomes(passed=5)


def test_collected_counts_the_gates_the_summary_counts(project) -> None:
    pytester = project()
    result = pytester.runpytest("--promote-to=staging")
    # 2 tests, the tests and invariants gates, the scorecard: 5, as the final line says.
    result.stdout.fnmatch_lines(["collected 5 items", "*= 5 passed*"])
    deselected = pytester.runpytest("--promote-to=staging", "--deselect", "promote::invariants")
    deselected.stdout.fnmatch_lines(["collected 5 items / 1 deselected / 4 selected"])
    assert "  invariants  required  not run\n" in deselected.stdout.str()  # no trailing blanks


def test_header_names_the_gate_items(project) -> None:
    result = project().runpytest("--promote-to=staging", "-n", "2")
    result.stdout.fnmatch_lines([
        "promote: 3 gate items run after the tests: tests, invariants, then the scorecard",
        "2 workers [[]2 items[]]",
    ])


GREEN, RED, YELLOW, RESET = "\x1b[32m", "\x1b[31m", "\x1b[33m", "\x1b[0m"

def test_gate_statuses_are_coloured_like_pytest_outcomes(project) -> None:
    pytester = project(ADVISORY)
    advisory = pytester.runpytest("--promote-to=development", "--color=yes").stdout.str()
    assert f"tests       required  {GREEN}passed    {RESET}" in advisory
    assert f"invariants  advisory  {YELLOW}failed    {RESET}" in advisory
    required = pytester.runpytest("--promote-to=staging", "--color=yes").stdout.str()
    assert f"invariants  required  {RED}failed    {RESET}" in required


def test_advisory_findings_are_listed_by_default_and_with_rx(project) -> None:
    pytester = project(ADVISORY)
    result = pytester.runpytest("--promote-to=development")
    result.stdout.fnmatch_lines([
        "  invariants  advisory  failed     measured 1/1, threshold >= 2, all pass",
        "    count 1 invariants exist, 2 required",
    ])
    rx = pytester.runpytest("--promote-to=development", "-rx")
    rx.stdout.fnmatch_lines([
        "XFAIL promote::invariants - *advisory: invariants: *",
        "count 1 invariants exist, 2 required",
    ])


def test_a_gate_that_measured_nothing_says_why(project) -> None:
    policy = ADVISORY.replace("enforce_path = false\n", "")
    result = project(policy).runpytest("--promote-to=staging", "-p", "no:cacheprovider")
    result.stdout.fnmatch_lines([
        "*`enforce_path = false` under [[]tool.promote[]] to drop the path gate*",
        "  path * required  error      measured no ledger (not a git repository), "
        "threshold development accepted",
    ])
    assert "None" not in result.stdout.str()
