"""The verdict: colours, acceptance, and what counts against them."""

from __future__ import annotations

from types import MappingProxyType

import pytest

from pytest_promote.api import Finding, GateResult
from pytest_promote.policy.stage import Stage
from pytest_promote.runner.scorecard import GateOutcome, decide

STAGE = Stage("staging", "green", ("tests", "lint"), ("types",), (), MappingProxyType({}))
PASS = GateResult.passed("ok")
FAIL = GateResult.failed("bad")
ERROR = GateResult.error("tool missing")


@pytest.mark.parametrize(
    ("tests", "lint", "types", "colour"),
    [
        (PASS, PASS, PASS, "green"),
        (PASS, PASS, FAIL, "yellow"),
        (PASS, PASS, ERROR, "yellow"),
        (PASS, PASS, None, "yellow"),  # a deselected advisory gate never gives green
        (PASS, FAIL, PASS, "red"),
        (ERROR, PASS, PASS, "red"),
        (PASS, None, PASS, "red"),  # a required gate that did not run
    ],
)
def test_colour(tests, lint, types, colour) -> None:
    verdict = decide(
        STAGE,
        [
            GateOutcome("tests", "required", tests),
            GateOutcome("lint", "required", lint),
            GateOutcome("types", "advisory", types),
        ],
    )
    assert verdict.colour == colour
    assert verdict.accepted is (colour == "green")


def test_describe_names_the_reasons() -> None:
    verdict = decide(
        STAGE, [GateOutcome("tests", "required", PASS), GateOutcome("lint", "required", None)]
    )
    assert verdict.describe() == (
        "RED (required gate lint not run): not accepted, staging accepts green"
    )


def test_yellow_is_accepted_where_the_stage_accepts_yellow() -> None:
    dev = Stage("development", "yellow", ("tests",), ("lint",), (), MappingProxyType({}))
    verdict = decide(dev, [GateOutcome("tests", "required", PASS), GateOutcome("lint", "advisory", FAIL)])
    assert (verdict.colour, verdict.accepted) == ("yellow", True)


def test_a_result_names_a_misspelled_keyword() -> None:
    result = GateResult.failed("s", measured=1, threshold=2, findings=[Finding("m")])
    assert (result.status, result.measured, result.threshold, result.findings) == ("failed", 1, 2, (Finding("m"),))
    with pytest.raises(TypeError, match="unexpected keywords: measure"):
        GateResult.passed("s", measure=1)  # type: ignore[call-arg]
