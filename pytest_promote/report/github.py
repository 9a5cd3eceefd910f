"""GitHub Actions workflow commands: the findings of the gates that did not pass.

GitHub shows at most 10 error and 10 warning annotations per step: the most important
are annotated, then one notice says how many more there are and where to read them.
"""

from __future__ import annotations

import os

import pytest

from pytest_promote.report.issues import level
from pytest_promote.runner.scorecard import Verdict

#: Annotations of each level GitHub shows per step.
PER_LEVEL = 10


def _data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _prop(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")


def every_annotation(verdict: Verdict) -> list[str]:
    """Every annotation, errors first; advisory and overridden gates give warnings."""
    found: dict[str, list[str]] = {"error": [], "warning": []}
    for gate in verdict.gates:
        result = gate.result
        if result is None or result.status == "passed":
            continue
        kind = level(gate)
        title = _prop(f"promote {gate.id}")
        # Findings tied to no file read as details of the summary, which says what
        # failed and what to do: one annotation holds them all.
        loose = [f.message for f in result.findings if not f.file]
        if loose or not result.findings:
            text = "\n".join([result.summary, *loose])
            found[kind].append(f"::{kind} title={title}::{_data(text)}")
        for f in (f for f in result.findings if f.file):
            props = [f"file={_prop(f.file)}"] if f.file else []
            if f.file and f.line is not None:
                props.append(f"line={f.line}")
                if f.col is not None:
                    props.append(f"col={f.col}")
            props.append(f"title={title}")
            message = f"{f.rule} {f.message}" if f.rule else f.message
            found[kind].append(f"::{kind} {','.join(props)}::{_data(message)}")
    return found["error"] + found["warning"]


def lines(verdict: Verdict, where: str) -> list[str]:
    """At most 10 errors and 10 warnings, the most important first; then a notice of
    how many were not annotated and ``where`` they are listed."""
    out: list[str] = []
    shown = {"error": 0, "warning": 0}
    left = {"error": 0, "warning": 0}
    for line in every_annotation(verdict):
        kind = line[2:].split(" ", 1)[0]
        if shown[kind] < PER_LEVEL:
            shown[kind] += 1
            out.append(line)
        else:
            left[kind] += 1
    if any(left.values()):
        counts = ", ".join(f"{n} {kind}{'s' * (n != 1)}" for kind, n in left.items() if n)
        out.append(
            f"::notice title=promote::{counts} more not annotated (GitHub shows "
            f"{PER_LEVEL} of each per step): see {_data(where)}"
        )
    return out


def where(config: pytest.Config) -> str:
    """Where this run lists every finding: the job summary, the reports it writes."""
    places = ["the job summary"] if os.environ.get("GITHUB_STEP_SUMMARY") else []
    for option in ("promote_report", "promote_sarif", "promote_codequality"):
        if config.getoption(option):
            places.append(str(config.getoption(option)))
    return ", ".join(places) or "the failures of the promote items in the job log"
