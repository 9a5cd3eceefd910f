"""SARIF 2.1.0 and GitLab Code Quality reports of real findings, and the step summary."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from pytest_promote.api import Finding, GateResult
from pytest_promote.report import codequality, markdown, sarif
from pytest_promote.report.issues import issues
from pytest_promote.runner.scorecard import GateOutcome, Verdict

#: The OASIS SARIF 2.1.0 schema (errata 01), as published in oasis-tcs/sarif-spec.
SCHEMA = json.loads((Path(__file__).parent / "data" / "sarif-schema-2.1.0.json").read_text())

POLICY = """
[tool.ruff.lint]
select = ["F"]

[tool.promote]
stages = ["staging"]

[tool.promote.stage.staging]
required = ["lint"]
advisory = ["invariants"]
"""


def valid_sarif(text: str) -> dict[str, Any]:
    log = json.loads(text)
    jsonschema.validators.validator_for(SCHEMA)(SCHEMA).validate(log)
    return log


def run_with_outputs(pytester: pytest.Pytester) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    result = pytester.runpytest(
        "--promote-to=staging", "--promote-sarif=out/promote.sarif",
        "--promote-codequality=out/codequality.json", "-p", "no:cacheprovider",
    )
    assert result.ret == 1
    log = valid_sarif((pytester.path / "out" / "promote.sarif").read_text())
    quality = json.loads((pytester.path / "out" / "codequality.json").read_text())
    return log, quality


def test_findings_as_sarif_and_code_quality(pytester: pytest.Pytester) -> None:
    pytester.makepyprojecttoml(POLICY)
    (pytester.path / "pkg").mkdir()
    (pytester.path / "pkg" / "m.py").write_text("import os\nimport os\n", encoding="utf-8")

    log, quality = run_with_outputs(pytester)

    (run,) = log["runs"]
    assert log["version"] == "2.1.0"
    assert run["tool"]["driver"]["name"] == "pytest-promote"
    found = [
        (r["ruleId"], r["level"], r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
         r["locations"][0]["physicalLocation"]["region"]["startLine"])
        for r in run["results"]
    ]
    assert found == [
        ("lint/F811", "error", "pkg/m.py", 2),
        ("lint/F401", "error", "pkg/m.py", 2),
        ("invariants", "warning", "pyproject.toml", 1),  # no finding: the gate's summary
    ]
    assert run["results"][-1]["message"]["text"].startswith("invariants (error): ")
    prints = [r["partialFingerprints"][sarif.FINGERPRINT] for r in run["results"]]
    assert len(set(prints)) == 3

    decided, *quality = quality  # first, the run's decision: RED fails it anywhere
    assert (decided["check_name"], decided["severity"], decided["location"]) == (
        "scorecard", "blocker", {"path": "pyproject.toml", "lines": {"begin": 1}})
    assert decided["description"] == (
        "not accepted: RED (required gate lint failed; advisory gate invariants error), "
        "staging accepts yellow")
    assert [q["fingerprint"] for q in quality] == prints
    assert [(q["check_name"], q["severity"], q["location"]) for q in quality] == [
        ("lint/F811", "major", {"path": "pkg/m.py", "lines": {"begin": 2}}),
        ("lint/F401", "major", {"path": "pkg/m.py", "lines": {"begin": 2}}),
        ("invariants", "minor", {"path": "pyproject.toml", "lines": {"begin": 1}}),
    ]
    assert all(q["description"] for q in quality)


def test_fingerprints_survive_moved_lines(pytester: pytest.Pytester) -> None:
    pytester.makepyprojecttoml(POLICY)
    source = pytester.path / "m.py"
    source.write_text("import os\n", encoding="utf-8")
    before, _ = run_with_outputs(pytester)

    source.write_text("# a comment moves the finding down\n\nimport os\n", encoding="utf-8")
    after, _ = run_with_outputs(pytester)

    def prints(log: dict[str, Any]) -> list[str]:
        return [r["partialFingerprints"][sarif.FINGERPRINT] for r in log["runs"][0]["results"]]

    assert prints(before) == prints(after)
    assert after["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"] == {
        "startLine": 3, "startColumn": 8,
    }


def many(count: int) -> tuple[Verdict, list[Any]]:
    findings = [
        Finding(f"finding {n} " + "x" * (n % 97), file=f"src/f{n}.py", line=n + 1, rule="R")
        for n in range(count)
    ]
    outcome = GateOutcome("lint", "required", GateResult.failed("lint: many", findings=findings))
    verdict = Verdict("staging", "green", "red", (outcome,), ("required gate lint failed",))
    return verdict, issues(verdict, "pyproject.toml")


def test_sarif_keeps_within_the_result_limit_and_says_so() -> None:
    verdict, found = many(7)

    log = valid_sarif(sarif.render(verdict, found, "1.0", max_results=5))

    (run,) = log["runs"]
    assert [r["locations"][0]["physicalLocation"]["region"]["startLine"] for r in run["results"]] == [
        1, 2, 3, 4, 5,
    ]
    (note,) = run["invocations"][0]["toolExecutionNotifications"]
    assert note["message"]["text"].startswith("2 of 7 findings are not in this file")


def test_sarif_keeps_within_the_gzipped_size_limit() -> None:
    verdict, found = many(3000)
    whole = sarif.render(verdict, found, "1.0")
    limit = len(gzip.compress(whole.encode())) // 3

    text = sarif.render(verdict, found, "1.0", max_gzipped=limit)

    assert len(gzip.compress(text.encode())) <= limit
    (run,) = valid_sarif(text)["runs"]
    assert 0 < len(run["results"]) < 3000
    kept = len(run["results"])
    assert run["invocations"][0]["toolExecutionNotifications"][0]["message"]["text"].startswith(
        f"{3000 - kept} of 3000 findings"
    )


def test_code_quality_fingerprints_are_unique_for_repeated_findings() -> None:
    same = [Finding("too long", file="a.py", line=n, rule="E501") for n in (1, 2, 3)]
    outcome = GateOutcome("lint", "advisory", GateResult.failed("lint: 3", findings=same))
    verdict = Verdict("dev", "yellow", "yellow", (outcome,), ())

    entries = json.loads(codequality.render(issues(verdict, "pyproject.toml")))

    assert len({e["fingerprint"] for e in entries}) == 3
    assert {e["severity"] for e in entries} == {"minor"}


def test_step_summary_lists_findings_within_its_budget(project, monkeypatch) -> None:
    pytester = project(test_app="def test_broken():\n    assert False\n")
    step = pytester.path / "step.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(step))

    pytester.runpytest("--promote-to=development")

    text = step.read_text()
    assert "### Findings" in text
    assert "- ❌ **tests** `test_app.py` failed test_app.py::test_broken" in text


def test_summary_findings_stop_at_the_budget_and_say_how_many_more() -> None:
    _, found = many(5000)

    text = markdown.findings(found, 20_000)

    assert len(text.encode()) <= 20_000
    listed = text.count("\n- ❌ ")
    assert 0 < listed < 5000
    assert text.endswith(f"… and {5000 - listed} more findings: the JSON report lists all.\n")
