"""``coverage``: total coverage, as ``coverage report`` computes it, meets the stage's
minimum; optionally each configured path meets its own.

The numbers come from coverage.py's own reporting over the session's data (see
:mod:`pytest_promote.gates.coverage.sources`), with the project's coverage settings
(omit, include, exclusions, precision), so the total is ``coverage report``'s TOTAL.
"""

from __future__ import annotations

import dataclasses
import os
import sys
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pytest_promote._util.digest import digest
from pytest_promote._util.paths import check_inside
from pytest_promote.api import Finding, Gate, GateResult, minimum
from pytest_promote.gates import cache, ratchet
from pytest_promote.gates.coverage import contexts, firstline, sources
from pytest_promote.gates.coverage.analysis import (
    FileCoverage,
    Report,
    analyse,
    count,
    fails_under,
    least_covered,
    summed,
)
from pytest_promote.gates.coverage.changed import Change, changed_lines, measure, ranges
from pytest_promote.gates.environ import project_environ
from pytest_promote.gates.provenance import find_base
from pytest_promote.policy.schema import bounded


@dataclasses.dataclass(frozen=True)
class FilesOptions:
    """``files = { min = 50 }``: every reported file's own minimum."""

    min: float | None = minimum(None, "percentage required of each file", 0, 100)
    #: How many of the least-covered files a failure of the total names.
    show: int = bounded(10, 0, 10_000)


@dataclasses.dataclass(frozen=True)
class CoverageOptions:
    """``coverage = { min = 80, paths = { "src/core" = 90 } }`` (per stage)."""

    min: float = minimum(0.0, "total coverage percentage required", 0, 100)
    paths: Mapping[str, float] | None = minimum(
        None, "percentage required of the files under each path prefix", 0, 100
    )
    #: How many of the least-covered files a failure names, or a table with each
    #: file's minimum (``{ min = 50 }``).
    files: int | FilesOptions = dataclasses.field(default=10, metadata={"range": (0, 10_000)})
    #: Percentage required of the lines added or modified since the base.
    new_lines: float | None = minimum(
        None, "percentage required of the lines changed since the base", 0, 100
    )
    #: The branch whose merge base with HEAD is the base (after ``--promote-base`` and
    #: the CI's target branch), as the provenance gate's ``base``.
    base: str | None = None
    #: The total may not fall below the last accepted record of the stage.
    ratchet: bool = dataclasses.field(default=False, metadata={"tighten": "up"})
    #: Nor may any file's coverage.
    ratchet_files: bool = dataclasses.field(default=False, metadata={"tighten": "up"})

    @property
    def shown(self) -> int:
        """How many of the least-covered files a failure names."""
        return self.files.show if isinstance(self.files, FilesOptions) else self.files

    @property
    def file_minimum(self) -> float | None:
        """Each file's minimum, if any."""
        return self.files.min if isinstance(self.files, FilesOptions) else None

    def __post_init__(self) -> None:
        for prefix in self.paths or {}:
            check_inside("paths", prefix)


@dataclasses.dataclass(frozen=True)
class Shortfall:
    """One minimum the data falls short of: what the summary says, and the figure
    and threshold the promotion table's row shows."""

    text: str
    measured: str
    threshold: str


class CoverageGate(Gate):
    """Total (and per-path) coverage of the session's data against the stage's minimums."""

    Options = CoverageOptions
    title = "coverage"

    def fingerprint(self) -> str | None:
        """With ``--promote-only``: the data file, the files it measured, coverage.py's
        version and settings (the Python that parses the files too) and the options.

        A run that measures its own tests judges new data: never cached (None). Nor
        is a project with coverage plugins, whose file reporters are code of their own.
        """
        opts: CoverageOptions = self.options
        if not self.context.promote_only or opts.ratchet or opts.ratchet_files:
            return None  # the ledger is an input too
        if opts.new_lines is not None:
            return None  # and so is git
        try:
            import coverage
            from coverage.exceptions import CoverageException
        except ImportError:
            return None  # evaluate says so
        try:
            probe = coverage.Coverage()  # the settings the data file and the report come from
            gathered = sources.gather(self.context.config, promote_only=True, probe=probe)
            data_file = sources.data_file_path(probe)
        except (sources.NoCoverage, CoverageException):
            return None  # evaluate says what is wrong; errors are never stored
        if probe.get_option("run:plugins"):
            return None
        files = [*(gathered.files or [data_file]), *sorted(map(Path, gathered.data.measured_files()))]
        component = self.context.policy.component
        return digest(
            coverage.__version__, sys.version, sources.configuration(probe)[1],
            cache.files_digest(self.context.rootpath, files), self.options,
            component and (component.name, component.source, component.tests),
            self.context.config.stash.get(contexts.PER_COMPONENT, False),
            cache.environment_digest(os.environ),  # COVERAGE_RCFILE, COVERAGE_FILE, ...
        )

    def evaluate(self) -> GateResult:
        """Gather the data, report on it as coverage.py does, and judge."""
        try:
            from coverage.exceptions import CoverageException
        except ImportError as exc:
            return GateResult.error(f"{self.id}: {sources.not_installed(exc)}")
        if not self.context.promote_only:
            # What a session that ran no test measured is its imports, not the tests.
            said = self.context.tests.nothing_ran(self.id, promote_only=False)
            if said:
                return GateResult.error(f"{said} (coverage of no test is not a measurement)")
        component = self.context.policy.component
        try:
            gathered = sources.gather(self.context.config, self.context.promote_only)
            if component is not None and self.context.config.stash.get(contexts.PER_COMPONENT, False):
                gathered = contexts.of_component(gathered, component.name)
        except sources.NoCoverage as exc:
            return GateResult.error(f"{self.id}: {exc}")
        except CoverageException as exc:
            return GateResult.error(f"{self.id}: coverage failed: {exc}")
        try:
            report = analyse(gathered, self.context.rootpath, env=project_environ(self.context.config))
        except CoverageException as exc:  # "No source for code", unparsable file, ...
            return GateResult.error(
                f"{self.id}: coverage could not report on the data ({gathered.origin}): {exc}"
            )
        result = self.judged(gathered, report)
        said = tuple(dict.fromkeys([*gathered.warnings, *report.warnings]))
        notes = [f"{count(gathered.combined, 'parallel data file')} combined"] if gathered.combined else []
        notes += [f"coverage.py warned: {' '.join(_short(m) for m in said)}"] if said else []
        show_warnings(said)
        if not notes:
            return result
        return dataclasses.replace(result, summary=f"{result.summary}; {'; '.join(notes)}")

    def judged(self, gathered: sources.Gathered, report: Report) -> GateResult:
        """The verdict on the report, unless it is of none of the judged code or known
        to miss lines; coverage.py's warnings are added to it by :meth:`evaluate`."""
        component = self.context.policy.component
        if component is not None:
            report = report.only(component.is_source)
            if not report.files:
                return GateResult.error(
                    f"{self.id}: no measured file of component {component.name}'s source "
                    f"({', '.join(component.source)}): its tests imported none of it, or "
                    "coverage's settings (source, include, omit) leave it out",
                    measured="no data", threshold=f"{self.options.min:g}%",
                )
        judged = self.context.paths if component is None else None
        if judged and not any(report.under(p) for p in judged):
            # A figure of none of the code the policy judges (a wrong `source`): no pass.
            return GateResult.error(
                f"{self.id}: no measured file under the policy's paths ({', '.join(judged)}): "
                f"coverage measured {count(len(report.files), 'file')} elsewhere; check "
                "[tool.coverage.run] source / include / omit",
                measured="no data under the paths", threshold=f"{self.options.min:g}%",
            )
        late = self.imported_unmeasured(gathered, report)
        if late:
            shown = ", ".join(late[:5]) + (", ..." if len(late) > 5 else "")
            return GateResult.error(
                f"{self.id}: coverage started measuring after pytest had imported "
                f"{count(len(late), 'measured file')} ({shown}): their import-time lines "
                f"(def, class, module constants) are not counted, so the figure "
                f"({report.total.pc_covered_str}%) is known to be partial; run pytest as a "
                "command (`pytest ...` or `python -m pytest ...`), where the plugin measures "
                "from the interpreter's first line, or under `coverage run -m pytest`",
                measured=f"{report.total.pc_covered_str}% (partial)",
                threshold=f"{self.options.min:g}%",
            )
        change = None
        if self.options.new_lines is not None:
            change = self.change(gathered, report)
            if isinstance(change, str):
                return GateResult.error(f"{self.id}: {change}")
        return self.judge(report, change)


    def imported_unmeasured(self, gathered: sources.Gathered, report: Report) -> list[str]:
        """The reported files whose modules were imported before the tracer measuring
        this session started (here or in an xdist worker), and never since under it."""
        measurement = self.context.config.stash.get(sources.MEASUREMENT_KEY, None)
        if measurement is None or gathered.origin not in (sources.OWN, sources.PYTEST_COV):
            return []  # read from a data file, or measured by `coverage run` from the start
        root = self.context.rootpath
        reported = {os.path.realpath(root / f.path): f.path for f in report.files if f.numbers.n_statements}
        return firstline.missed(measurement.before, measurement.workers_before, reported)

    def change(self, gathered: sources.Gathered, report: Report) -> Change | str:
        """The coverage of the lines changed since the base, or why it cannot be known."""
        root = self.context.rootpath
        base = find_base(self.context.config, root, self.options.base,
                         f"[tool.promote.gates.{self.id}] base")
        if isinstance(base, str):
            return f"new_lines needs a base: {base}"
        lines = changed_lines(root, base.sha)
        if lines is None:
            return f"git cannot list the lines changed since {base}"
        return dataclasses.replace(
            measure(gathered, root, lines, [f.path for f in report.files]), base=str(base)
        )

    def judge(self, report: Report, change: Change | None = None) -> GateResult:
        """Compare the total, each path, each file, the change and the ratchet with
        their minimums."""
        opts: CoverageOptions = self.options
        stage = self.context.stage
        component = self.context.policy.component
        if component is not None:
            stage = f"{stage} (component {component.name}'s source)"
        precision = report.total.precision
        shown = f"{report.total.pc_covered_str}%"
        threshold = f"{opts.min:g}%"
        total_fails = fails_under(report.total.pc_covered, opts.min, precision)
        unmeasured = [prefix for prefix in opts.paths or {} if not report.under(prefix)]
        if unmeasured:  # a minimum of nothing is no judgement
            return GateResult.error(
                f"{self.id}: no measured file under the path(s) {', '.join(unmeasured)} of "
                f"the policy's paths: the tests imported none of it, or coverage's settings "
                f"(source, include, omit) leave it out", measured="no data under the paths",
                threshold=", ".join(f"{p} {opts.paths[p]:g}%" for p in unmeasured) if opts.paths else None,
            )
        path_findings: list[Finding] = []
        path_figures: list[tuple[str, str]] = []
        suspects: list[FileCoverage] = list(report.files) if total_fails else []
        for prefix, required in (opts.paths or {}).items():
            files = report.under(prefix)
            nums = summed(tuple(f.numbers for f in files), precision)
            if fails_under(nums.pc_covered, required, precision):
                path_findings.append(
                    Finding(f"covered {nums.pc_covered_str}% < {required:g}% required",
                            file=prefix, rule="paths")
                )
                path_figures.append((f"{prefix} {nums.pc_covered_str}%", f"{required:g}%"))
                suspects.extend(files)
        problems: list[Shortfall] = []
        if total_fails:
            problems.append(Shortfall(f"coverage {shown} < {threshold} required for {stage}", shown, threshold))
        if path_findings:
            names = ", ".join(f.file or "" for f in path_findings)
            problems.append(Shortfall(f"below the path minimum for {stage}: {names}", *path_figures[0]))
        extra, passes = self._holds(report, change, precision, problems)
        if not problems:
            paths = f" and {len(opts.paths)} path minimum(s)" if opts.paths else ""
            summary = "; ".join([f"coverage {shown} >= {threshold} required for {stage}{paths}", *passes])
            return GateResult.passed(
                summary, measured=shown, threshold=threshold, figures=self._figures(report, change),
            )
        findings = path_findings + extra + [f.finding for f in least_covered(suspects, opts.shown)]
        said = [p.text for p in problems]
        if not total_fails:
            said.insert(0, f"coverage {shown}, but")
            summary = " ".join(said[:2]) + "".join(f"; {p}" for p in said[2:])
        else:
            summary = "; ".join(said)
        summary = "; ".join([summary, *passes])
        # The table's row shows the figure that failed first, not always the total.
        return GateResult.failed(
            summary, measured=problems[0].measured, threshold=problems[0].threshold,
            findings=findings, figures=self._figures(report, change),
        )

    def _holds(
        self, report: Report, change: Change | None, precision: int, problems: list[Shortfall]
    ) -> tuple[list[Finding], list[str]]:
        """Each file's minimum, the change's and the ratchet's: their findings (the
        problems are appended to ``problems``) and what they say when they hold."""
        opts: CoverageOptions = self.options
        findings: list[Finding] = []
        notes: list[str] = []
        minimum_ = opts.file_minimum
        if minimum_ is not None:
            below = [f for f in report.files
                     if fails_under(f.numbers.pc_covered, minimum_, precision)]
            findings += [
                Finding(f"covered {f.numbers.pc_covered_str}% < {minimum_:g}% required of each file",
                        file=f.path, rule="files")
                for f in below
            ]
            if below:
                problems.append(Shortfall(f"{count(len(below), 'file')} below {minimum_:g}% each",
                                          f"{count(len(below), 'file')} below", f"{minimum_:g}% each"))
            else:
                notes.append(f"every file >= {minimum_:g}%")
        if change is not None and opts.new_lines is not None:
            findings += self._judge_change(change, opts.new_lines, precision, problems, notes)
        if opts.ratchet or opts.ratchet_files:
            findings += self._ratchet(report, precision, problems, notes)
        return findings, notes

    def _judge_change(
        self, change: Change, required: float, precision: int, problems: list[Shortfall],
        notes: list[str],
    ) -> list[Finding]:
        stage = self.context.stage
        unmeasured = (
            f" ({count(len(change.unmeasured), 'changed Python file')} not measured by coverage: "
            f"{', '.join(change.unmeasured[:5])}{', ...' if len(change.unmeasured) > 5 else ''})"
            if change.unmeasured else ""
        )
        if not change.statements:
            notes.append(
                f"new lines: no measurable line changed since {change.base}, so nothing to "
                f"require {required:g}% of (the rule: only changed lines coverage.py counts as "
                f"statements are judged){unmeasured}"
            )
            return []
        percent = change.percent()
        said = (f"new lines {percent:.{precision}f}% ({change.statements - change.missing} of "
                f"{count(change.statements, 'changed line')} since {change.base} covered)")
        if not fails_under(percent, required, precision):
            notes.append(f"{said} >= {required:g}% required{unmeasured}")
            return []
        problems.append(Shortfall(f"{said} < {required:g}% required for {stage}{unmeasured}",
                                  f"new lines {percent:.{precision}f}%", f"{required:g}%"))
        return [
            Finding(f"changed lines not covered: {ranges(f.missing)}", file=f.path,
                    line=f.missing[0], rule="new_lines")
            for f in change.files if f.missing
        ]

    def _ratchet(
        self, report: Report, precision: int, problems: list[Shortfall], notes: list[str]
    ) -> list[Finding]:
        opts: CoverageOptions = self.options
        stage = self.context.stage
        mark = ratchet.last_mark(self.context, self.id)
        if mark is None:
            notes.append(ratchet.nothing_to_hold(stage))
            return []
        findings: list[Finding] = []
        before = ratchet.number(mark.figures, "total")
        now = round(report.total.pc_covered, FIGURES)
        if opts.ratchet and before is not None and now < before:
            problems.append(Shortfall(
                f"the ratchet: coverage fell from {before:.{precision}f}% on {mark} "
                f"to {report.total.pc_covered_str}%",
                f"{report.total.pc_covered_str}%", f"{before:.{precision}f}% (ratchet)",
            ))
        elif opts.ratchet and before is not None:
            notes.append(f"ratchet: not below {before:.{precision}f}% of {mark}")
        elif opts.ratchet:
            notes.append(f"ratchet: the record of {mark} has no total to hold to")
        if opts.ratchet_files:
            earlier = mark.figures.get("files")
            if not isinstance(earlier, Mapping):
                notes.append(f"ratchet: the record of {mark} has no file figures to hold to")
                return findings
            for f in report.files:
                was = earlier.get(f.path)
                if isinstance(was, int | float) and round(f.numbers.pc_covered, FIGURES) < was:
                    findings.append(Finding(
                        f"coverage fell from {was:.{precision}f}% on {mark} to "
                        f"{f.numbers.pc_covered_str}%", file=f.path, rule="ratchet"))
            if findings:
                fell = count(len(findings), "file")
                problems.append(Shortfall(f"the ratchet: {fell} fell below {mark}",
                                          f"{fell} fell", f"no file below {mark} (ratchet)"))
            else:
                notes.append(f"ratchet: no file below {mark}")
        return findings

    def _figures(self, report: Report, change: Change | None) -> dict[str, Any]:
        """The total (and each file's coverage with ``ratchet_files``), for the ratchet."""
        figures: dict[str, Any] = {"total": round(report.total.pc_covered, FIGURES)}
        if self.options.ratchet_files:
            figures["files"] = {f.path: round(f.numbers.pc_covered, FIGURES) for f in report.files}
        if change is not None:
            figures["new_lines"] = {"percent": round(change.percent(), FIGURES),
                                    "statements": change.statements, "missing": change.missing}
            figures["base"] = change.base
        return figures


#: Decimal places of the coverage figures a record keeps.
FIGURES = 4


def show_warnings(said: tuple[str, ...]) -> None:
    """coverage.py's warnings, issued again as its own warnings category: pytest shows
    them in its warnings summary, with the gate item (as ``coverage run`` shows them),
    whatever the project's warning filters say (``error`` would turn them into an
    exception nobody sees, ``ignore`` would hide them)."""
    from coverage.exceptions import CoverageWarning

    with warnings.catch_warnings():  # the filters only: pytest still records what is shown
        warnings.simplefilter("always", CoverageWarning)
        for message in said:
            warnings.warn(CoverageWarning(message), stacklevel=2)


def _short(message: str) -> str:
    """A coverage.py warning without the link to its documentation."""
    return message.split("; see http", 1)[0]
