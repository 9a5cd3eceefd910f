"""``lint``: ``ruff check`` over the configured paths, with the project's ruff config."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any, ClassVar

from pytest_promote._util.jsonpath import Shape
from pytest_promote._util.process import BackgroundTool, ToolError
from pytest_promote.api import Finding, GateResult, install_hint, relative
from pytest_promote.gates import baseline
from pytest_promote.gates.cache import config_chain
from pytest_promote.gates.tool import ToolGate
from pytest_promote.policy.schema import timeout

#: The files ruff reads its settings from, closest to a checked file first.
RUFF_CONFIGS = (".ruff.toml", "ruff.toml", "pyproject.toml")


@dataclasses.dataclass(frozen=True)
class LintOptions(baseline.HoldOptions):
    """``[tool.promote.gates.lint]`` (and per stage: ``baseline``, ``allow_stale``, ``ratchet``)."""

    #: What to check (default: the policy's ``paths``, else what ``ruff check`` checks).
    paths: tuple[str, ...] | None = None
    #: Seconds ruff may take before the gate errors.
    timeout: float = timeout(600.0)


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
    extra = "lint"
    hint = install_hint(extra)
    suffixes = (".py", ".pyi", ".ipynb")
    reads = ("RUFF_*",)
    per_file = True
    #: What ``judge`` reads of ``ruff check --output-format=json``.
    shape: ClassVar[Shape] = [{
        "message": str, "filename": str, "code": (str, type(None)),
        "location": {"row": int, "column": int},
    }]

    def arguments(self) -> list[str]:
        """``check --output-format=json``; ``--no-fix``: a gate never edits files. In a
        component's run and in a pre-check, ``--force-exclude``: files named one by one
        are excluded as ruff's configuration says, as in a run over their directory."""
        named = self.context.policy.component is not None or self.context.files is not None
        force = ["--force-exclude"] if named else []
        return ["check", "--output-format=json", "--no-fix", *force, *(self.paths or ())]

    def judged_files(self) -> tuple[str, ...]:
        """In a pre-check: the Python files given that ruff checks (its ``exclude`` and
        ``extend-exclude`` leave the others out, as in a run over their directory)."""
        given = super().judged_files()
        if not given or self.command is None:
            return given  # nothing to run, or the gate errors saying ruff is missing
        root = self.context.rootpath
        argv = [*self.command, "check", "--show-files", "--force-exclude", *given]
        try:
            code, out, _ = BackgroundTool(self.tool, argv, root, self.options.timeout).wait()
        except ToolError:
            return given  # the gate's own run says what went wrong
        if code != 0:
            return given
        shown = {relative(Path(line.strip()), root) for line in out.splitlines() if line.strip()}
        return tuple(f for f in given if f in shown)

    def inputs(self) -> list[Path] | None:
        """What ruff reads, as ruff resolves it: the files ``ruff check --show-files``
        lists (its excludes, the dot-directories it does check), every configuration
        file in their directories and above, the user's, and what ``extend`` reaches."""
        assert self.command is not None  # fingerprint asks only then
        root = self.context.rootpath
        argv = [*self.command, "check", "--show-files", *(self.paths or ())]
        listing = BackgroundTool(self.tool, argv, root, self.options.timeout)
        try:
            code, out, _ = listing.wait()
        except ToolError:
            return None
        if code != 0:
            return None  # evaluate says why; errors are never stored
        files = {Path(line) for line in out.splitlines() if line.strip()}
        found: set[Path] = set(files)
        user = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config") / "ruff"
        places = {user, root, *(a for f in files for a in f.parents)}
        for place in places:
            for name in RUFF_CONFIGS:
                config = place / name
                if config.is_file():
                    key = ("tool", "ruff", "extend") if name == "pyproject.toml" else ("extend",)
                    chain = config_chain(config, key)
                    if chain is None:
                        return None
                    found.update(chain)
        found.update(baseline.inputs(root, self.options))
        return sorted(found)

    def fingerprint(self) -> str | None:
        """Not cacheable with a ratchet: the result depends on the ledger."""
        return None if self.options.ratchet else super().fingerprint()

    def reported(self, data: Any) -> int:
        """``ruff check`` exits 1 exactly when it reports a diagnostic."""
        return len(data)

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
        return baseline.judge_count(self, findings, "ruff check found", "finding")
