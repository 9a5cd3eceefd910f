"""The GitLab Code Quality report (``--promote-codequality``): one entry per finding."""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING, Any

from pytest_promote.report.issues import Issue

if TYPE_CHECKING:
    from pytest_promote.runner.acceptance import Decision

#: A gate that could not judge is worse than one that judged and failed.
SEVERITY = {"error": "critical", "failed": "major", "not run": "major"}


def severity(issue: Issue) -> str:
    """critical (a required gate errored), major (failed or did not run), minor (advisory
    or overridden)."""
    return SEVERITY[issue.status] if issue.level == "error" else "minor"


def decided(decision: Decision, path: str) -> dict[str, Any]:
    """The entry of a run that is not accepted, at the policy's file: ``blocker`` when
    the decision fails the run, else ``info``."""
    v = decision.verdict
    key = "\0".join(["scorecard", v.stage, decision.line])
    return {
        "description": decision.line,
        "check_name": "scorecard",
        "fingerprint": hashlib.sha256(key.encode("utf-8")).hexdigest(),
        "severity": "blocker" if decision.fails else "info",
        "location": {"path": path, "lines": {"begin": 1}},
    }


def render(found: list[Issue], decision: Decision | None = None, path: str = "pyproject.toml") -> str:
    """The report: a JSON array GitLab shows in merge requests (fingerprints are unique);
    first, when the run is not accepted, the decision, at ``path`` (the policy's file)."""
    entries = [decided(decision, path)] if decision and not decision.accepted else []
    entries += [
        {
            "description": f"{issue.gate} ({issue.status}): {issue.message}",
            "check_name": issue.rule,
            "fingerprint": issue.fingerprint,
            "severity": severity(issue),
            "location": {"path": issue.path, "lines": {"begin": issue.line}},
        }
        for issue in found
    ]
    return json.dumps(entries, indent=1) + "\n"
