"""``metrics``: numeric thresholds on values read from JSON files.

Performance SLAs from pytest-benchmark's ``--benchmark-json``, a seven-day uptime
export, field budgets: each named check reads one number at a path in a file and
holds it to a ``min`` and/or ``max``. A missing file, path or number is an error.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from pytest_promote._util import jsonpath
from pytest_promote._util.paths import check_inside
from pytest_promote.api import Finding, Gate, GateResult, maximum, minimum


@dataclasses.dataclass(frozen=True)
class MetricCheck:
    """One check: the number at ``path`` in ``file`` must lie within ``min``/``max``."""

    file: str = ""
    path: str = ""
    min: float | None = minimum(None, "the value must be at least this", -1e300, 1e300)
    max: float | None = maximum(None, "the value must be at most this", -1e300, 1e300)

    def __post_init__(self) -> None:
        if not self.file or not self.path:
            raise ValueError(
                "each check needs a `file` (JSON) and a `path` into it, e.g. 'a.b[0].c'"
            )
        check_inside("file", self.file)
        jsonpath.parse(self.path)  # a PathError is a ValueError: reported as bad policy
        if self.min is None and self.max is None:
            raise ValueError(f"the check on {self.path!r} needs a `min`, a `max` or both")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"the check on {self.path!r} has min {self.min:g} > max {self.max:g}")

    @property
    def bounds(self) -> str:
        """The threshold as a user reads it: ``>= 99.5``, ``<= 0.2``, ``in [1, 2]``."""
        if self.min is not None and self.max is not None:
            return f"in [{self.min:g}, {self.max:g}]"
        return f">= {self.min:g}" if self.min is not None else f"<= {self.max:g}"


@dataclasses.dataclass(frozen=True)
class MetricsOptions:
    """``[tool.promote.gates.<id>.checks.<name>]``: named checks, so a stage can tighten one."""

    checks: Mapping[str, MetricCheck] = dataclasses.field(
        default_factory=lambda: MappingProxyType({})
    )

    def __post_init__(self) -> None:
        if not self.checks:
            raise ValueError(
                "metrics needs `checks`, e.g. [tool.promote.gates.metrics.checks.uptime] "
                'file = "uptime.json", path = "seven_day.percent", min = 99.5'
            )


class MetricsGate(Gate):
    """Every named check reads a number within its bounds."""

    Options = MetricsOptions
    title = "metrics"

    def evaluate(self) -> GateResult:
        """Read each file once, then judge each check."""
        opts: MetricsOptions = self.options
        documents: dict[str, Any] = {}
        failed: list[Finding] = []
        errors: list[Finding] = []
        shown: list[str] = []
        for name, check in opts.checks.items():
            try:
                value = self._read(check, documents)
            except (OSError, ValueError) as exc:
                errors.append(Finding(f"{name}: {exc}", file=check.file, rule="unreadable"))
                continue
            shown.append(f"{name} {value:g}")
            if (check.min is not None and value < check.min) or (
                check.max is not None and value > check.max
            ):
                failed.append(
                    Finding(
                        f"{name}: {check.path} = {value:g}, required {check.bounds}",
                        file=check.file,
                        rule="threshold",
                    )
                )
        measured = ", ".join(shown) or None
        threshold = ", ".join(f"{n} {c.bounds}" for n, c in opts.checks.items())
        stage = self.context.stage
        if errors:
            summary = (
                f"{self.id}: {len(errors)} of {len(opts.checks)} metric(s) could not be "
                f"read for {stage}"
            )
            return GateResult.error(
                summary, measured=measured, threshold=threshold, findings=[*errors, *failed]
            )
        if failed:
            summary = (
                f"{self.id}: {len(failed)} of {len(opts.checks)} metric(s) out of bounds "
                f"for {stage}: " + "; ".join(f.message for f in failed)
            )
            return GateResult.failed(
                summary, measured=measured, threshold=threshold, findings=failed
            )
        return GateResult.passed(
            f"{self.id}: {len(shown)} metric(s) within bounds: {measured}",
            measured=measured,
            threshold=threshold,
        )

    def _read(self, check: MetricCheck, documents: dict[str, Any]) -> float:
        if check.file not in documents:
            path = self.context.rootpath / check.file
            try:
                documents[check.file] = json.loads(path.read_text(encoding="utf-8"))
            except FileNotFoundError:
                raise OSError(f"no such file: {check.file}") from None
            except json.JSONDecodeError as exc:
                raise ValueError(f"{check.file} is not JSON: {exc}") from None
        value = jsonpath.get(documents[check.file], check.path)
        if (
            isinstance(value, bool)
            or not isinstance(value, (int, float))
            or not math.isfinite(value)
        ):
            raise ValueError(f"{check.path} is {json.dumps(value)[:60]}, not a number")
        return float(value)
