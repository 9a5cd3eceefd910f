"""Freeze windows and the ``freeze`` gate, with the clock set by ``PROMOTE_NOW``."""

from __future__ import annotations

import datetime
import tomllib

import pytest

from pytest_promote.policy.freeze import parse_windows

POLICY = """
[tool.promote]
stages = ["staging", "production"]
enforce_path = false

[tool.promote.stage.staging]
required = ["tests"]

[[tool.promote.freeze]]
name = "holidays"
reason = "year-end freeze"
stages = ["production"]
start = 2025-12-20
end = 2026-01-04

[[tool.promote.freeze]]
name = "weekend"
stages = ["production"]
days = ["fri"]
from = "16:00"
to = "08:00"
timezone = "Europe/Berlin"
"""

RUN = ("-p", "no:cacheprovider", "-rx")


def windows(text: str = POLICY):
    raw = tomllib.loads(text)["tool"]["promote"]["freeze"]
    return parse_windows(raw, "pyproject.toml", ["staging", "production"])


def at(text: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(text)


def test_dated_window_includes_its_end_day() -> None:
    holidays, _ = windows()
    end = at("2026-01-05T00:00:00+00:00")
    assert holidays.open_until(at("2025-12-20T00:00:00+00:00")) == end
    assert holidays.open_until(at("2026-01-04T23:59:00+00:00")) == end
    assert holidays.open_until(at("2026-01-05T00:00:00+00:00")) is None
    assert holidays.open_until(at("2025-12-19T23:59:00+00:00")) is None


def test_weekly_window_runs_past_midnight_in_its_time_zone() -> None:
    _, weekend = windows()
    # Friday 2025-06-06 16:00 in Berlin (CEST) is 14:00 UTC; it closes Saturday 08:00.
    assert weekend.open_until(at("2025-06-06T13:59:00+00:00")) is None
    closes = weekend.open_until(at("2025-06-06T14:00:00+00:00"))
    assert closes is not None and closes.isoformat() == "2025-06-07T08:00:00+02:00"
    assert weekend.open_until(at("2025-06-07T05:59:00+00:00")) == closes
    assert weekend.open_until(at("2025-06-07T06:00:00+00:00")) is None
    assert weekend.open_until(at("2025-06-05T20:00:00+00:00")) is None  # a Thursday


@pytest.mark.parametrize(
    ("entry", "problem"),
    [
        ('days = ["fry"]', "'fry': did you mean 'fri'?"),
        ('days = ["fri"]\ntimezone = "Mars/Olympus"', "not an IANA time zone"),
        ('from = "25:00"', 'expected a time "HH:MM"'),
        ('start = 2025-01-02\nend = 2025-01-01', "ends before it starts"),
        ('start = 2025-01-02', "needs both `start` and `end`"),
        ('days = ["fri"]\nstart = 2025-01-02\nend = 2025-01-03', "either weekly"),
        ('days = ["fri"]\nstages = ["prod"]', "'prod' is not a stage"),
        ('days = ["fri"]\nuntil = 1', "unknown key"),
    ],
)
def test_bad_windows_are_policy_errors(entry: str, problem: str) -> None:
    with pytest.raises(pytest.UsageError, match=problem.replace("(", r"\(").replace("?", r"\?")):
        windows(f"[tool.promote]\n[[tool.promote.freeze]]\n{entry}\n")


def test_freeze_gate_fails_while_open_and_passes_when_closed(project, monkeypatch) -> None:
    pytester = project(POLICY)
    monkeypatch.setenv("PROMOTE_NOW", "2025-12-24T10:00:00+00:00")
    result = pytester.runpytest("--promote-to=production", *RUN)
    assert result.ret == 1
    result.stdout.fnmatch_lines([
        "*freeze: production is frozen by 'holidays' until 2026-01-05 00:00 UTC: "
        "year-end freeze; only an override lifts it "
        "(clock set by PROMOTE_NOW=2025-12-24T10:00:00+00:00)",
    ])
    assert pytester.runpytest("--promote-to=staging", *RUN).ret == 0  # staging is not frozen

    monkeypatch.setenv("PROMOTE_NOW", "2026-01-07T10:00:00+00:00")  # a Wednesday
    result = pytester.runpytest("--promote-to=production", "-v", *RUN)
    assert result.ret == 0
    result.stdout.fnmatch_lines(["promote::freeze PASSED*"])


def test_only_an_override_lifts_a_freeze(project, monkeypatch) -> None:
    pytester = project(POLICY)
    monkeypatch.setenv("PROMOTE_NOW", "2025-06-06T15:00:00+00:00")  # Friday 17:00 in Berlin
    monkeypatch.setenv("GITHUB_ACTOR", "oncall")
    result = pytester.runpytest(
        "--promote-to=production", "--promote-override=freeze@2025-06-07:hotfix INC-9", *RUN
    )
    assert result.ret == 0
    result.stdout.fnmatch_lines([
        "XFAIL promote::freeze - *overridden by oncall until 2025-06-07: hotfix INC-9 | "
        "freeze: production is frozen by 'weekend' until 2025-06-07 08:00 CEST*",
    ])


def test_bad_clock_is_an_error(project, monkeypatch) -> None:
    pytester = project(POLICY)
    monkeypatch.setenv("PROMOTE_NOW", "next tuesday")
    result = pytester.runpytest("--promote-to=production", *RUN)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*PROMOTE_NOW='next tuesday': not an ISO 8601 date-time*"])


#: The holiday window moved far after any record a test makes, and no weekly one.
FAR = (
    POLICY[:POLICY.index('[[tool.promote.freeze]]\nname = "weekend"')]
    .replace('name = "holidays"', 'name = "far"').replace("year-end freeze", "a freeze long after the record")
    .replace("2025-12-20", "2099-01-01").replace("2026-01-04", "2099-01-10")
)


def test_verify_says_a_freeze_that_opened_after_the_record_is_open(git_project, monkeypatch, capsys) -> None:
    from pytest_promote.cli.main import main

    pytester = git_project(FAR)
    report = str(pytester.path / "r.json")
    assert pytester.runpytest("--promote-to=production", f"--promote-report={report}", *RUN).ret == 0
    verify = ["verify", report, "--stage", "production", "--root", str(pytester.path)]
    assert main(verify) == 0  # no window open at the real time
    monkeypatch.setenv("PROMOTE_NOW", "2099-01-05T12:00:00+00:00")  # the deploy, during the freeze
    capsys.readouterr()
    assert main(verify) == 1
    assert ("production is frozen by 'far' until 2099-01-11 00:00 UTC: a freeze long after the record "
            "(clock set by PROMOTE_NOW): the deploy is what a freeze forbids") in capsys.readouterr().err

    monkeypatch.delenv("PROMOTE_NOW")
    monkeypatch.setenv("GITHUB_ACTOR", "oncall")
    pytester.runpytest("--promote-to=production", f"--promote-report={report}",
                       "--promote-override=freeze@2099-01-20:hotfix INC-9", *RUN)
    monkeypatch.setenv("PROMOTE_NOW", "2099-01-05T12:00:00+00:00")
    assert main(verify) == 0  # break glass that has not expired lifts it
    monkeypatch.setenv("PROMOTE_NOW", "2099-01-25T12:00:00+00:00")
    assert main(verify) == 0  # the freeze is over

    monkeypatch.setenv("CI", "true")  # in CI the clock is never moved: refused, no traceback
    capsys.readouterr()
    assert main(verify) == 1
    assert "is set, and CI=true: a CI run judges by the real clock" in capsys.readouterr().err
