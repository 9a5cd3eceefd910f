"""The promotion ledger: each run's outcome as a git note on HEAD (``refs/notes/promote``).

One JSON line per run (stage, colour, accepted, gate statuses, the report's digest,
time, actor, tree); a commit promoted twice carries both lines. Notes travel with
``git fetch/push origin refs/notes/promote``; see docs/governance.md and docs/ci.md.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pytest_promote._util import git
from pytest_promote.ledger.signing import dsse
from pytest_promote.policy.components import Contents

if TYPE_CHECKING:
    from pytest_promote.policy.components import Component

REF = "refs/notes/promote"


@dataclasses.dataclass(frozen=True)
class Record:
    """One recorded promotion run of one commit.

    ``tree`` is the tree of ``commit`` as git computes it when the ledger is read
    (None when this clone lacks the commit), never what the note claims.
    """

    commit: str
    stage: str
    colour: str
    accepted: bool
    time: str
    tree: str | None = None
    headline: str = ""
    actor: str | None = None
    digest: str | None = None
    gates: Mapping[str, str] = dataclasses.field(default_factory=dict)
    #: Why the colour proves nothing (partial run, dirty tree, moved clock); a record
    #: with any is never accepted.
    caveats: tuple[str, ...] = ()
    #: ``{"ran": N, "total": M, "left_out_by": [...]}`` when tests were left out.
    partial: Mapping[str, Any] | None = None
    #: How many paths differed from HEAD at session start (None: unknown).
    dirty: int | None = 0
    #: Environment variables that changed the judging (``PROMOTE_NOW``).
    environment: Mapping[str, str] = dataclasses.field(default_factory=dict)
    #: The signal that ended the run early (``SIGTERM``, ``SIGHUP``, ``SIGINT``), if any.
    terminated: str | None = None
    #: The component judged (``--promote-component``); None: the whole repository.
    component: str | None = None
    #: Gate id -> the figures its result carried (what a ratchet holds later runs to).
    figures: Mapping[str, Mapping[str, Any]] = dataclasses.field(default_factory=dict)
    #: The run's in-toto statement in a DSSE envelope (JSON form), signed or not; None
    #: for records made before attestations existed.
    attestation: Mapping[str, Any] | None = None

    @property
    def proves(self) -> bool:
        """Whether this record is an accepted run of the whole suite on a clean tree."""
        return self.accepted and not (self.caveats or self.partial or self.dirty
                                      or self.environment)

    def as_dict(self) -> dict[str, Any]:
        """The record as JSON (the note's line, and ``--promote-status --promote-json``)."""
        return {
            k: dict(v) if isinstance(v, Mapping) else list(v) if isinstance(v, tuple) else v
            for k, v in vars(self).items()
        }


@dataclasses.dataclass(frozen=True)
class Malformed:
    """A note line that is not a valid record: shown by ``--promote-status``, never trusted."""

    commit: str
    line: str
    problem: str

    def as_dict(self) -> dict[str, str]:
        """As ``--promote-status --promote-json`` shows it (a byte that is not UTF-8
        as ``\\xNN``)."""
        return {"commit": self.commit, "line": git.printable(self.line[:200]), "problem": self.problem}


def now() -> str:
    """The real time, never ``PROMOTE_NOW``: the ledger says when things happened."""
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="microseconds")


def _text(value: object) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _optional_text(value: object) -> bool:
    return value is None or _text(value)


def _time(value: object) -> bool:
    if not isinstance(value, str):
        return False
    try:
        return datetime.datetime.fromisoformat(value).tzinfo is not None
    except ValueError:
        return False


def _strings(value: object) -> bool:
    return isinstance(value, dict) and all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    )


_gates = _strings


def _figures(value: object) -> bool:
    return isinstance(value, dict) and all(
        isinstance(k, str) and isinstance(v, dict) for k, v in value.items()
    )


def _envelope(value: object) -> bool:
    if value is None:
        return True
    try:
        dsse.parse(value)
    except ValueError:
        return False
    return True


#: The schema of a record's JSON line: field -> (check, what it must be, required).
#: A line with a field missing, unknown or of the wrong type is malformed.
SCHEMA: dict[str, tuple[Callable[[object], bool], str, bool]] = {
    "stage": (_text, "a stage name", True),
    "colour": (lambda v: v in ("green", "yellow", "red"), '"green", "yellow" or "red"', True),
    "accepted": (lambda v: isinstance(v, bool), "true or false", True),
    "time": (_time, "an ISO 8601 time with its UTC offset", True),
    "tree": (_optional_text, "a tree sha or null", False),
    "headline": (lambda v: isinstance(v, str), "a string", False),
    "actor": (_optional_text, "a string or null", False),
    "digest": (_optional_text, "a string or null", False),
    "gates": (_gates, "a table of gate id -> status", False),
    "terminated": (_optional_text, "a signal name or null", False),
    "caveats": (lambda v: isinstance(v, list) and all(_text(c) for c in v), "a list of text", False),
    "partial": (lambda v: v is None or isinstance(v, dict), "a table or null", False),
    "dirty": (lambda v: v is None or (type(v) is int and v >= 0), "a count (0 or more) or null", False),
    "environment": (_strings, "a table of name -> value", False),
    "component": (_text, "a component name", False),
    "figures": (_figures, "a table of gate id -> table of figures", False),
    "attestation": (_envelope, "a DSSE envelope (payload, payloadType, signatures) or null", False),
}


def validate(data: object) -> str | None:
    """Why ``data`` (a parsed note line) is not a record, or None when it is one."""
    if not isinstance(data, dict):
        return "not a JSON object"
    unknown = sorted(set(data) - set(SCHEMA))
    if unknown:
        return f"unknown field {unknown[0]!r}"
    for name, (check, what, required) in SCHEMA.items():
        if name not in data:
            if required:
                return f"no {name!r}"
            continue
        if not check(data[name]):
            return f"{name} = {json.dumps(data[name])[:60]}: expected {what}"
    if data["accepted"] and data["colour"] == "red":
        return "accepted with colour red: no stage accepts red"
    return None


def parse(commit: str, text: str) -> tuple[list[Record], list[Malformed]]:
    """The records in one note, and the lines that are not valid records."""
    found: list[Record] = []
    bad: list[Malformed] = []
    for line in text.splitlines():
        if not line.strip():
            continue
        undecodable = git.undecodable(line)
        if undecodable is not None:  # kept in the note as it is, never trusted
            bad.append(Malformed(commit, line, undecodable))
            continue
        try:
            data = json.loads(line)
        except ValueError:
            bad.append(Malformed(commit, line, "not JSON"))
            continue
        problem = validate(data)
        if problem is not None:
            bad.append(Malformed(commit, line, problem))
            continue
        data["caveats"] = tuple(data.get("caveats", ()))
        found.append(Record(commit=commit, **data))
    return found, bad


def read(root: Path) -> tuple[list[Record], list[Malformed]]:
    """Every valid record of the repository (oldest first), and the malformed lines.

    Each record's ``tree`` is its commit's real tree; a line claiming another tree
    is malformed (a record moved onto another commit would vouch for other files).
    """
    found: list[Record] = []
    bad: list[Malformed] = []
    for commit, text in git.all_notes(root, REF).items():
        records_, malformed = parse(commit, text)
        found += records_
        bad += malformed
    trees = {c.sha: c.tree for c in git.commits(root, sorted({r.commit for r in found}))}
    checked = []
    for record in found:
        real = trees.get(record.commit)
        if record.tree is not None and real is not None and record.tree != real:
            line = json.dumps(_line(record), sort_keys=True)
            problem = f"claims tree {record.tree[:12]}, but the commit's tree is {real[:12]}"
            bad.append(Malformed(record.commit, line, problem))
            continue
        checked.append(dataclasses.replace(record, tree=real))
    checked.sort(key=lambda r: datetime.datetime.fromisoformat(r.time))
    return checked, bad


def records(root: Path) -> list[Record]:
    """Every valid record of the repository, oldest first."""
    return read(root)[0]


def for_head(all_records: Iterable[Record], head: str, tree: str | None) -> list[Record]:
    """The records of HEAD, or of any commit whose (real) tree is HEAD's (the same files)."""
    return [r for r in all_records if r.commit == head or (tree and r.tree == tree)]


def holding(root: Path, all_records: Iterable[Record], component: Component | None) -> list[Record]:
    """The records that hold for HEAD, of ``component`` (None: of the whole repository)
    alone: HEAD's, a commit's with HEAD's tree, or, for a component, a commit's whose
    files under the component's paths are identical to HEAD's."""
    head = git.head(root)
    if head is None:
        return []
    name = component.name if component else None
    mine = [r for r in all_records if r.component == name]
    same = for_head(mine, head, git.tree(root))
    if component is None:
        return same
    contents = Contents(root, component)
    now = contents.of(head)
    return [r for r in mine if r in same or (now is not None and contents.of(r.commit) == now)]


def _line(record: Record) -> dict[str, Any]:
    # A record of the whole repository names no component: its line reads as before.
    return {k: v for k, v in record.as_dict().items()
            if k != "commit" and not (k == "component" and v is None)}


def write(root: Path, record: Record) -> None:
    """Append ``record`` to the note on its commit (safe against concurrent writers)."""
    data = _line(record)
    problem = validate(data)
    if problem is not None:  # never write what a reader would reject
        raise RuntimeError(f"the record is malformed: {problem}")
    git.add_note(root, REF, record.commit, json.dumps(data, sort_keys=True))
