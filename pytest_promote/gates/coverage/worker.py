"""One share of the coverage gate's analysis: coverage.py's JSON report on some files.

The analysis parses every measured file, and on a large project that takes seconds
of one core after the tests, when the other cores are idle. The gate reports on one
share of the files itself (:func:`report`) and hands the others to workers: this
script, run by path (``python worker.py JOB``) so that it imports
coverage.py and nothing of pytest. The job file names the coverage configuration, a
data file and the files; the report (or coverage.py's error) goes to stdout as JSON.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from coverage import CoverageData


def report(config_file: str | bool, data: CoverageData, files: Sequence[str] | None) -> dict[str, Any]:
    """The summaries of coverage.py's JSON report over ``data`` with the project's
    settings, on ``files`` (measured file names; None: every measured file), and
    what coverage.py warned about while reporting:
    ``{"files": {name: {"summary": ...}}, "totals": ..., "precision": N, "warnings": [...]}``."""
    import coverage
    from coverage.exceptions import CoverageWarning

    reporter = coverage.Coverage(data_file=None, config_file=config_file)
    reporter.get_data().update(data)
    with tempfile.TemporaryDirectory(prefix="promote-coverage-") as tmp, warnings.catch_warnings(
        record=True
    ) as caught:
        warnings.simplefilter("always", CoverageWarning)
        out = os.path.join(tmp, "coverage.json")
        reporter.json_report(morfs=list(files) if files is not None else None, outfile=out)
        with open(out, encoding="utf-8") as handle:
            raw: dict[str, Any] = json.load(handle)
    said = [str(w.message) for w in caught if issubclass(w.category, CoverageWarning)]
    return {
        "warnings": list(dict.fromkeys(said)),
        # Only the numbers: the line lists would be most of the bytes to send back.
        "files": {name: {"summary": entry["summary"]} for name, entry in raw["files"].items()},
        "totals": raw["totals"],
        "precision": int(reporter.get_option("report:precision") or 0),  # type: ignore[arg-type]
    }


def main() -> int:
    """Read the job, report, write the result."""
    from coverage import CoverageData
    from coverage.exceptions import CoverageException

    with open(sys.argv[1], encoding="utf-8") as handle:
        job = json.load(handle)
    try:
        data = CoverageData(basename=job["data_file"])
        data.read()
        result = report(job["config_file"], data, job["files"])
    except CoverageException as exc:  # "No source for code", a file that does not parse
        result = {"error": str(exc)}
    sys.stdout.write(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
