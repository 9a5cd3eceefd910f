"""Draw the page and the badge of a project from its policy and ledger (and, during a
run, the run's own reports and records, which the ledger does not hold yet)."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pytest_promote._util import git
from pytest_promote._util.files import write_atomic
from pytest_promote.ledger.attestation import check_trust
from pytest_promote.ledger.records import Record, read
from pytest_promote.report.page import history, render, svg

if TYPE_CHECKING:
    from pytest_promote.policy.model import Policy

#: How many commits the history and the trends show unless told.
LAST = 50


def trust(policy: Policy, root: Path) -> tuple[Any, Any, bool]:
    """``(signers, need by stage, trusting)``: how the status judges signatures."""
    def need(stage: str) -> tuple[str, ...]:
        return tuple(policy.trust.requires(stage)) if policy.trust else ()
    return check_trust(policy, root), need, policy.trust is not None


def page(
    root: Path, policy: Policy, out: Path, last: int = LAST,
    reports: Sequence[Mapping[str, Any]] = (), this_run: Sequence[Record] = (),
    environ: Mapping[str, str] = os.environ,
) -> Path:
    """Write ``out/index.html`` and each stage's badge beside it (``badge-STAGE.svg``):
    the scorecard of ``reports`` (else of the newest
    record of HEAD, else the newest record), the history and the trends."""
    records, _ = read(root)
    judged = trust(policy, root)
    stages = [s.name for s in policy.stages]
    shown = history.build(records, stages, [None, *policy.components], judged, last, this_run)
    head = git.head(root)
    link = render.linker(root, out, render.repository_url(environ, head))
    if reports:
        cards = [render.scorecard(r, "This run.", link) for r in reports]
    else:
        newest = sorted(records, key=lambda r: (r.commit == head, r.time))[-1:]
        cards = [
            render.scorecard(render.from_record(r), (
                f"The ledger's newest record{' of HEAD' if r.commit == head else ''}: "
                f"commit {r.commit[:12]}, {r.time[:19]} (findings are in that run's JSON report)."
            ), link)
            for r in newest
        ]
    target = render.write(out, render.page(f"Promotion of {root.name}", head, cards, shown))
    for stage, newest in shown.accepted.items():
        write_atomic(out / badge_name(stage), svg.render(stage, newest and newest.colour, newest and newest.commit))
    return target


def badge_name(stage: str) -> str:
    """The file name of a stage's badge in a page directory."""
    return f"badge-{stage}.svg"


def badge(root: Path, policy: Policy, stage: str) -> str:
    """The badge of ``stage``: the colour of its newest accepted record."""
    records, _ = read(root)
    newest = history.newest_accepted(history.cells(records, trust(policy, root)), stage)
    return svg.render(stage, newest and newest.colour, newest and newest.commit)
