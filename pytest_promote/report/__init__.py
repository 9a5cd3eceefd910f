"""The verdict's outputs: JSON report, Markdown summary, JUnit properties.

The terminal section and GitHub annotations are written from the terminal summary.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

from pytest_promote.scorecard import Verdict


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` whole or not at all (temp file + rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def pytest_promote_verdict(config: pytest.Config, verdict: Verdict) -> None:
    """Write the JSON report and Markdown summary; add the JUnit properties."""
    from pytest_promote.report import json_report, junit, markdown
    from pytest_promote.run import RUN_KEY

    run = config.stash[RUN_KEY]
    junit.add_properties(config, verdict)
    target = config.getoption("promote_report")
    if target:
        write_atomic(Path(target), json_report.dumps(json_report.of(config, run, verdict)))
    summary = config.getoption("promote_summary")
    step_summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary or step_summary:
        text = markdown.render(run, verdict)
        if summary:
            write_atomic(Path(summary), text)
        if step_summary:
            with open(step_summary, "a", encoding="utf-8") as handle:
                handle.write(text)
