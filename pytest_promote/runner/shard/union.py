"""The final job of a sharded run: the union of the shards' bundles, judged as one suite.

``pytest --promote-to=STAGE --promote-only --promote-from='shards/*'`` reads every
bundle the pattern matches (see :mod:`pytest_promote.runner.shard.bundle`) and checks that
they add up to one run of the whole suite of the commit judged here: every bundle of
this commit and tree, all of them collecting the same suite, every collected test
run in one shard (a test in no shard, a shard whose bundle is missing, a bundle of
another commit fail the ``tests`` gate, naming them; a test run in two shards is
reported). The test-judging gates then read the union's outcomes, the coverage gate
the shards' data combined by coverage.py (each shard's directory remapped to this
one, as ``[paths]`` does); the tool gates run here, once.
"""

from __future__ import annotations

import collections
import dataclasses
import glob
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from pytest_promote._util import git
from pytest_promote.api import Finding
from pytest_promote.runner.shard.bundle import MANIFEST, Bundle, read, unusable
from pytest_promote.runner.suite import Suite
from pytest_promote.runner.testlog import TestLog, TestOutcome

if TYPE_CHECKING:
    from pytest_promote.gates.coverage.sources import Gathered

#: Worst first: a test two shards ran ends with the worse of its two outcomes.
SEVERITY = ("failed", "passed", "xfailed", "skipped")
#: How a partial union names what left tests out.
LEFT_OUT_BY = "the shards (no shard ran them)"


@dataclasses.dataclass
class ShardUnion:
    """The bundles of one final job and what they add up to."""

    pattern: str
    bundles: list[Bundle]
    #: The whole suite (node id -> markers), as the bundles collected it.
    collected: dict[str, tuple[str, ...]] = dataclasses.field(default_factory=dict)
    #: What makes the union no judgement of this commit's whole suite: fails ``tests``.
    problems: list[Finding] = dataclasses.field(default_factory=list)
    #: Collected tests no shard ran.
    left_out: list[str] = dataclasses.field(default_factory=list)
    #: Tests more than one shard ran.
    duplicates: list[str] = dataclasses.field(default_factory=list)
    #: Whether every bundle is of the commit and tree judged here.
    same_commit: bool = True

    @property
    def source(self) -> str:
        """``4 shard bundles (shards/*)``."""
        count = len(self.bundles)
        return f"{count} shard bundle{'s' * (count != 1)} ({self.pattern})"

    def describe(self) -> list[str]:
        """The report header's lines."""
        lines = [f"promote: judging {self.source}: {len(self.collected)} tests collected"]
        lines += [f"promote:   {_label(b)}: ran {len(b.ran)}" for b in self.bundles]
        return lines

    def as_report(self) -> list[dict[str, Any]]:
        """The JSON report's ``shards`` entry: one line per bundle."""
        return [
            {
                "bundle": b.name,
                "shard": dataclasses.asdict(b.position) if b.position else None,
                "commit": b.commit,
                "tree": b.tree,
                "collected": len(b.collected),
                "ran": len(b.ran),
                "coverage": b.coverage is not None,
                "versions": dict(b.versions),
            }
            for b in self.bundles
        ]

    def fill(self, tests: TestLog) -> None:
        """Give the test-judging gates the union's outcomes and its suite."""
        tests.source = self.source
        tests.problems = list(self.problems)
        tests.left_out = list(self.left_out)
        tests.duplicates = list(self.duplicates)
        found: dict[str, TestOutcome] = {}
        for bundle in self.bundles:
            for ran in bundle.ran:
                markers = frozenset(self.collected.get(ran.nodeid, bundle.collected.get(ran.nodeid, ())))
                entry = TestOutcome(ran.nodeid, ran.outcome, markers, ran.duration)
                earlier = found.get(ran.nodeid)
                if earlier is None or _worse(entry.outcome, earlier.outcome):
                    found[ran.nodeid] = entry
        tests.outcomes = found
        if not self.bundles:
            tests.suite_error = (
                f"--promote-from={self.pattern!r} matched no shard bundle; pass the directories "
                "the shards' --promote-shard wrote (download every shard's artifact first)"
            )
            return
        ran = sum(1 for nodeid in self.collected if nodeid in found)
        total = len(self.collected)
        tests.suite = Suite(ran, total, (LEFT_OUT_BY,) if ran < total else ())

    def gathered(self) -> Gathered:
        """The shards' coverage data combined, each shard's root remapped to this one
        (NoCoverage when the bundles cannot be judged together, or one lacks data)."""
        from pytest_promote.gates.coverage.sources import NoCoverage

        if not self.bundles:
            raise NoCoverage(f"--promote-from={self.pattern!r} matched no shard bundle")
        if not self.same_commit:
            raise NoCoverage(
                "the shard bundles are not all of the commit and tree judged here (see the "
                "tests gate): their coverage is no measurement of this tree"
            )
        files = []
        for bundle in self.bundles:
            if bundle.coverage is not None:
                files.append(bundle.coverage)
            elif bundle.ran:
                raise NoCoverage(
                    f"shard bundle {bundle.name} ran {len(bundle.ran)} tests but carries no "
                    f"coverage data ({bundle.no_coverage}); run that shard with a stage "
                    "that has a coverage gate"
                )
        return _combine(self, files)


def _label(bundle: Bundle) -> str:
    return f"{bundle.name} ({bundle.position.describe()})" if bundle.position else bundle.name


def _worse(outcome: str, than: str) -> bool:
    rank = {o: n for n, o in enumerate(SEVERITY)}
    return rank.get(outcome, 0) < rank.get(than, 0)


def paths(pattern: str, here: Path) -> list[Path]:
    """The bundle directories ``pattern`` matches (relative to ``here``), sorted; a
    match that is the manifest itself stands for its directory."""
    found = []
    for match in sorted(glob.glob(pattern, root_dir=here)):
        path = Path(match)
        if path.name == MANIFEST:
            path = path.parent
        found.append(path)
    return list(dict.fromkeys(found))


def read_union(config: pytest.Config, pattern: str) -> ShardUnion:
    """Read and check the bundles ``pattern`` matches; a UsageError for one that cannot
    be read (naming it and the fix)."""
    here = config.invocation_params.dir
    bundles = []
    for path in paths(pattern, here):
        full = path if path.is_absolute() else here / path
        if not full.is_dir():
            raise unusable(path, "is no directory", "match only the bundle directories, e.g. 'shards/*'")
        bundles.append(dataclasses.replace(read(full), path=path))
    union = ShardUnion(pattern, bundles)
    if bundles:
        check(union, git.head(config.rootpath), git.tree(config.rootpath))
    return union


def check(union: ShardUnion, head: str | None, tree: str | None) -> None:
    """Find what keeps the bundles from being one run of this commit's whole suite."""
    bundles = union.bundles
    for bundle in bundles:
        commit, its_tree = head or bundles[0].commit, tree or bundles[0].tree
        if bundle.commit != commit or bundle.tree != its_tree:
            union.same_commit = False
            union.problems.append(Finding(
                f"commit {_short(bundle.commit)} (tree {_short(bundle.tree)}), but the commit judged "
                f"here is {_short(commit)} (tree {_short(its_tree)}): use the bundles of this "
                "commit's shards", file=bundle.name, rule="commit",
            ))
    for bundle in bundles:
        union.problems += [
            Finding(f"{where}: could not be collected in this shard", file=bundle.name, rule="collection")
            for where in bundle.errors
        ]
    suites = collections.Counter(frozenset(b.collected.items()) for b in bundles)
    common = suites.most_common(1)[0][0]
    for bundle in bundles:
        mine = frozenset(bundle.collected.items())
        if mine != common:
            lacks = sorted({k for k, _ in common} - set(bundle.collected))
            extra = sorted(set(bundle.collected) - {k for k, _ in common})
            union.problems.append(Finding(
                f"collected another suite ({len(bundle.collected)} tests; {_some(lacks)} missing, "
                f"{_some(extra)} more, or other markers) than the other shards "
                f"({len(common)} tests): every shard must collect the same suite",
                file=bundle.name, rule="suite",
            ))
    for bundle in bundles:
        for nodeid, markers in bundle.collected.items():
            union.collected.setdefault(nodeid, markers)
    ran_by: dict[str, int] = collections.Counter(r.nodeid for b in bundles for r in b.ran)
    union.left_out = [nodeid for nodeid in union.collected if nodeid not in ran_by]
    union.duplicates = [nodeid for nodeid, n in ran_by.items() if n > 1]
    strangers = [nodeid for nodeid in ran_by if nodeid not in union.collected]
    if strangers:
        union.problems.append(Finding(
            f"{_some(strangers)} ran but no shard collected them", rule="suite",
        ))
    union.problems += missing_shards(bundles)


def missing_shards(bundles: list[Bundle]) -> list[Finding]:
    """The shards whose bundle is not here, by the positions the bundles state."""
    placed = [b.position for b in bundles if b.position is not None]
    if not placed:
        return []
    totals = {p.total for p in placed}
    if len(totals) > 1:
        return [Finding(f"the bundles disagree on the number of shards ({sorted(totals)})",
                        rule="shards")]
    total = totals.pop()
    have = {p.index for p in placed}
    by = placed[0].by
    return [
        Finding(f"shard {index} of {total} left no bundle (the others ran with {by})", rule="shards")
        for index in range(1, total + 1) if index not in have
    ]


def _short(sha: str | None) -> str:
    return sha[:12] if sha else "unknown"


def _some(names: list[str], shown: int = 3) -> str:
    if not names:
        return "0"
    listed = ", ".join(names[:shown]) + (", ..." if len(names) > shown else "")
    return f"{len(names)} ({listed})"


def _combine(union: ShardUnion, files: list[Path]) -> Gathered:
    """coverage.py's ``Coverage.combine`` over the shards' data files, with the
    project's [paths] plus one alias per shard root that is not this directory."""
    import coverage
    from coverage import CoverageData

    from pytest_promote.gates.coverage.sources import Gathered, NoCoverage, recorded

    here = os.path.abspath(os.getcwd())
    combiner = coverage.Coverage(data_file=None)
    aliases: dict[str, list[str]] = dict(_paths(combiner.get_option("paths")))
    roots = sorted({b.root for b in union.bundles if os.path.abspath(b.root) != here})
    if roots:
        aliases["pytest-promote shards"] = [here + os.sep, *(r.rstrip(os.sep) + os.sep for r in roots)]
        combiner.set_option("paths", aliases)
    combined = CoverageData(no_disk=True)
    if files:
        with recorded() as said:
            combiner.combine(data_paths=[str(f) for f in files], keep=True)
        combined.update(combiner.get_data())
    else:
        said = []
    if not combined.measured_files():
        raise NoCoverage(f"the shard bundles ({union.pattern}) carry no coverage data of any file")
    # A module no shard imported was never imported: only what every shard warned.
    warned = [w for w in union.bundles[0].coverage_warnings
              if all(w in b.coverage_warnings for b in union.bundles if b.coverage is not None)]
    return Gathered(
        combined, f"combined from {union.source}", True, tuple(dict.fromkeys([*warned, *said])),
        files=tuple(files),
    )


def _paths(value: object) -> Mapping[str, list[str]]:
    return value if isinstance(value, dict) else {}
