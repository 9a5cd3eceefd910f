"""The metrics gate on real JSON files: uptime exports and pytest-benchmark output."""

from __future__ import annotations

import json

import pytest

POLICY = """
[tool.promote]
stages = ["development", "production"]
enforce_path = false  # no git repository here: no ledger for the `path` gate

[tool.promote.gates.metrics.checks.uptime]
file = "reports/uptime.json"
path = "seven_day.percent"
min = 99.5

[tool.promote.gates.metrics.checks.parse-mean]
file = ".benchmarks/latest.json"
path = "benchmarks[name=test_parse].stats.mean"
max = 0.005

[tool.promote.stage.development]
required = ["metrics"]

[tool.promote.stage.production]
metrics = { checks = { uptime = { min = 99.9 } } }
"""

# The shape pytest-benchmark's --benchmark-json writes (trimmed to what matters).
BENCHMARK = {
    "machine_info": {"python_version": "3.11.9"},
    "benchmarks": [
        {"group": None, "name": "test_render", "stats": {"min": 0.001, "mean": 0.0042}},
        {"group": None, "name": "test_parse", "stats": {"min": 0.002, "mean": 0.0031}},
    ],
    "version": "4.0.0",
}


@pytest.fixture
def measured(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makepyprojecttoml(POLICY)
    (pytester.path / "reports").mkdir()
    (pytester.path / "reports/uptime.json").write_text(json.dumps({"seven_day": {"percent": 99.7}}))
    (pytester.path / ".benchmarks").mkdir()
    (pytester.path / ".benchmarks/latest.json").write_text(json.dumps(BENCHMARK))
    return pytester


def test_values_within_bounds_pass(measured: pytest.Pytester) -> None:
    result = measured.runpytest("--promote-to=development", "-rA")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["*metrics*required*passed*uptime 99.7, parse-mean 0.0031*"])


def test_a_later_stage_tightens_one_check(measured: pytest.Pytester) -> None:
    result = measured.runpytest("--promote-to=production")
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(
        [
            "*metrics: 1 of 2 metric(s) out of bounds for production*",
            "reports/uptime.json: threshold uptime: seven_day.percent = 99.7, required >= 99.9",
        ]
    )


def test_a_missing_file_is_an_error_not_a_pass(measured: pytest.Pytester) -> None:
    (measured.path / "reports/uptime.json").unlink()
    result = measured.runpytest("--promote-to=development")
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(
        [
            "*metrics: 1 of 2 metric(s) could not be read for development*",
            "reports/uptime.json: unreadable uptime: no such file: reports/uptime.json",
        ]
    )


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"seven_day": {}}, "uptime: seven_day.percent is missing"),
        ({"seven_day": {"percent": "99.9%"}}, 'uptime: seven_day.percent is "99.9%", not a number'),
        ({"seven_day": {"percent": True}}, "uptime: seven_day.percent is true, not a number"),
    ],
)
def test_a_missing_path_or_non_number_is_an_error(
    measured: pytest.Pytester, document: object, message: str
) -> None:
    (measured.path / "reports/uptime.json").write_text(json.dumps(document))
    result = measured.runpytest("--promote-to=development")
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(["*could not be read*", f"*unreadable {message}"])


def test_not_json_is_an_error(measured: pytest.Pytester) -> None:
    (measured.path / "reports/uptime.json").write_text("uptime: 99.9\n")
    result = measured.runpytest("--promote-to=development")
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(["*reports/uptime.json is not JSON*"])


def test_a_later_stage_cannot_loosen_a_check(pytester: pytest.Pytester) -> None:
    pytester.makepyprojecttoml(POLICY.replace("min = 99.9", "min = 99.0"))
    result = pytester.runpytest("--promote-to=development")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            "*stage.production.metrics.checks.uptime.min = 99.0: a later stage may only tighten: "
            "development has 99.5; use a value >= 99.5"
        ]
    )


@pytest.mark.parametrize(
    ("gates", "message"),
    [
        ("", "metrics needs `checks`*"),
        (
            '[tool.promote.gates.metrics.checks.x]\nfile = "a.json"\npath = "a"',
            "*the check on 'a' needs a `min`, a `max` or both",
        ),
        (
            '[tool.promote.gates.metrics.checks.x]\nfile = "a.json"\npath = "a..b"\nmin = 1',
            "*'a..b': a key is missing at 2",
        ),
        (
            '[tool.promote.gates.metrics.checks.x]\nfile = "a.json"\npath = "a"\nmin = 2\nmax = 1',
            "*min 2 > max 1",
        ),
    ],
)
def test_bad_checks_are_usage_errors(pytester: pytest.Pytester, gates: str, message: str) -> None:
    pytester.makepyprojecttoml(
        f'[tool.promote]\nstages = ["dev"]\n{gates}\n'
        '[tool.promote.stage.dev]\nrequired = ["metrics"]\n'
    )
    result = pytester.runpytest("--promote-to=dev")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"*: gates.metrics*{message}"])


def test_several_metrics_gates_by_kind(measured: pytest.Pytester) -> None:
    measured.makepyprojecttoml(
        POLICY.replace(
            "[tool.promote.gates.metrics.checks.parse-mean]",
            "[tool.promote.gates.perf]\n"
            'kind = "metrics"\n[tool.promote.gates.perf.checks.parse-mean]',
        )
        .replace('required = ["metrics"]', 'required = ["metrics"]\nadvisory = ["perf"]')
        .replace("max = 0.005", "max = 0.001")
    )
    result = measured.runpytest("--promote-to=development")
    result.assert_outcomes(passed=2, xfailed=1)
    result.stdout.fnmatch_lines(["*perf*advisory*failed*parse-mean 0.0031*"])
