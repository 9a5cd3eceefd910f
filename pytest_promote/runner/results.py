"""The results manifest: what binds an earlier run's results to the commit it tested.

A promotion run that writes a JUnit XML (``--junitxml=PATH``) leaves beside it
``PATH.promote.json``: the commit and tree it ran on, the paths that differed from
them, the XML's digest, each test by node id with its outcome and markers, and the
digest of each coverage data file it left. ``--promote-only --promote-junit=PATH``
judges those results only when the manifest proves them to be of the commit and tree
judged now; otherwise the run shows its verdict but is not accepted. Tests are matched
to the suite by node id, never by count.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Generator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from pytest_promote._util import git
from pytest_promote._util.files import write_atomic
from pytest_promote.runner.testlog import TestLog, TestOutcome

if TYPE_CHECKING:
    from pytest_promote.runner.run import PromoteRun

SUFFIX = ".promote.json"
FORMAT = "pytest-promote results"
VERSION = 1


def manifest_path(xml: Path) -> Path:
    """``results.xml`` -> ``results.xml.promote.json``."""
    return xml.with_name(xml.name + SUFFIX)


def sha256(path: Path) -> str | None:
    """``sha256:...`` of a file's bytes (None: it cannot be read)."""
    try:
        return "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


class ResultsWriter:
    """Writes the manifest once the JUnit XML and the coverage data are written."""

    def __init__(self, config: pytest.Config, runs: tuple[PromoteRun, ...], xml: Path) -> None:
        self.config = config
        self.runs = runs
        self.xml = xml

    @pytest.hookimpl(wrapper=True)
    def pytest_unconfigure(self, config: pytest.Config) -> Generator[None, None, None]:
        """After every plugin's own unconfigure (the coverage data is final then)."""
        try:
            return (yield)
        finally:
            self.write()

    def write(self) -> None:
        """The manifest beside the XML (nothing when pytest wrote no XML)."""
        digest = sha256(self.xml)
        if digest is None:
            return
        root = self.config.rootpath
        manifest = {
            "format": FORMAT,
            "version": VERSION,
            "commit": git.head(root),
            "tree": git.tree(root),
            "dirty": self.runs[0].dirty,
            "junit": digest,
            "tests": [
                {"id": o.nodeid, "outcome": o.outcome, "markers": sorted(o.markers)}
                for o in {n: o for r in self.runs for n, o in r.tests.outcomes.items()}.values()
            ],
            "coverage": coverage_digests(root),
        }
        write_atomic(manifest_path(self.xml), json.dumps(manifest, indent=1) + "\n")


def coverage_digests(root: Path) -> dict[str, str]:
    """The coverage data files the project's configuration names (and their parallel
    files) that exist: path relative to ``root`` -> digest."""
    try:
        from pytest_promote.gates.coverage.sources import data_file_path, parallel_files

        main = data_file_path()
    except Exception:  # no coverage.py, or a configuration it cannot read: nothing to bind
        return {}
    found = {}
    for path in [main, *parallel_files(main)]:
        digest = sha256(path) if path.is_file() else None
        if digest is not None:
            found[os.path.relpath(path, root)] = digest
    return found


def bind(root: Path, tests: TestLog, xml: Path) -> tuple[list[str], dict[str, str] | None]:
    """``--promote-only --promote-junit``: take into ``tests`` the tests of the manifest
    beside ``xml`` when it proves them to be of this commit and tree. Why it does not
    (the run is then not accepted), and the coverage data files it binds."""
    unproven: list[str] = []
    path = manifest_path(xml)
    try:
        data: Any = json.loads(path.read_text(encoding="utf-8"))
    except OSError:
        unproven.append(
            f"the JUnit XML {xml} has no results manifest ({path.name}): its tests cannot be "
            "shown to be of this commit; write it with --promote-to=STAGE --junitxml=PATH"
        )
        return unproven, None
    except ValueError as exc:
        unproven.append(f"the results manifest {path} is not JSON ({exc})")
        return unproven, None
    if not isinstance(data, dict) or data.get("format") != FORMAT or not isinstance(data.get("tests"), list):
        unproven.append(f"{path} is no results manifest of pytest-promote")
        return unproven, None
    head, tree = git.head(root), git.tree(root)
    if data.get("junit") != sha256(xml):
        unproven.append(f"the JUnit XML {xml} is not the one {path.name} describes: it changed after the run")
    if head is None or data.get("commit") != head or data.get("tree") != tree:
        unproven.append(
            f"the JUnit XML {xml} is of commit {str(data.get('commit'))[:12]}, not of "
            f"{str(head)[:12]} judged here"
        )
    if data.get("dirty"):
        unproven.append(f"the JUnit XML {xml} was written on a dirty tree")
    outcomes = {}
    for entry in data["tests"]:
        if isinstance(entry, dict) and isinstance(entry.get("id"), str):
            outcome = str(entry.get("outcome", "failed"))
            markers = frozenset(str(m) for m in entry.get("markers") or ())
            outcomes[entry["id"]] = TestOutcome(entry["id"], outcome, markers)
    tests.outcomes = outcomes
    tests.has_markers = True
    return unproven, {str(k): str(v) for k, v in dict(data.get("coverage") or {}).items()}


def unbound_coverage(run: PromoteRun) -> str | None:
    """``--promote-only``: why the coverage data judged is not shown to be this
    commit's (None: it is, or no data file was read)."""
    from pytest_promote.gates.coverage.sources import GATHERED_KEY

    gathered = run.context.config.stash.get(GATHERED_KEY, None)
    if gathered is None or not gathered.files or run.shards is not None:
        return None
    root = run.context.rootpath
    bound = run.bound_coverage or {}
    for path in gathered.files:
        if bound.get(os.path.relpath(path, root)) != sha256(path):
            return (f"the coverage data {os.path.relpath(path, root)} is not shown to be of "
                    "this commit (no results manifest of this commit records it)")
    return None
