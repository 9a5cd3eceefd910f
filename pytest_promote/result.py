"""What a gate states: its result, the findings that say where, and the secrets it
found.

These values are the bottom of the package: the policy, the test log, the redactor and
every gate read them, and they import nothing of pytest-promote. Import them from
:mod:`pytest_promote.api`, which re-exports them beside the gate API.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal, TypedDict, Unpack

Status = Literal["passed", "failed", "error"]
#: What a gate measured, or the threshold it compares it with.
Measure = str | float | int | None


class ResultDetails(TypedDict, total=False):
    """The keywords of ``GateResult.passed``, ``failed`` and ``error``, all optional."""

    measured: Measure
    threshold: Measure
    findings: Iterable[Finding]
    cached: bool  # reused from an earlier run with the same fingerprint
    figures: Mapping[str, Any]  # numbers a later run's ratchet reads (JSON values)


@dataclasses.dataclass(frozen=True)
class Finding:
    """One thing a gate found: ``file:line: rule message``."""

    message: str
    file: str | None = None
    line: int | None = None
    rule: str = ""
    col: int | None = None

    def __str__(self) -> str:
        where = ""
        if self.file:
            where = self.file if self.line is None else f"{self.file}:{self.line}"
            where += ": "
        rule = f"{self.rule} " if self.rule else ""
        return f"{where}{rule}{self.message}"


@dataclasses.dataclass(frozen=True)
class Secret:
    """A secret value a gate found, and the line it stands on when known: every output
    masks it, and on that line (in the findings there) whatever it looks like."""

    value: str
    file: str | None = None
    line: int | None = None


@dataclasses.dataclass(frozen=True)
class GateResult:
    """What a gate measured and whether that meets the stage's threshold.

    ``status`` is ``"error"`` when the gate could not be evaluated (tool missing,
    crashed, unreadable data): it never counts as a pass.
    """

    status: Status
    summary: str
    measured: Measure = None
    threshold: Measure = None
    findings: tuple[Finding, ...] = ()
    cached: bool = False
    #: Numbers a later run may hold this one to (the ratchet), as JSON values: they go
    #: in the JSON report and the ledger record (e.g. ``{"total": 81.25}``).
    figures: Mapping[str, Any] | None = None

    @classmethod
    def passed(cls, summary: str, **details: Unpack[ResultDetails]) -> GateResult:
        """A result that meets the threshold."""
        return cls._made("passed", summary, details)

    @classmethod
    def failed(cls, summary: str, **details: Unpack[ResultDetails]) -> GateResult:
        """A result that misses the threshold; ``findings`` say where."""
        return cls._made("failed", summary, details)

    @classmethod
    def error(cls, summary: str, **details: Unpack[ResultDetails]) -> GateResult:
        """The gate could not be evaluated; this fails closed."""
        return cls._made("error", summary, details)

    @classmethod
    def _made(cls, status: Status, summary: str, details: ResultDetails) -> GateResult:
        unknown = sorted(details.keys() - ResultDetails.__optional_keys__)
        if unknown:  # pyright says so too; a gate without type checks learns it here
            raise TypeError(f"GateResult.{status}() got unexpected keywords: {', '.join(unknown)}")
        findings = tuple(details.get("findings", ()))
        measured, threshold = details.get("measured"), details.get("threshold")
        return cls(status, summary, measured, threshold, findings, details.get("cached", False),
                   details.get("figures"))


def findings_text(findings: Sequence[Finding], limit: int = 20) -> str:
    """Findings one per line, at most ``limit`` of them, then how many more."""
    lines = [str(f) for f in findings[:limit]]
    if len(findings) > limit:
        lines.append(f"... and {len(findings) - limit} more")
    return "\n".join(lines)
