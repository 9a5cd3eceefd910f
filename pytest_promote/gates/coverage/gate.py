"""``coverage``: total coverage, as ``coverage report`` computes it, meets the stage's
minimum; optionally each configured path meets its own.

The numbers come from coverage.py's own reporting over the session's data (see
:mod:`pytest_promote.gates.coverage.data`), with the project's coverage settings
(omit, include, exclusions, precision), so the total is ``coverage report``'s TOTAL.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import tempfile
import warnings
from collections.abc import Callable, Mapping
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from pytest_promote._util.process import end, project_environ, spawn
from pytest_promote.api import Finding, Gate, GateResult, minimum, relative
from pytest_promote.gates.coverage import data as coverage_data
from pytest_promote.gates.coverage import worker as _coverageworker
from pytest_promote.gates.coverage.shares import cores, share_out, worker_argv
from pytest_promote.policy.schema import bounded
from pytest_promote.runner import cache

if TYPE_CHECKING:
    from coverage.results import Numbers

WORKER = Path(_coverageworker.__file__)
#: Measured source, in bytes, worth a worker process of the analysis: about 0.13 s of
#: parsing here, more than starting the worker costs (about 0.08 s).
SHARE_BYTES = 128 * 1024


@dataclasses.dataclass(frozen=True)
class CoverageOptions:
    """``coverage = { min = 80, paths = { "src/core" = 90 } }`` (per stage)."""

    min: float = minimum(0.0, "total coverage percentage required", 0, 100)
    paths: Mapping[str, float] | None = minimum(
        None, "percentage required of the files under each path prefix", 0, 100
    )
    files: int = bounded(10, 0, 10_000)  # how many of the least-covered files a failure names

    def __post_init__(self) -> None:
        for prefix in self.paths or {}:
            pure = PurePosixPath(prefix)
            if pure.is_absolute() or ".." in pure.parts:
                raise ValueError(f"path {prefix!r} leaves the project root; use a relative path")


@dataclasses.dataclass(frozen=True)
class FileCoverage:
    """One reported file: its path from the project root and its numbers."""

    path: str
    numbers: Numbers

    @property
    def finding(self) -> Finding:
        """``file: covered x% (n missing lines)``."""
        nums = self.numbers
        missing = _count(nums.n_missing, "missing line")
        if nums.n_missing_branches:
            missing += ", " + _count(nums.n_missing_branches, "missing branch", "es")
        return Finding(f"covered {nums.pc_covered_str}% ({missing})", file=self.path)


@dataclasses.dataclass(frozen=True)
class Report:
    """What ``coverage report`` would show: every file and the total."""

    files: tuple[FileCoverage, ...]
    total: Numbers
    #: What coverage.py warned about while reporting.
    warnings: tuple[str, ...] = ()

    def under(self, prefix: str) -> tuple[FileCoverage, ...]:
        """The files at or below ``prefix`` (path components, not characters)."""
        norm = PurePosixPath(prefix).as_posix().rstrip("/")
        if norm in ("", "."):
            return self.files
        return tuple(f for f in self.files if f.path == norm or f.path.startswith(norm + "/"))

    def only(self, wanted: Callable[[str], bool]) -> Report:
        """The report of the ``wanted`` files alone, their sum as its total."""
        files = tuple(f for f in self.files if wanted(f.path))
        total = _sum(tuple(f.numbers for f in files), self.total.precision)
        return Report(files, dataclasses.replace(total, n_files=len(files)), self.warnings)


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
        if not self.context.promote_only:
            return None
        try:
            import coverage
            from coverage.exceptions import CoverageException
        except ImportError:
            return None  # evaluate says so
        try:
            probe = coverage.Coverage()  # the settings the data file and the report come from
            gathered = coverage_data.gather(self.context.config, promote_only=True, probe=probe)
            data_file = coverage_data.data_file_path(probe)
        except (coverage_data.NoCoverage, CoverageException):
            return None  # evaluate says what is wrong; errors are never stored
        if probe.config.plugins:
            return None
        files = [*(gathered.files or [data_file]), *sorted(map(Path, gathered.data.measured_files()))]
        component = self.context.policy.component
        return cache.digest(
            coverage.__version__, sys.version, sorted(vars(probe.config).items()),
            cache.files_digest(self.context.rootpath, files), self.options,
            component and component.source,
        )

    def evaluate(self) -> GateResult:
        """Gather the data, report on it as coverage.py does, and judge."""
        try:
            from coverage.exceptions import CoverageException
        except ImportError as exc:
            return GateResult.error(f"{self.id}: {coverage_data.not_installed(exc)}")
        if not self.context.promote_only:
            # What a session that ran no test measured is its imports, not the tests.
            said = self.context.tests.nothing_ran(self.id, promote_only=False)
            if said:
                return GateResult.error(f"{said} (coverage of no test is not a measurement)")
        try:
            gathered = coverage_data.gather(self.context.config, self.context.promote_only)
        except coverage_data.NoCoverage as exc:
            return GateResult.error(f"{self.id}: {exc}")
        except CoverageException as exc:
            return GateResult.error(f"{self.id}: coverage failed: {exc}")
        try:
            report = analyse(gathered, self.context.rootpath, env=project_environ(self.context.config))
        except CoverageException as exc:  # "No source for code", unparsable file, ...
            return GateResult.error(
                f"{self.id}: coverage could not report on the data ({gathered.origin}): {exc}"
            )
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
        result = self.judge(report)
        said = tuple(dict.fromkeys([*gathered.warnings, *report.warnings]))
        notes = [f"{_count(gathered.combined, 'parallel data file')} combined"] if gathered.combined else []
        notes += [f"coverage.py warned: {' '.join(_short(m) for m in said)}"] if said else []
        show_warnings(said)
        if not notes:
            return result
        return dataclasses.replace(result, summary=f"{result.summary}; {'; '.join(notes)}")

    def judge(self, report: Report) -> GateResult:
        """Compare the total and each path with its minimum."""
        from coverage.results import should_fail_under

        opts: CoverageOptions = self.options
        stage = self.context.stage
        component = self.context.policy.component
        if component is not None:
            stage = f"{stage} (component {component.name}'s source)"
        precision = report.total.precision
        shown = f"{report.total.pc_covered_str}%"
        threshold = f"{opts.min:g}%"
        total_fails = should_fail_under(report.total.pc_covered, opts.min, precision)
        path_findings: list[Finding] = []
        suspects: list[FileCoverage] = list(report.files) if total_fails else []
        for prefix, required in (opts.paths or {}).items():
            files = report.under(prefix)
            if not files:
                path_findings.append(
                    Finding(f"no measured file under this path ({required:g}% required)",
                            file=prefix, rule="paths")
                )
                continue
            nums = _sum(tuple(f.numbers for f in files), precision)
            if should_fail_under(nums.pc_covered, required, precision):
                path_findings.append(
                    Finding(f"covered {nums.pc_covered_str}% < {required:g}% required",
                            file=prefix, rule="paths")
                )
                suspects.extend(files)
        if not total_fails and not path_findings:
            paths = f" and {len(opts.paths)} path minimum(s)" if opts.paths else ""
            return GateResult.passed(
                f"coverage {shown} >= {threshold} required for {stage}{paths}",
                measured=shown, threshold=threshold,
            )
        findings = path_findings + [f.finding for f in least_covered(suspects, opts.files)]
        if total_fails:
            summary = f"coverage {shown} < {threshold} required for {stage}"
        else:
            names = ", ".join(f.file or "" for f in path_findings)
            summary = f"coverage {shown}, but below the path minimum for {stage}: {names}"
        return GateResult.failed(summary, measured=shown, threshold=threshold, findings=findings)


def show_warnings(said: tuple[str, ...]) -> None:
    """coverage.py's warnings, issued again as its own warnings category: pytest shows
    them in its warnings summary, with the gate item (as ``coverage run`` shows them);
    a project whose filters make warnings errors still reads them in the summary."""
    from coverage.exceptions import CoverageWarning

    for message in said:
        try:
            warnings.warn(CoverageWarning(message), stacklevel=2)
        except Warning:
            continue


def _short(message: str) -> str:
    """A coverage.py warning without the link to its documentation."""
    return message.split("; see http", 1)[0]


def _count(n: int, noun: str, plural: str = "s") -> str:
    return f"{n} {noun}{'' if n == 1 else plural}"


def least_covered(files: list[FileCoverage], limit: int) -> list[FileCoverage]:
    """The ``limit`` least-covered files that miss something, worst first."""
    unique = {f.path: f for f in files if f.numbers.pc_covered < 100}
    ranked = sorted(
        unique.values(), key=lambda f: (f.numbers.pc_covered, -f.numbers.n_missing, f.path)
    )
    return ranked[:limit]


def analyse(
    gathered: coverage_data.Gathered,
    rootpath: Path,
    share_bytes: int = SHARE_BYTES,
    env: Mapping[str, str] | None = None,
) -> Report:
    """Run coverage.py's JSON report over the data: per-file and total numbers
    exactly as ``coverage report`` computes them.

    With more measured source than ``share_bytes`` and more than one core, the
    files are shared out (by size) between this process and worker processes, one
    per core; the total is the sum of the shares' totals, as coverage.py's own total
    is the sum of its files' numbers. ``env``: the workers' environment.
    """
    data = gathered.data
    sizes = {name: _size(name) for name in data.measured_files()}
    shares = share_out(sizes, max(1, min(cores(), sum(sizes.values()) // max(share_bytes, 1))))
    if len(shares) > 1:
        raws = _report_in_shares(gathered, shares, env)
    else:
        raws = [_coverageworker.report(gathered.config_file, data, None)]
    precision = int(raws[0]["precision"])
    cwd = Path.cwd()  # coverage names files relative to the directory it runs in
    files = sorted(
        (
            FileCoverage(relative(cwd / name, rootpath), numbers(entry["summary"], precision))
            for raw in raws
            for name, entry in raw["files"].items()
        ),
        key=lambda f: f.path,
    )
    total = _sum(tuple(numbers(raw["totals"], precision) for raw in raws), precision)
    said = tuple(dict.fromkeys(w for raw in raws for w in raw.get("warnings", ())))
    return Report(tuple(files), dataclasses.replace(total, n_files=len(files)), said)


def _size(name: str) -> int:
    try:
        return os.path.getsize(name)
    except OSError:
        return 0  # coverage.py will say what is wrong with it


def _report_in_shares(
    gathered: coverage_data.Gathered, shares: list[list[str]], env: Mapping[str, str] | None
) -> list[dict[str, Any]]:
    """The first share reported here, the others by workers started first."""
    from coverage.exceptions import CoverageException

    config = gathered.config_file
    if isinstance(config, str):
        config = os.path.abspath(config)
    with tempfile.TemporaryDirectory(prefix="promote-coverage-") as tmp:
        stored = Path(tmp, ".coverage")
        coverage_data.write_data_file(gathered.data, stored)
        job = {"config_file": config, "data_file": str(stored)}
        workers = [
            _launch(Path(tmp, f"job-{n}.json"), {**job, "files": share}, env)
            for n, share in enumerate(shares[1:])
        ]
        try:
            raws = [_coverageworker.report(gathered.config_file, gathered.data, shares[0])]
            for proc in workers:
                out, err = proc.communicate()
                try:
                    raw = json.loads(out)
                except ValueError:
                    said = err.decode("utf-8", "replace").strip()[-2000:] or "(no output)"
                    raise CoverageException(
                        f"a coverage analysis worker failed (exit {proc.returncode}): {said}"
                    ) from None
                if "error" in raw:
                    raise CoverageException(str(raw["error"]))
                raws.append(raw)
        finally:  # interrupted (Ctrl-C, SIGTERM) or failed: no worker outlives the gate
            for proc in workers:
                end(proc)
    return raws


def _launch(
    path: Path, job: dict[str, Any], env: Mapping[str, str] | None
) -> subprocess.Popen[bytes]:
    path.write_text(json.dumps(job), encoding="utf-8")
    return spawn(
        worker_argv(WORKER, str(path)), env=env, stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )


def numbers(summary: Mapping[str, Any], precision: int) -> Numbers:
    """coverage.py's ``Numbers`` from a JSON report summary (so sums round alike)."""
    from coverage.results import Numbers

    return Numbers(
        precision=precision,
        n_files=1,
        n_statements=summary["num_statements"],
        n_excluded=summary["excluded_lines"],
        n_missing=summary["missing_lines"],
        n_branches=summary.get("num_branches", 0),
        n_partial_branches=summary.get("num_partial_branches", 0),
        n_missing_branches=summary.get("missing_branches", 0),
    )


def _sum(parts: tuple[Numbers, ...], precision: int) -> Numbers:
    from coverage.results import Numbers

    total = Numbers(precision=precision)
    for part in parts:
        total += part
    return total
