"""``lint``: ``ruff check`` over the configured paths, with the project's ruff config."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from pytest_promote.gate import Finding, GateResult, relative
from pytest_promote.toolrun import ToolGate


@dataclasses.dataclass(frozen=True)
class LintOptions:
    """``[tool.promote.gates.lint]``."""

    #: What to check (default: the policy's ``paths``, else what ``ruff check`` checks).
    paths: tuple[str, ...] | None = None
    #: Seconds ruff may take before the gate errors.
    timeout: float = 600.0

    def __post_init__(self) -> None:
        if self.timeout <= 0:
            raise ValueError("`timeout` must be a positive number of seconds")


class LintGate(ToolGate):
    """Passes when ``ruff check`` finds nothing; each finding is shown with its rule.

    ruff runs in the project root, so the project's ``[tool.ruff]`` / ``ruff.toml``
    (rules, ``exclude``, per-file ignores) apply exactly as for plain ``ruff check``.
    """

    Options = LintOptions
    title = "ruff check"
    tool = "ruff"
    dist = "ruff"
    module = "ruff"
    hint = "install it: pip install ruff"
    suffixes = (".py", ".pyi", ".ipynb")

    def arguments(self) -> list[str]:
        """``check --output-format=json``; ``--no-fix``: a gate never edits files."""
        return ["check", "--output-format=json", "--no-fix", *(self.paths or ())]

    def judge(self, data: Any) -> GateResult:
        """One finding per diagnostic; any finding fails."""
        root = self.context.rootpath
        findings = [
            Finding(
                d["message"],
                file=relative(Path(d["filename"]), root),
                line=d["location"]["row"],
                col=d["location"]["column"],
                rule=d.get("code") or "syntax-error",
            )
            for d in data
        ]
        count = len(findings)
        if count:
            summary = (
                f"{self.id}: ruff check found {count} finding{'s' * (count != 1)} in "
                f"{self.where()} (0 allowed for {self.context.stage})"
            )
            return GateResult.failed(summary, measured=count, threshold=0, findings=findings)
        return GateResult.passed(
            f"{self.id}: ruff check found nothing in {self.where()}", measured=0, threshold=0
        )
