"""``artifacts``: every configured glob matches and enough non-empty files exist."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from pytest_promote._util.paths import check_inside, find
from pytest_promote.api import Finding, Gate, GateResult, minimum, relative


@dataclasses.dataclass(frozen=True)
class ArtifactsOptions:
    """``[tool.promote.gates.artifacts]``: ``paths`` globs and the ``count`` required."""

    paths: tuple[str, ...] = ()
    count: int | None = minimum(None, "present, non-empty files required", 0, 1_000_000)

    def __post_init__(self) -> None:
        for pattern in self.paths:
            check_inside("paths", pattern, glob=True)


class ArtifactsGate(Gate):
    """Each listed artifact is present ("all 12 artifacts present"): globs, counted, inside the root only."""

    Options = ArtifactsOptions
    title = "artifacts"

    def evaluate(self) -> GateResult:
        """Count the present, non-empty files the globs match."""
        opts: ArtifactsOptions = self.options
        root = self.context.rootpath.resolve()
        if not opts.paths:
            return GateResult.error(
                f"{self.id}: no artifact paths configured; set "
                f"[tool.promote.gates.{self.id}] paths = [...]"
            )
        present: set[Path] = set()
        findings: list[Finding] = []
        for pattern in opts.paths:
            files = [p for p in find(root, pattern) if p.is_file()]
            for path in files:
                name = relative(path, root)
                if not path.resolve().is_relative_to(root):
                    findings.append(Finding("refused: resolves outside the project root", file=name, rule="outside"))
                elif path.stat().st_size == 0:
                    findings.append(Finding("is empty", file=name, rule="empty"))
                else:
                    present.add(path)
            if not files:
                findings.append(Finding(f"no file matches {pattern}", rule="missing"))
        required = opts.count if opts.count is not None else len(opts.paths)
        measured = f"{len(present)}/{required}"
        if findings or len(present) < required:
            names = "; ".join(
                f"{f.rule} {f.file or f.message.removeprefix('no file matches ')}" for f in findings
            ) or f"{required - len(present)} too few"
            summary = f"{measured} artifacts: {names} (stage {self.context.stage})"
            return GateResult.failed(summary, measured=measured, threshold=required, findings=findings)
        return GateResult.passed(f"{measured} artifacts present", measured=measured, threshold=required)
