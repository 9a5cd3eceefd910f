"""``types``: ``pyright`` over the configured paths, with the project's pyright config."""

from __future__ import annotations

import dataclasses
import os
import sys
from pathlib import Path
from typing import Any, ClassVar

from pytest_promote._util.jsonpath import Shape
from pytest_promote.api import Finding, GateResult, install_hint, maximum, relative
from pytest_promote.gates import baseline, ratchet
from pytest_promote.gates.tool import ToolGate
from pytest_promote.policy.schema import timeout


@dataclasses.dataclass(frozen=True)
class TypesOptions(baseline.HoldOptions):
    """``[tool.promote.gates.types]`` (and per stage: ``baseline``, ``allow_stale``, ``ratchet``)."""

    #: What to check (default: the policy's ``paths``, else pyright's own ``include``).
    paths: tuple[str, ...] | None = None
    #: Count warnings too: any warning fails (a later stage may turn this on, not off).
    warnings: bool = dataclasses.field(default=False, metadata={"tighten": "up"})
    #: Count warnings, allowing at most this many.
    max_warnings: int | None = maximum(None, "at most this many pyright warnings", 0, 1_000_000_000)
    #: Seconds pyright may take before the gate errors.
    timeout: float = timeout(600.0)


    @property
    def allowed_warnings(self) -> int | None:
        """How many warnings pass (None: warnings do not count)."""
        if self.max_warnings is not None:
            return self.max_warnings
        return 0 if self.warnings else None


class TypesGate(ToolGate):
    """Passes when pyright reports no errors (its own ``summary.errorCount``).

    Warnings are shown among the findings; they count only with ``warnings = true``
    or a ``max_warnings``.
    """

    Options = TypesOptions
    title = "pyright"
    tool = "pyright"
    dist = "pyright"
    extra = "types"
    hint = (
        f"{install_hint(extra)} (pyright runs on node.js: node on PATH, or "
        'pip install "pyright[nodejs]")'
    )
    reads = ("PYTHONPATH", "PYTHONHOME", "PYRIGHT_*", "NODE_OPTIONS", "NODE_PATH")
    per_file = True
    #: What ``judge`` reads of ``pyright --outputjson``.
    shape: ClassVar[Shape] = {
        "summary": {"filesAnalyzed": int, "errorCount": int, "warningCount": int},
        "generalDiagnostics": [{"message": str, "severity": str}],
    }

    def implausible(self, data: Any) -> str | None:
        """No file analysed, where the paths hold Python files: pyright judged nothing."""
        if data["summary"]["filesAnalyzed"]:
            return None
        from pytest_promote.gates.cache import source_files

        root = self.context.rootpath
        python = [p for p in source_files(root, self.paths, self.suffixes)
                  if p.suffix in self.suffixes]
        if not python:
            return None
        if self.context.files is not None:
            return (f"summary.filesAnalyzed is 0: pyright's include/exclude leave out every "
                    f"file given ({self.where()}), so it judged none of them")
        return (f"summary.filesAnalyzed is 0, yet {self.where()} holds Python files "
                f"(e.g. {relative(python[0], root)}); check pyright's include/exclude")

    def reported(self, data: Any) -> int:
        """pyright exits 1 exactly when it reports an error."""
        return int(data["summary"]["errorCount"])

    def arguments(self) -> list[str]:
        """``--outputjson`` and the paths (pyright's config ``include`` otherwise)."""
        return ["--outputjson", *(self.paths or ())]

    def environment(self) -> dict[str, str]:
        """This interpreter's directory first on PATH, so pyright resolves imports
        in the environment pytest runs in, as in an activated virtualenv."""
        env = super().environment()
        env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
        return env

    def inputs(self) -> list[Path] | None:
        """Every Python file under the root, hidden directories too (pyright follows
        imports anywhere, and its ``include`` may name any), the configuration files,
        and what their ``extends`` reaches."""
        from pytest_promote.gates.cache import config_chain, source_files

        root = self.context.rootpath
        found = set(source_files(root, None, self.suffixes, hidden=True))
        for config, key in ((root / "pyrightconfig.json", ("extends",)),
                            (root / "pyproject.toml", ("tool", "pyright", "extends"))):
            if config.is_file():
                chain = config_chain(config, key)
                if chain is None:
                    return None
                found.update(chain)
        found.update(baseline.inputs(root, self.options))
        return sorted(found)

    def fingerprint(self) -> str | None:
        """Also the installed distributions: pyright reads their code and stubs.
        Not cacheable with a ratchet: the result depends on the ledger."""
        base = None if self.options.ratchet else super().fingerprint()
        if base is None:
            return None
        return "\n".join([base, sys.prefix, *installed()])

    def judge(self, data: Any) -> GateResult:
        """Errors always count; warnings as the options say. With a baseline only new
        ones count; without one, ``ratchet`` allows as many errors as the last
        accepted record of the stage had."""
        root = self.context.rootpath
        findings: list[Finding] = []
        errors_at: list[bool] = []
        for d in data.get("generalDiagnostics", []):
            if d.get("severity") not in ("error", "warning"):
                continue
            start = (d.get("range") or {}).get("start") or {}
            line = start.get("line")
            findings.append(
                Finding(
                    d["message"].splitlines()[0] if d["message"] else "",
                    file=relative(Path(d["file"]), root) if d.get("file") else None,
                    line=line + 1 if line is not None else None,
                    col=start["character"] + 1 if "character" in start else None,
                    rule=d.get("rule") or d["severity"],
                )
            )
            errors_at.append(d["severity"] == "error")
        summary = data["summary"]
        errors, warnings = int(summary["errorCount"]), int(summary["warningCount"])
        stage = self.context.stage
        held = baseline.judge_findings(self.context.config, root, self.id, findings, self.options, stage)
        figures: dict[str, Any] = {"count": errors, "warnings": warnings}
        allowed = self.options.allowed_warnings
        if held.used:
            new = [f for f, n in zip(findings, held.is_new, strict=True) if n]
            new_errors = sum(e for e, n in zip(errors_at, held.is_new, strict=True) if n)
            new_warnings = len(new) - new_errors
            return self._judge_new(held, new, new_errors, new_warnings, {**figures, **held.figures()})
        allowed_errors, threshold, limit, note = 0, 0, "0 errors allowed", held.note
        if self.options.ratchet:
            mark = ratchet.last_mark(self.context, self.id)
            before = ratchet.number(mark.figures, "count") if mark is not None else None
            if mark is None or before is None:
                allowed_errors, threshold = errors, "ratchet: nothing to hold to yet"
                note = "; ".join(filter(None, [note, ratchet.nothing_to_hold(stage)]))
            else:
                allowed_errors, threshold = int(before), f"<= {int(before)} errors (ratchet)"
                limit = f"at most {allowed_errors} errors allowed: the ratchet from {mark}"
        measured: str | int = errors
        if allowed is not None:
            measured = f"{errors} errors, {warnings} warnings"
            threshold = f"{threshold if self.options.ratchet else 0} errors, <= {allowed} warnings"
        said = (
            f"pyright: {errors} error{'s' * (errors != 1)}, "
            f"{warnings} warning{'s' * (warnings != 1)} in {self.where()}"
        )
        note = f"; {note}" if note else ""
        kw: dict[str, Any] = {"measured": measured, "threshold": threshold,
                              "findings": findings, "figures": figures}
        if errors > allowed_errors:
            return GateResult.failed(f"{self.id}: {said} ({limit} for {stage}){note}", **kw)
        if allowed is not None and warnings > allowed:
            return GateResult.failed(
                f"{self.id}: {said} (at most {allowed} warnings allowed for {stage}){note}", **kw
            )
        return GateResult.passed(f"{self.id}: {said}{note}", **kw)

    def _judge_new(
        self, held: baseline.Held, new: list[Finding], errors: int, warnings: int,
        figures: dict[str, Any],
    ) -> GateResult:
        """With a baseline: new errors fail, new warnings as the options say, stale
        entries when ``allow_stale = false``."""
        stage, opts = self.context.stage, self.options
        allowed = opts.allowed_warnings
        stale_fails = bool(held.stale) and not opts.allow_stale
        measured = held.measured()
        threshold = "0 new errors" + ("" if allowed is None else f", <= {allowed} new warnings")
        threshold += "" if opts.allow_stale else ", 0 stale"
        said = (f"pyright: {baseline.plural(errors, 'new error')}, "
                f"{baseline.plural(warnings, 'new warning')} in {self.where()} ({measured})")
        problems = []
        if errors:
            problems.append("0 new errors allowed")
        if allowed is not None and warnings > allowed:
            problems.append(f"at most {allowed} new warnings allowed")
        if stale_fails:
            problems.append("0 stale baseline entries allowed (allow_stale = false)")
        if problems:
            shown = [*new, *(e.as_finding() for e in held.stale if stale_fails)]
            return GateResult.failed(
                f"{self.id}: {said}; {', '.join(problems)} for {stage}", measured=measured,
                threshold=threshold, findings=shown, figures=figures,
            )
        hint = (f"; {baseline.plural(len(held.stale), 'stale entry', 'stale entries')}: drop "
                "with `python -m pytest_promote baseline`") if held.stale else ""
        return GateResult.passed(
            f"{self.id}: {said}{hint}", measured=measured, threshold=threshold,
            findings=new, figures=figures,
        )


def installed() -> list[str]:
    """The distributions on ``sys.path`` by their metadata directories' names (which
    carry the versions): cheap to list, and they change with every install."""
    names: list[str] = []
    for entry in sys.path:
        try:
            names += sorted(
                n for n in os.listdir(entry or ".") if n.endswith((".dist-info", ".egg-info"))
            )
        except OSError:
            continue
    return names
