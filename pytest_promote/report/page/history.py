"""What the page shows, as data: each ledger record as the page labels it, the stage x
commit grid (per component), the path each accepted commit took, the overrides and who
authorised them, and the series of every figure the records hold."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence
from typing import Any

from pytest_promote.ledger.records import Record
from pytest_promote.ledger.signing import dsse
from pytest_promote.report.standing import as_shown

#: The label of each cell of the grid, so that it reads without colour.
LABELS = {"green": "GREEN", "yellow": "YELLOW", "red": "RED"}


@dataclasses.dataclass(frozen=True)
class Cell:
    """One record as the grid shows it."""

    commit: str
    stage: str
    component: str | None
    colour: str
    #: ``GREEN``, ``YELLOW``, ``RED``, or ``... not accepted``: never colour alone.
    label: str
    counts: bool
    signature: str
    signed: bool
    time: str
    caveats: tuple[str, ...]
    this_run: bool = False


@dataclasses.dataclass(frozen=True)
class Override:
    """An override a record used, and who authorised it (from its statement)."""

    commit: str
    stage: str
    gate: str
    by: str
    reason: str
    until: str
    signature: str


@dataclasses.dataclass(frozen=True)
class Series:
    """One figure over the commits, oldest first: ``(commit, value)`` pairs."""

    gate: str
    figure: str
    stage: str
    points: tuple[tuple[str, float], ...]


@dataclasses.dataclass(frozen=True)
class Grid:
    """The stage x commit grid of one component (None: the whole repository)."""

    component: str | None
    stages: tuple[str, ...]
    #: Newest first.
    commits: tuple[str, ...]
    #: (commit, stage) -> the newest record of that cell.
    cells: Mapping[tuple[str, str], Cell]
    #: commit -> the stages it was accepted at, in policy order (its path).
    paths: Mapping[str, tuple[str, ...]]


@dataclasses.dataclass(frozen=True)
class History:
    """Everything the page shows of the ledger."""

    grids: tuple[Grid, ...]
    overrides: tuple[Override, ...]
    trends: tuple[Series, ...]
    records: int
    #: stage -> the newest accepted record of the whole repository (None: none yet).
    accepted: Mapping[str, Cell | None]


def cell(record: Record, shown: Mapping[str, Any], this_run: bool = False) -> Cell:
    """``record`` labelled for the grid; ``shown``: the status's view of it (signature,
    whether it counts)."""
    label = LABELS.get(record.colour, record.colour.upper())
    if not shown["counts"]:
        label += " not accepted"
    signature = str(shown["signature"])
    return Cell(
        commit=record.commit, stage=record.stage, component=record.component,
        colour=record.colour, label=label, counts=bool(shown["counts"]),
        signature=signature, signed=signature.startswith("signed"), time=record.time,
        caveats=tuple(record.caveats), this_run=this_run,
    )


def overrides(record: Record, signature: str) -> list[Override]:
    """The overrides ``record`` used, with who authorised them, as its statement says."""
    used = [gid for gid, status in record.gates.items() if status == "overridden"]
    if not used:
        return []
    said: dict[str, Mapping[str, Any]] = {}
    try:
        envelope = dsse.parse(record.attestation) if record.attestation else None
        predicate = json.loads(envelope.payload)["predicate"] if envelope else {}
        said = {o["gate"]: o for o in predicate.get("overrides") or () if isinstance(o, dict)}
    except (ValueError, KeyError, TypeError):
        pass  # an unreadable statement: the override shows with nobody named
    return [
        Override(
            commit=record.commit, stage=record.stage, gate=gid,
            by=str(said.get(gid, {}).get("by") or "(not stated)"),
            reason=str(said.get(gid, {}).get("reason") or ""),
            until=str(said.get(gid, {}).get("until") or ""),
            signature=signature,
        )
        for gid in used
    ]


def build(
    records: Sequence[Record],
    stages: Sequence[str],
    components: Sequence[str | None],
    trust: Any,
    last: int,
    this_run: Sequence[Record] = (),
) -> History:
    """The history of ``records`` (ledger order) and the ``this_run`` records not yet
    in the ledger, over the newest ``last`` commits. ``trust``: ``(signers, need by
    stage, trusting)`` as the status reads them."""
    everything = sorted(
        [(r, False) for r in records] + [(r, True) for r in this_run], key=lambda pair: pair[0].time
    )
    labelled = cells([r for r, _ in everything], trust, [mine for _, mine in everything])
    grids = tuple(_grid(labelled, stages, name, last) for name in components)
    kept = {c for grid in grids for c in grid.commits}
    found = [
        o for (r, _), c in zip(everything, labelled, strict=True) if r.commit in kept
        for o in overrides(r, c.signature)
    ]
    return History(
        grids, tuple(found), _trends(everything, stages, kept), len(everything),
        {stage: newest_accepted(labelled, stage) for stage in stages},
    )


def newest_accepted(labelled: Sequence[Cell], stage: str) -> Cell | None:
    """The newest record of ``stage`` (whole repository) that counts as accepted."""
    found = [c for c in labelled if c.stage == stage and c.component is None and c.counts]
    return found[-1] if found else None


def cells(records: Sequence[Record], trust: Any, this_run: Sequence[bool] = ()) -> list[Cell]:
    """``records`` labelled, oldest first; ``this_run``: which of them the current run
    made (not yet in the ledger)."""
    signers, need, trusting = trust
    mine = list(this_run) or [False] * len(records)
    ordered = sorted(zip(records, mine, strict=True), key=lambda pair: pair[0].time)
    return [cell(r, as_shown(r, signers, need(r.stage), trusting), m) for r, m in ordered]


def _grid(cells: Sequence[Cell], stages: Sequence[str], component: str | None, last: int) -> Grid:
    mine = [c for c in cells if c.component == component]
    order: list[str] = []
    for c in reversed(mine):  # newest first, each commit once
        if c.commit not in order:
            order.append(c.commit)
    order = order[:last]
    newest: dict[tuple[str, str], Cell] = {}
    for c in mine:
        if c.commit in order and c.stage in stages:
            newest[(c.commit, c.stage)] = c  # later records win
    paths = {
        commit: tuple(s for s in stages if any(
            c.counts and c.commit == commit and c.stage == s for c in mine))
        for commit in order
    }
    return Grid(component, tuple(stages), tuple(order), newest, paths)


def _trends(everything: Sequence[tuple[Record, bool]], stages: Sequence[str],
            kept: set[str]) -> tuple[Series, ...]:
    """Each numeric figure per gate and stage over the kept commits (oldest first; a
    commit's newest record of that stage gives its value)."""
    values: dict[tuple[str, str, str], dict[str, float]] = {}
    for record, _ in everything:
        if record.commit not in kept or record.component is not None:
            continue
        for gid, figures in record.figures.items():
            for name, value in figures.items():
                if isinstance(value, int | float) and not isinstance(value, bool):
                    series = values.setdefault((gid, name, record.stage), {})
                    series.pop(record.commit, None)  # keep insertion order = newest last
                    series[record.commit] = float(value)
    rank = {s: i for i, s in enumerate(stages)}
    return tuple(
        Series(gid, name, stage, tuple(points.items()))
        for (gid, name, stage), points in sorted(
            values.items(), key=lambda kv: (kv[0][0], kv[0][1], rank.get(kv[0][2], len(rank))))
        if len(points) > 1
    )
