"""The coverage gate's analysis: coverage.py's own report over the session's data,
per file and in total, exactly as ``coverage report`` computes it; on a large
project shared out between this process and worker processes."""

from __future__ import annotations

import dataclasses
import json
import os
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from pytest_promote._util.process import BackgroundTool, ToolError
from pytest_promote._util.workers import cores, share_out, worker_argv
from pytest_promote.api import Finding, relative
from pytest_promote.gates.coverage import sources, worker

if TYPE_CHECKING:
    from coverage.results import Numbers

WORKER = Path(worker.__file__)
#: Measured source, in bytes, worth a worker process of the analysis: about 0.13 s of
#: parsing here, more than starting the worker costs (about 0.08 s).
SHARE_BYTES = 128 * 1024


@dataclasses.dataclass(frozen=True)
class FileCoverage:
    """One reported file: its path from the project root and its numbers."""

    path: str
    numbers: Numbers

    @property
    def finding(self) -> Finding:
        """``file: covered x% (n missing lines)``."""
        nums = self.numbers
        missing = count(nums.n_missing, "missing line")
        if nums.n_missing_branches:
            missing += ", " + count(nums.n_missing_branches, "missing branch", "es")
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
        total = summed(tuple(f.numbers for f in files), self.total.precision)
        return Report(files, dataclasses.replace(total, n_files=len(files)), self.warnings)


def count(n: int, noun: str, plural: str = "s") -> str:
    """``1 file``, ``2 files``."""
    return f"{n} {noun}{'' if n == 1 else plural}"


def least_covered(files: list[FileCoverage], limit: int) -> list[FileCoverage]:
    """The ``limit`` least-covered files that miss something, worst first."""
    unique = {f.path: f for f in files if f.numbers.pc_covered < 100}
    ranked = sorted(
        unique.values(), key=lambda f: (f.numbers.pc_covered, -f.numbers.n_missing, f.path)
    )
    return ranked[:limit]


def analyse(
    gathered: sources.Gathered,
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
        raws = [worker.report(gathered.config_file, data, None)]
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
    total = summed(tuple(numbers(raw["totals"], precision) for raw in raws), precision)
    said = tuple(dict.fromkeys(w for raw in raws for w in raw.get("warnings", ())))
    return Report(tuple(files), dataclasses.replace(total, n_files=len(files)), said)


def _size(name: str) -> int:
    try:
        return os.path.getsize(name)
    except OSError:
        return 0  # coverage.py will say what is wrong with it


def _report_in_shares(
    gathered: sources.Gathered, shares: list[list[str]], env: Mapping[str, str] | None
) -> list[dict[str, Any]]:
    """The first share reported here, the others by workers started first."""
    from coverage.exceptions import CoverageException

    config = gathered.config_file
    if isinstance(config, str):
        config = os.path.abspath(config)
    with tempfile.TemporaryDirectory(prefix="promote-coverage-") as tmp:
        stored = Path(tmp, ".coverage")
        sources.write_data_file(gathered.data, stored)
        job = {"config_file": config, "data_file": str(stored)}
        workers = [
            _launch(Path(tmp, f"job-{n}.json"), {**job, "files": share}, env)
            for n, share in enumerate(shares[1:])
        ]
        try:
            raws = [worker.report(gathered.config_file, gathered.data, shares[0])]
            for run in workers:
                try:
                    code, out, err = run.wait()
                except ToolError as exc:
                    raise CoverageException(f"a coverage analysis worker failed: {exc}") from None
                try:
                    raw = json.loads(out)
                except ValueError:
                    said = err.strip()[-2000:] or "(no output)"
                    raise CoverageException(
                        f"a coverage analysis worker failed (exit {code}): {said}"
                    ) from None
                if "error" in raw:
                    raise CoverageException(str(raw["error"]))
                raws.append(raw)
        finally:  # interrupted (Ctrl-C, SIGTERM) or failed: no worker outlives the gate
            for run in workers:
                run.stop()
    return raws


def _launch(path: Path, job: dict[str, Any], env: Mapping[str, str] | None) -> BackgroundTool:
    path.write_text(json.dumps(job), encoding="utf-8")
    run = BackgroundTool("a coverage analysis worker", worker_argv(WORKER, str(path)), None, None, env=env)
    run.start()
    return run


# coverage.py's public interface gives a report's total (`Coverage.report()`, the JSON
# report's summaries) but not how `coverage report` sums files and rounds percentages,
# nor how `--fail-under` compares: its `Numbers` and `should_fail_under`, in
# `coverage.results`, which it does not document. The gate must agree with the report
# users compare it with to the last digit, so the three functions below are the only
# code that makes or calls them (the reports above carry the Numbers they make).
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


def summed(parts: tuple[Numbers, ...], precision: int) -> Numbers:
    """The sum of ``parts``, as coverage.py sums its files' numbers."""
    from coverage.results import Numbers

    total = Numbers(precision=precision)
    for part in parts:
        total += part
    return total


def fails_under(percent: float, minimum: float, precision: int) -> bool:
    """Whether ``percent`` falls short of ``minimum``, as ``coverage report
    --fail-under`` judges it at ``precision`` decimals."""
    from coverage.results import should_fail_under

    return should_fail_under(percent, minimum, precision)
