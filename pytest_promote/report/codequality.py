"""The GitLab Code Quality report (``--promote-codequality``): one entry per finding."""

from __future__ import annotations

import json

from pytest_promote.report.issues import Issue

#: A gate that could not judge is worse than one that judged and failed.
SEVERITY = {"error": "critical", "failed": "major", "not run": "major"}


def severity(issue: Issue) -> str:
    """critical (a required gate errored), major (failed or did not run), minor (advisory
    or overridden)."""
    return SEVERITY[issue.status] if issue.level == "error" else "minor"


def render(found: list[Issue]) -> str:
    """The report: a JSON array GitLab shows in merge requests (fingerprints are unique)."""
    entries = [
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
