"""GitHub Actions workflow commands for each finding of a failed gate (real ruff findings)."""

from __future__ import annotations

import pytest

from pytest_promote.api import Finding, GateResult
from pytest_promote.report import github
from pytest_promote.runner.acceptance import Decision, ExitRule
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


def every_line(v: Verdict) -> list[str]:
    """The annotations of ``v``'s run, its decision first."""
    return github.lines(Decision(v, ExitRule("accepted", "CI=true")), "report.json")


def lines(v: Verdict) -> list[str]:
    """The annotations after the decision's."""
    decided, *rest = every_line(v)
    assert decided.startswith("::error title=promote scorecard::not accepted: RED")
    return rest


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

    shown = every_line(verdict(
        GateOutcome("types", "advisory", failed("types", 12)),
        GateOutcome("lint", "required", failed("lint", 25)),
    ))

    errors = [line for line in shown if line.startswith("::error ")]
    warnings = [line for line in shown if line.startswith("::warning ")]
    assert shown == [*errors, *warnings, shown[-1]]  # the decision, then the required gate's errors
    assert errors[0].startswith("::error title=promote scorecard::not accepted")
    assert [e.split("::")[-1] for e in errors[1:]] == [f"R lint {n}" for n in range(1, 10)]
    assert [w.split("::")[-1] for w in warnings] == [f"R types {n}" for n in range(1, 11)]
    assert shown[-1] == (
        "::notice title=promote::16 errors, 2 warnings more not annotated "
        "(GitHub shows 10 of each per step): see report.json"
    )


def test_no_notice_when_everything_is_annotated() -> None:
    result = GateResult.failed("lint: 9", findings=[Finding(str(n), file="m.py") for n in range(9)])

    assert len(every_line(verdict(GateOutcome("lint", "required", result)))) == 10


@pytest.mark.parametrize(
    ("colour", "caveats", "rule", "expected"),
    [
        ("green", (), "accepted", "::notice title=promote scorecard::accepted: GREEN, staging accepts green"),
        ("green", ("partial: 1 of 2 tests",), "accepted",
         "::error title=promote scorecard::not accepted: partial: 1 of 2 tests"),
        ("green", ("partial: 1 of 2 tests",), "colour",
         "::warning title=promote scorecard::not accepted: partial: 1 of 2 tests"),
        ("yellow", (), "colour",
         "::error title=promote scorecard::not accepted: YELLOW, staging accepts green"),
    ],
)
def test_the_decision_is_the_first_annotation(colour, caveats, rule, expected) -> None:
    v = Verdict("staging", "green", colour, (), (), caveats)
    assert github.lines(Decision(v, ExitRule(rule, "test")), "report.json")[0] == expected
