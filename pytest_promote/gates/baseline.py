"""Baselines for the ``lint`` and ``types`` gates: only findings not in the baseline fail.

A baseline is a committed file (``.promote-baseline.json`` at the project root) that
holds the fingerprints of the findings a team accepted when it started gating.
A fingerprint is made of the rule, the file, the normalised text of the flagged line
and of its nearest non-blank neighbours, and an occurrence index among findings
alike — never the line number — so moving unrelated code does not change it and the
baseline does not churn. Findings in the baseline are *baselined*; findings not in it
are *new* and fail the gate; baseline entries no finding matches any more are *stale*
(the code was fixed: ``python -m pytest_promote baseline`` drops them).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from pytest_promote._util.files import write_atomic
from pytest_promote._util.process import ToolError
from pytest_promote.api import Finding, GateResult
from pytest_promote.gates import ratchet

#: The baseline file, at the project root (commit it).
BASELINE_FILE = ".promote-baseline.json"
FORMAT = 1
#: Set by ``python -m pytest_promote baseline``: the gates report every finding, so
#: that the command can record them all.
UPDATE_KEY = pytest.StashKey[bool]()


@dataclasses.dataclass(frozen=True)
class HoldOptions:
    """The options of a gate whose findings may be baselined (``lint``, ``types``)."""

    #: Judge only findings not in the baseline (false: every finding counts; a later
    #: stage may turn baselines off, never on).
    baseline: bool = dataclasses.field(default=True, metadata={"tighten": "down"})
    #: Allow stale baseline entries (false: the baseline must hold no finding that is gone).
    allow_stale: bool = dataclasses.field(default=True, metadata={"tighten": "down"})
    #: Where no baseline is used: allow as many findings as the last accepted record of
    #: the stage on an ancestor of HEAD had, instead of none.
    ratchet: bool = dataclasses.field(default=False, metadata={"tighten": "down"})


class BaselineError(ToolError):
    """The baseline file cannot be used; the message names it and the fix."""


@dataclasses.dataclass(frozen=True)
class Entry:
    """One baselined finding: its fingerprint, and what it was, for people to read."""

    #: Of the rule, file, flagged line, its neighbours and the occurrence index.
    fingerprint: str
    #: The same without the neighbours: matches a finding whose neighbour was edited
    #: (a fixed finding on the line above) once no finding matches ``fingerprint``.
    line_fingerprint: str
    file: str
    rule: str
    message: str

    def as_finding(self) -> Finding:
        """A stale entry as a finding (``baseline-stale``)."""
        return Finding(
            f"baselined {self.rule} no longer found ({self.message}); drop it with "
            "`python -m pytest_promote baseline`",
            file=self.file or None, rule="baseline-stale",
        )


@dataclasses.dataclass(frozen=True)
class Held:
    """Findings judged against a baseline."""

    #: For each finding given, whether it is new (not in the baseline).
    is_new: tuple[bool, ...]
    #: The baseline entries that match no finding.
    stale: tuple[Entry, ...]
    #: Whether a baseline was applied; ``note`` says why not otherwise.
    used: bool
    note: str = ""

    @property
    def new(self) -> int:
        """How many findings are not in the baseline."""
        return sum(self.is_new)

    @property
    def baselined(self) -> int:
        """How many findings the baseline holds."""
        return len(self.is_new) - self.new

    def measured(self) -> str:
        """``2 new, 341 baselined (3 stale)``."""
        return f"{self.new} new, {self.baselined} baselined ({len(self.stale)} stale)"

    def figures(self) -> dict[str, Any]:
        """The counts, for the JSON report and the ledger."""
        return {
            "baseline": self.used, "new": self.new, "baselined": self.baselined,
            "stale": len(self.stale),
        }


def normalised(text: str) -> str:
    """A line without its indentation and with runs of white space made one."""
    return " ".join(text.split())


def fingerprints(root: Path, findings: Sequence[Finding], neighbours: bool = True) -> list[str]:
    """The fingerprint of each finding, in the order given: its rule, file, the
    normalised flagged line and (with ``neighbours``) the nearest non-blank line above
    and below, and an occurrence index among alike findings.

    Occurrence indexes count in file and line order, so they do not depend on the
    order a tool lists its findings in.
    """
    texts: dict[str, list[str] | None] = {}
    keys = [_key(root, f, texts, neighbours) for f in findings]
    order = sorted(range(len(findings)), key=lambda i: (
        findings[i].file or "", findings[i].line or 0, findings[i].col or 0, keys[i]))
    seen: Counter[tuple[str, ...]] = Counter()
    prints = [""] * len(findings)
    for i in order:
        index = seen[keys[i]]
        seen[keys[i]] += 1
        raw = "\0".join([*keys[i], str(index)]).encode("utf-8")
        prints[i] = hashlib.sha256(raw).hexdigest()[:32]
    return prints


def _key(
    root: Path, finding: Finding, texts: dict[str, list[str] | None], neighbours: bool
) -> tuple[str, ...]:
    context = _context(root, finding, texts, neighbours)
    # Without a line to read, the message stands in for the code.
    return (finding.rule, finding.file or "", context if context is not None else finding.message)


def _context(
    root: Path, finding: Finding, texts: dict[str, list[str] | None], neighbours: bool
) -> str | None:
    """The flagged line and its nearest non-blank neighbours, normalised."""
    if not finding.file or not finding.line:
        return None
    if finding.file not in texts:
        try:
            texts[finding.file] = (root / finding.file).read_text(
                encoding="utf-8", errors="replace").splitlines()
        except OSError:
            texts[finding.file] = None
    lines = texts[finding.file]
    index = finding.line - 1
    if lines is None or not 0 <= index < len(lines):
        return None
    if not neighbours:
        return normalised(lines[index])
    before = next((normalised(t) for t in reversed(lines[:index]) if t.strip()), "")
    after = next((normalised(t) for t in lines[index + 1 :] if t.strip()), "")
    return "\n".join([before, normalised(lines[index]), after])


def entries(root: Path, findings: Sequence[Finding]) -> list[Entry]:
    """The baseline entries of ``findings``, sorted so the file diffs well."""
    made = [
        Entry(fp, line, f.file or "", f.rule, f.message)
        for fp, line, f in zip(fingerprints(root, findings),
                               fingerprints(root, findings, neighbours=False), findings, strict=True)
    ]
    return sorted(made, key=lambda e: (e.file, e.rule, e.fingerprint))


def read(root: Path) -> dict[str, list[Entry]] | None:
    """The baseline's entries by gate id; None when there is no baseline file."""
    path = root / BASELINE_FILE
    fix = "fix it, or write it anew with `python -m pytest_promote baseline`"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise BaselineError(f"{BASELINE_FILE} cannot be read: {exc}; {fix}") from None
    except ValueError as exc:
        raise BaselineError(f"{BASELINE_FILE} is not JSON ({exc}); {fix}") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise BaselineError(f"{BASELINE_FILE}: expected an object with \"format\": {FORMAT}; {fix}")
    gates = data.get("gates")
    if not isinstance(gates, dict):
        raise BaselineError(f"{BASELINE_FILE}: \"gates\" must be an object of gate id -> entries; {fix}")
    found: dict[str, list[Entry]] = {}
    fields = [f.name for f in dataclasses.fields(Entry)]
    for gid, listed in gates.items():
        if not isinstance(listed, list):
            raise BaselineError(f"{BASELINE_FILE}: gates.{gid} must be a list; {fix}")
        found[gid] = []
        for n, item in enumerate(listed):
            if not (isinstance(item, dict) and sorted(item) == sorted(fields)
                    and all(isinstance(item[k], str) for k in fields)):
                raise BaselineError(
                    f"{BASELINE_FILE}: gates.{gid}[{n}] must be an object of the strings "
                    f"{', '.join(fields)}; {fix}"
                )
            found[gid].append(Entry(**item))
    return found


def write(root: Path, by_gate: dict[str, list[Entry]]) -> Path:
    """Write the baseline (atomically): every gate's entries, sorted."""
    body = {
        "format": FORMAT,
        "gates": {gid: [dataclasses.asdict(e) for e in by_gate[gid]] for gid in sorted(by_gate)},
    }
    path = root / BASELINE_FILE
    write_atomic(path, json.dumps(body, indent=1, ensure_ascii=False) + "\n")
    return path


def inputs(root: Path, options: HoldOptions) -> list[Path]:
    """The baseline file, when the gate reads it (for the result cache)."""
    path = root / BASELINE_FILE
    return [path] if options.baseline and path.is_file() else []


def judge_findings(
    config: pytest.Config, root: Path, gate_id: str, findings: Sequence[Finding],
    options: HoldOptions, stage: str,
) -> Held:
    """Judge ``findings`` against the baseline of ``gate_id``; BaselineError when the
    file is unusable."""
    everything = tuple(True for _ in findings)
    if config.stash.get(UPDATE_KEY, False):
        return Held(everything, (), False, "recording a new baseline")
    if not options.baseline:
        off = (f"{BASELINE_FILE} not used: baselines are off at {stage} (baseline = false)"
               if (root / BASELINE_FILE).is_file() else "")
        return Held(everything, (), False, off)
    known = read(root)
    if known is None:
        return Held(everything, (), False)
    if gate_id not in known:
        return Held(everything, (), False, f"{BASELINE_FILE} holds no entry for {gate_id}")
    return match(root, findings, known[gate_id])


def match(root: Path, findings: Sequence[Finding], known: Sequence[Entry]) -> Held:
    """Each finding matched to a baseline entry: by the whole fingerprint first, then,
    among what is left, by the flagged line alone (its neighbours were edited)."""
    prints = fingerprints(root, findings)
    by_print = {e.fingerprint: e for e in known}
    is_new = [fp not in by_print for fp in prints]
    left = {fp: e for fp, e in by_print.items() if fp not in set(prints)}
    if any(is_new) and left:
        by_line: dict[str, list[Entry]] = {}
        for entry in left.values():
            by_line.setdefault(entry.line_fingerprint, []).append(entry)
        lines = fingerprints(root, findings, neighbours=False)
        for i, line in enumerate(lines):
            if is_new[i] and by_line.get(line):
                left.pop(by_line[line].pop().fingerprint)
                is_new[i] = False
    return Held(tuple(is_new), tuple(left.values()), True)


def judge_count(gate: Any, findings: Sequence[Finding], said: str, noun: str) -> GateResult:
    """A gate that allows no finding: with a baseline, no *new* finding (and no stale
    entry when ``allow_stale = false``); without one but with ``ratchet = true``, no
    more findings than the last accepted record of the stage had."""
    options: HoldOptions = gate.options
    context = gate.context
    root, stage, gid, where = context.rootpath, context.stage, gate.id, gate.where()
    held = judge_findings(context.config, root, gid, findings, options, stage)
    count = len(findings)
    if held.used:
        new = [f for f, is_new in zip(findings, held.is_new, strict=True) if is_new]
        measured = held.measured()
        stale_fails = bool(held.stale) and not options.allow_stale
        threshold = "0 new" if options.allow_stale else "0 new, 0 stale"
        figures = {"count": count, **held.figures()}
        about = f"{said} {plural(len(new), 'new ' + noun)} in {where} ({measured})"
        if new or stale_fails:
            shown = [*new, *(e.as_finding() for e in held.stale if stale_fails)]
            rule = "0 new allowed" if options.allow_stale else "0 new and 0 stale allowed"
            return GateResult.failed(
                f"{gid}: {about}; {rule} for {stage}", measured=measured, threshold=threshold,
                findings=shown, figures=figures,
            )
        hint = (f"; {plural(len(held.stale), 'stale entry', 'stale entries')}: drop with "
                "`python -m pytest_promote baseline`") if held.stale else ""
        return GateResult.passed(
            f"{gid}: {about}{hint}", measured=measured, threshold=threshold, figures=figures,
        )
    note = f"; {held.note}" if held.note else ""
    allowed, threshold, limit = 0, 0, f"0 allowed for {stage}"
    if options.ratchet:
        mark = ratchet.last_mark(context, gid)
        before = ratchet.number(mark.figures, "count") if mark is not None else None
        if mark is None or before is None:
            allowed, threshold = count, "ratchet: nothing to hold to yet"
            note += f"; {ratchet.nothing_to_hold(stage)}"
        else:
            allowed, threshold = int(before), f"<= {int(before)} (ratchet)"
            limit = f"at most {allowed} allowed for {stage}: the ratchet from {mark}"
    figures = {"count": count}
    about = f"{said} {plural(count, noun)} in {where}"
    if count > allowed:
        return GateResult.failed(
            f"{gid}: {about} ({limit}){note}", measured=count, threshold=threshold,
            findings=findings, figures=figures,
        )
    if count:
        return GateResult.passed(
            f"{gid}: {about} ({limit}){note}", measured=count, threshold=threshold,
            findings=findings, figures=figures,
        )
    return GateResult.passed(
        f"{gid}: {said} nothing in {where}{note}", measured=0, threshold=threshold,
        figures=figures,
    )


def plural(n: int, noun: str, nouns: str | None = None) -> str:
    """``1 finding``, ``2 findings``."""
    return f"{n} {noun if n == 1 else nouns or noun + 's'}"
