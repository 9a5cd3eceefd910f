"""SARIF 2.1.0 (``--promote-sarif``) for code scanning: one result per finding.

GitHub takes at most 25,000 results per run and 10 MB of gzipped SARIF per upload;
past either, the most important results are kept and a notification of the run says
how many were left out and where every finding is listed.
"""

from __future__ import annotations

import gzip
import json
from typing import Any
from urllib.parse import quote

from pytest_promote.report.issues import Issue
from pytest_promote.runner.scorecard import Verdict

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
MAX_RESULTS = 25_000
MAX_GZIPPED = 10 * 1000 * 1000
#: The key of the fingerprint in each result's ``partialFingerprints``.
FINGERPRINT = "promoteFinding/v1"


def render(
    verdict: Verdict, found: list[Issue], version: str,
    max_results: int = MAX_RESULTS, max_gzipped: int = MAX_GZIPPED,
) -> str:
    """The SARIF log of one promotion run, within the limits."""
    keep = min(len(found), max_results)
    while True:
        text = json.dumps(_log(verdict, found, keep, version), indent=1) + "\n"
        size = len(gzip.compress(text.encode("utf-8")))
        if size <= max_gzipped or keep == 0:
            return text
        keep = min(keep - 1, keep * max_gzipped // size * 9 // 10)


def _log(verdict: Verdict, found: list[Issue], keep: int, version: str) -> dict[str, Any]:
    shown = found[:keep]
    rules = list(dict.fromkeys(issue.rule for issue in shown))
    index = {rule: i for i, rule in enumerate(rules)}
    invocation: dict[str, Any] = {"executionSuccessful": True}
    if keep < len(found):
        invocation["toolExecutionNotifications"] = [{
            "level": "warning",
            "message": {"text": (
                f"{len(found) - keep} of {len(found)} findings are not in this file (code "
                f"scanning takes at most {MAX_RESULTS:,} results and 10 MB gzipped); "
                "the JSON report (--promote-report) lists every finding"
            )},
        }]
    run: dict[str, Any] = {
        "tool": {"driver": {
            "name": "pytest-promote",
            "version": version,
            "rules": [
                {"id": rule, "shortDescription": {"text": f"pytest-promote gate {rule}"}}
                for rule in rules
            ],
        }},
        "automationDetails": {"id": f"pytest-promote/{verdict.stage}/"},
        "invocations": [invocation],
        "results": [_result(issue, index[issue.rule]) for issue in shown],
        "properties": {
            "stage": verdict.stage, "verdict": verdict.headline, "accepted": verdict.accepted,
        },
    }
    return {"$schema": SCHEMA, "version": "2.1.0", "runs": [run]}


def _result(issue: Issue, rule_index: int) -> dict[str, Any]:
    region: dict[str, Any] = {"startLine": issue.line}
    if issue.finding.file and issue.finding.col:
        region["startColumn"] = issue.finding.col
    return {
        "ruleId": issue.rule,
        "ruleIndex": rule_index,
        "level": issue.level,
        "message": {"text": f"{issue.gate} ({issue.status}): {issue.message}"},
        "locations": [{"physicalLocation": {
            "artifactLocation": {"uri": quote(issue.path)},
            "region": region,
        }}],
        "partialFingerprints": {FINGERPRINT: issue.fingerprint},
    }
