"""Break glass: overrides from the command line and the policy, in every output."""

from __future__ import annotations

import datetime
import json
import xml.etree.ElementTree as ET

import pytest

from pytest_promote.policy.overrides import parse_option

POLICY = """
[tool.promote]
stages = ["staging", "production"]
enforce_path = false

[tool.promote.gates]
smoke = { command = ["false"] }
ping = { command = ["true"] }

[tool.promote.stage.staging]
required = ["tests", "smoke", "ping"]
"""

RUN = ("-p", "no:cacheprovider", "-rx")


@pytest.fixture
def actor(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("GITHUB_ACTOR", "octocat")
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    return "octocat"


def test_override_xfails_the_gate_and_the_verdict_says_so(project, actor) -> None:
    pytester = project(POLICY)
    result = pytester.runpytest(
        "--promote-to=staging", "--promote-override=smoke:smoke env down, INC-42",
        "--promote-report=r.json", "--promote-summary=s.md", "--junitxml=j.xml", *RUN,
    )
    result.assert_outcomes(passed=5, xfailed=1)
    assert result.ret == 0
    result.stdout.fnmatch_lines([
        "promote: override smoke by octocat: smoke env down, INC-42",
        "*stage staging: GREEN with 1 override: accepted, staging accepts yellow",
        "*smoke*required*overridden*",
        "override smoke (failed) by octocat: smoke env down, INC-42",
        "XFAIL promote::smoke - *overridden by octocat: smoke env down, INC-42 | "
        "smoke: `false` exited 1*",
    ])
    report = json.loads((pytester.path / "r.json").read_text())
    assert (report["colour"], report["verdict"], report["overridden"]) == (
        "green", "GREEN with 1 override", 1
    )
    smoke = next(g for g in report["gates"] if g["id"] == "smoke")
    assert (smoke["status"], smoke["overridden"]) == ("failed", True)
    assert report["overrides"] == [{
        "gate": "smoke", "by": "octocat", "reason": "smoke env down, INC-42", "until": None,
        "stage": None, "origin": "--promote-override", "signed_by": None, "used": True,
    }]
    markdown = (pytester.path / "s.md").read_text()
    assert "## Promotion to staging: GREEN with 1 override" in markdown
    assert "| smoke | yes | octocat |  | smoke env down, INC-42 |" in markdown
    junit = ET.parse(pytester.path / "j.xml")
    props = {p.get("name"): p.get("value") for p in junit.iter("property")}
    assert props["promote.verdict"] == "GREEN with 1 override"
    assert props["promote.overrides"] == "1"
    assert props["promote.smoke.override.by"] == "octocat"
    assert props["promote.smoke.override.reason"] == "smoke env down, INC-42"


def test_overridden_gate_annotates_as_a_warning(project, actor, monkeypatch) -> None:
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    pytester = project(POLICY)
    result = pytester.runpytest("--promote-to=staging", "--promote-override=smoke:down", *RUN)
    result.stdout.fnmatch_lines(["::warning title=promote smoke::smoke*exited 1*"])
    assert "::error" not in result.stdout.str()


def test_unused_override_is_reported(project, actor) -> None:
    pytester = project(POLICY)
    result = pytester.runpytest(
        "--promote-to=staging", "--promote-override=smoke:env down",
        "--promote-override=ping:just in case", "--promote-report=r.json", *RUN,
    )
    result.stdout.fnmatch_lines(
        ["unused override ping (the gate did not fail) by octocat: just in case"]
    )
    report = json.loads((pytester.path / "r.json").read_text())
    used = [(o["gate"], o["used"]) for o in report["overrides"]]
    assert used == [("smoke", True), ("ping", False)]
    assert report["overridden"] == 1


def test_expired_override_in_the_policy_is_an_error(project) -> None:
    yesterday = datetime.date.today() - datetime.timedelta(days=1)
    pytester = project(POLICY + f"""
[[tool.promote.override]]
gate = "smoke"
reason = "flaky smoke host"
by = "alice"
until = {yesterday.isoformat()}
""")
    result = pytester.runpytest("--promote-to=staging", *RUN)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([
        f"*override[[]0[]].gate = 'smoke': override expired on {yesterday.isoformat()}"
        " (by alice until *: flaky smoke host)*"
    ])


def test_committed_override_applies_until_its_date(project) -> None:
    tomorrow = datetime.date.today() + datetime.timedelta(days=1)
    pytester = project(POLICY + f"""
[[tool.promote.override]]
gate = "smoke"
reason = "flaky smoke host"
by = "alice"
stage = "staging"
until = {tomorrow.isoformat()}
""")
    result = pytester.runpytest("--promote-to=staging", *RUN)
    result.stdout.fnmatch_lines(
        [f"XFAIL promote::smoke - *overridden by alice until {tomorrow}: flaky*"]
    )
    assert result.ret == 0


@pytest.mark.parametrize(
    ("extra", "option", "problem"),
    [
        ("[tool.promote.gates.tests]\noverridable = false\n", "tests:x",
         "gate tests forbids overrides*"),
        ('[tool.promote.stage.production]\noverridable = false\n', "smoke@2999-01-01:x",
         "stage production forbids overrides (overridable = false)"),
        ("", "smoke:x", "an override at production needs an expiry date*"),
        ("", "nope:x", "not a gate of stage production*"),
    ],
)
def test_forbidden_overrides_are_errors(project, actor, extra, option, problem) -> None:
    pytester = project(POLICY.replace("[tool.promote.gates]", extra + "[tool.promote.gates]", 1)
                       if extra.startswith("[tool.promote.gates.") else POLICY + extra)
    result = pytester.runpytest("--promote-to=production", f"--promote-override={option}", *RUN)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"*--promote-override*{problem}*"])


def test_production_override_with_until_unblocks(project, actor) -> None:
    pytester = project(POLICY)
    result = pytester.runpytest(
        "--promote-to=production", "--promote-override=smoke@2999-12-31:INC-7 hotfix", *RUN
    )
    result.stdout.fnmatch_lines(["*production: GREEN with 1 override: accepted*"])
    assert result.ret == 0


def test_a_later_stage_cannot_allow_overrides_again(project) -> None:
    pytester = project(POLICY.replace(
        'required = ["tests", "smoke", "ping"]',
        'required = ["tests", "smoke", "ping"]\noverridable = false\n'
        "[tool.promote.stage.production]\noverridable = true",
    ))
    result = pytester.runpytest("--promote-to=staging", *RUN)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*stage.production.overridable = True: loosens staging*"])


def test_option_syntax() -> None:
    override = parse_option("coverage@2025-07-01:hotfix: INC-42", "bob")
    assert (override.gate, override.until, override.reason, override.by) == (
        "coverage", datetime.date(2025, 7, 1), "hotfix: INC-42", "bob"
    )
    with pytest.raises(pytest.UsageError, match=r"expected e\.g\. --promote-override="):
        parse_option("coverage", "bob")
    with pytest.raises(pytest.UsageError, match="cannot tell who overrides"):
        parse_option("coverage:why", None)
    with pytest.raises(pytest.UsageError, match="expected a date"):
        parse_option("coverage@soon:why", "bob")


def test_override_needs_promote_to(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--promote-override=smoke:x")
    result.stderr.fnmatch_lines(["*--promote-override needs --promote-to=STAGE*"])
