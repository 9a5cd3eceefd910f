"""GitHub Actions workflow commands for each finding of a failed gate (real ruff findings)."""

from __future__ import annotations

import pytest

from pytest_promote.api import Finding, GateResult
from pytest_promote.report.github import lines as github_lines
from pytest_promote.runner.scorecard import GateOutcome, Verdict

POLICY = """
[tool.ruff.lint]
select = ["F"]

[tool.promote.stage.development]
{mode} = ["lint"]
"""


@pytest.mark.parametrize(("mode", "level"), [("required", "error"), ("advisory", "warning")])
def test_ruff_findings_become_annotations(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, mode: str, level: str
) -> None:
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    pytester.makepyprojecttoml(POLICY.format(mode=mode))
    (pytester.path / "pkg").mkdir()
    (pytester.path / "pkg" / "m.py").write_text("import os, sys\n", encoding="utf-8")

    result = pytester.runpytest("--promote-to=development", "-p", "no:cacheprovider")

    result.stdout.fnmatch_lines(
        [
            f"::{level} file=pkg/m.py,line=1,col=8,title=promote lint::F401 `os` imported *",
            f"::{level} file=pkg/m.py,line=1,col=12,title=promote lint::F401 `sys` imported *",
        ]
    )


def verdict(*outcomes: GateOutcome) -> Verdict:
    """A verdict over ``outcomes`` (the colour does not matter here)."""
    return Verdict("staging", "green", "red", outcomes, ())


def lines(v: Verdict) -> list[str]:
    return github_lines(v, "report.json")


def test_values_are_escaped() -> None:
    finding = Finding("50% done\nsecond line", file="a,b:c.py", line=2, rule="X1")
    result = GateResult.failed("lint: bad", findings=[finding])

    (line,) = lines(verdict(GateOutcome("lint", "required", result)))

    expected = "::error file=a%2Cb%3Ac.py,line=2,title=promote lint::X1 50%25 done%0Asecond line"
    assert line == expected


def test_a_failure_without_findings_is_one_annotation() -> None:
    passed = GateOutcome("types", "required", GateResult.passed("types: fine"))
    errored = GateOutcome("lint", "advisory", GateResult.error("lint: ruff not found"))

    assert lines(verdict(passed, errored)) == ["::warning title=promote lint::lint: ruff not found"]


def test_findings_without_a_file_join_the_summary_in_one_annotation() -> None:
    summary = "path: HEAD 1a2b3c4d5e6f has no accepted development record, required before staging"
    finding = Finding("development recorded RED (not accepted) at 2025-06-03", rule="not-accepted")
    located = Finding("bad", file="src/a.py", line=3, rule="X1")
    outcome = GateOutcome("path", "required", GateResult.failed(summary, findings=[finding, located]))

    assert lines(verdict(outcome)) == [
        f"::error title=promote path::{summary}%0Adevelopment recorded RED (not accepted) at 2025-06-03",
        "::error file=src/a.py,line=3,title=promote path::X1 bad",
    ]


def test_ten_errors_and_ten_warnings_then_one_notice_of_the_rest() -> None:
    def failed(gate: str, count: int) -> GateResult:
        found = [Finding(f"{gate} {n}", file="m.py", line=n, rule="R") for n in range(1, count + 1)]
        return GateResult.failed(f"{gate}: {count}", findings=found)

    shown = lines(verdict(
        GateOutcome("types", "advisory", failed("types", 12)),
        GateOutcome("lint", "required", failed("lint", 25)),
    ))

    errors = [line for line in shown if line.startswith("::error ")]
    warnings = [line for line in shown if line.startswith("::warning ")]
    assert shown == [*errors, *warnings, shown[-1]]  # the required gate's errors come first
    assert [e.split("::")[-1] for e in errors] == [f"R lint {n}" for n in range(1, 11)]
    assert [w.split("::")[-1] for w in warnings] == [f"R types {n}" for n in range(1, 11)]
    assert shown[-1] == (
        "::notice title=promote::15 errors, 2 warnings more not annotated "
        "(GitHub shows 10 of each per step): see report.json"
    )


def test_no_notice_when_everything_is_annotated() -> None:
    result = GateResult.failed("lint: 10", findings=[Finding(str(n), file="m.py") for n in range(10)])

    assert len(lines(verdict(GateOutcome("lint", "required", result)))) == 10
