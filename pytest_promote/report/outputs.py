"""The verdict's outputs: JSON report, Markdown summary, SARIF, GitLab Code Quality,
JUnit properties.

The terminal section and GitHub annotations are written from the terminal summary;
each run's decision is the session's last line, after pytest's own summary.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Generator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from pytest_promote._util.files import write_atomic
from pytest_promote.runner.options import options
from pytest_promote.runner.scorecard import Verdict

if TYPE_CHECKING:
    from pytest_promote.runner.run import PromoteRun


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_sessionfinish(session: pytest.Session) -> Generator[None, None, None]:
    """After pytest's own summary: each run's decision (``not accepted: REASON``)."""
    yield
    from pytest_promote.report import terminal
    from pytest_promote.runner.run import RUNS_KEY

    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        terminal.decisions(reporter, session.config.stash.get(RUNS_KEY, ()))


def pytest_promote_verdict(config: pytest.Config, verdict: Verdict, run: PromoteRun) -> None:
    """Add the JUnit properties; with the session's last verdict, write the JSON
    report, Markdown summary, SARIF and Code Quality reports (with several components
    judged, the report and the summary hold every one's verdict). Each is made of
    the verdict's typed values; their free text was masked when the gates' results
    came in (see pytest_promote._util.redact), and nothing is masked again here.

    An output that cannot be written is remembered, not raised: the ledger record
    (written after this) must not be lost to it; the session then exits 4.
    """
    from pytest_promote import __version__
    from pytest_promote.report import codequality, issues, json_report, junit, markdown, sarif
    from pytest_promote.runner.run import RUNS_KEY

    runs = config.stash[RUNS_KEY]
    several = run.node != "promote"
    failed = run.failed_outputs
    component = run.policy.component
    junit.add_properties(
        config, verdict, json_report.signature(run), component.name if component else None,
        several, run.decision,
    )
    if run is not runs[-1]:
        return  # every output holds every verdict: written after the last one
    chosen = options(config)
    target = chosen.report
    if target:
        report = json_report.dumps(json_report.of_session(config, runs, several))
        _output(failed, "--promote-report", target, lambda: write_atomic(Path(target), report))
    found = issues.from_verdict(run, verdict)  # SARIF, Code Quality: one run (else a usage error)
    sarif_path = chosen.sarif
    if sarif_path:
        text = sarif.render(verdict, found, __version__)
        _output(failed, "--promote-sarif", sarif_path, lambda: write_atomic(Path(sarif_path), text))
    quality_path = chosen.codequality
    if quality_path:
        where = issues.policy_file(run.policy.source, run.context.rootpath)
        quality = codequality.render(found, run.decision, where)
        _output(
            failed, "--promote-codequality", quality_path,
            lambda: write_atomic(Path(quality_path), quality),
        )
    summary = chosen.summary
    if summary:
        whole = markdown.render_all(runs)
        _output(failed, "--promote-summary", summary, lambda: write_atomic(Path(summary), whole))
    html = chosen.html
    if html:
        _output(failed, "--promote-html", html, lambda: _page(config, runs, Path(html)))
    step_summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if step_summary:
        # The limit is the step's: what earlier commands of the step wrote counts too.
        used = Path(step_summary).stat().st_size if Path(step_summary).is_file() else 0
        step = markdown.render_all(runs, markdown.STEP_SUMMARY_LIMIT - used)
        _output(failed, "GITHUB_STEP_SUMMARY", step_summary, lambda: _append(step_summary, step))


def _page(config: pytest.Config, runs: tuple[PromoteRun, ...], out: Path) -> None:
    """The page of this session's runs: their reports as the scorecard, and their
    records (which the ledger gets after this) in the history, marked as this run."""
    from pytest_promote._util import git
    from pytest_promote.report import json_report, record
    from pytest_promote.report.page import make

    judged = [(run, run.verdict) for run in runs if run.verdict is not None]
    reports = [json_report.from_verdict(config, run, verdict) for run, verdict in judged]
    head = git.head(config.rootpath)
    mine = [
        record.build(run, verdict, report, head)
        for (run, verdict), report in zip(judged, reports, strict=True) if head
    ]
    make.page(config.rootpath, runs[-1].policy, out, reports=reports, this_run=mine)


def _append(path: str, text: str) -> None:
    with open(path, "a", encoding="utf-8", errors="backslashreplace") as handle:
        handle.write(text)


def _output(failed: list[str], option: str, path: str, write: Callable[[], None]) -> None:
    try:
        write()
    except OSError as exc:
        why = exc.strerror or str(exc)
        failed.append(f"{option} = {path!r}: cannot be written ({why}); give a writable file path")
