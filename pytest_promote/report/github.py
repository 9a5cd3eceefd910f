"""GitHub Actions workflow commands: the findings of the gates that did not pass.

GitHub shows at most 10 error and 10 warning annotations per step: the most important
are annotated, then one notice says how many more there are and where to read them.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import pytest

from pytest_promote.report.issues import level
from pytest_promote.runner.options import options
from pytest_promote.runner.scorecard import Verdict

if TYPE_CHECKING:
    from pytest_promote.runner.acceptance import Decision

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


def _kind(line: str) -> str:
    return line[2:].split(" ", 1)[0]


def decided(decision: Decision, title: str = "promote scorecard") -> str:
    """The run's decision: an error when it fails the run, a warning when the run is
    not accepted but its colour decides the exit status, else a notice."""
    kind = "error" if decision.fails else "notice" if decision.accepted else "warning"
    return f"::{kind} title={_prop(title)}::{_data(decision.statement)}"


def lines(decision: Decision, where: str, title: str = "promote scorecard") -> list[str]:
    """The decision first, then at most 10 errors and 10 warnings in all, the most
    important first; then a notice of how many were not annotated and ``where`` they
    are listed."""
    out = [decided(decision, title)]
    shown = {"error": 0, "warning": 0, "notice": 0, _kind(out[0]): 1}
    left = {"error": 0, "warning": 0}
    for line in every_annotation(decision.verdict):
        kind = _kind(line)
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
    chosen = options(config)
    places += [str(path) for path in (chosen.report, chosen.sarif, chosen.codequality) if path]
    return ", ".join(places) or "the failures of the promote items in the job log"
