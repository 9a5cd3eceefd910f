"""A shard's bundle: what one job of a sharded test run leaves for the final judgement.

``pytest --promote-to=STAGE --promote-shard=DIR`` runs this shard's tests (whatever
chose them: pytest-split's ``--splits N --group i``, ``-k``, node ids, pytest-xdist
inside) and runs no gate. It writes into DIR the manifest ``promote-shard.json`` (the
whole collected suite as this shard saw it, with each test's markers; which tests it
ran, their outcomes and durations; the commit, tree and dirty paths; the tool
versions) and, when the stage has a coverage gate, this shard's coverage data in
coverage.py's own format (``.coverage.shard``: ``coverage combine DIR...`` reads it).
The directory is replaced whole: a reader sees the old bundle or the new one.

A final ``--promote-only --promote-from=GLOB`` job judges the union of the bundles
(see :mod:`pytest_promote.runner.shard.union`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import platform
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import pytest

from pytest_promote._util import git
from pytest_promote._util.files import new_directory
from pytest_promote._util.process import ToolError
from pytest_promote.runner.testlog import TestLog

if TYPE_CHECKING:
    from coverage import CoverageData

    from pytest_promote.policy.stage import Stage
    from pytest_promote.runner.suite import SuiteCount

#: The manifest's file name in a bundle directory.
MANIFEST = "promote-shard.json"
#: The coverage data file's name: a parallel data file to ``coverage combine DIR``.
COVERAGE_FILE = ".coverage.shard"
FORMAT = "pytest-promote shard bundle"
VERSION = 1
#: The tools whose versions a bundle records (distribution names).
TOOLS = ("pytest", "pytest-promote", "coverage", "pytest-xdist", "pytest-split")


@dataclasses.dataclass(frozen=True)
class Position:
    """Which shard of how many this is, when the sharding tool says so."""

    index: int
    total: int
    by: str

    def describe(self) -> str:
        """``shard 2 of 4 (pytest-split --splits 4 --group 2)``."""
        return f"shard {self.index} of {self.total} ({self.by})"


@dataclasses.dataclass(frozen=True)
class Ran:
    """One test this shard ran: its final outcome and its time (setup, call, teardown)."""

    nodeid: str
    outcome: str
    duration: float


@dataclasses.dataclass(frozen=True)
class Bundle:
    """One shard's bundle, as read back (paths are the reader's)."""

    path: Path
    stage: str
    commit: str | None
    tree: str | None
    dirty: tuple[str, ...] | None
    root: str
    position: Position | None
    selection: tuple[str, ...]
    #: The whole collected suite: node id -> marker names.
    collected: Mapping[str, tuple[str, ...]]
    #: What could not be collected (a module that does not import...).
    errors: tuple[str, ...]
    ran: tuple[Ran, ...]
    #: The coverage data file, or None (``no_coverage`` says why).
    coverage: Path | None
    no_coverage: str | None
    coverage_warnings: tuple[str, ...]
    versions: Mapping[str, str]

    @property
    def name(self) -> str:
        """How messages name the bundle: its directory as given."""
        return str(self.path)


def position(config: pytest.Config) -> Position | None:
    """This shard's place from pytest-split's options, else GitLab's ``parallel:``
    variables; None when nothing says."""
    splits, group = config.getoption("splits", None), config.getoption("group", None)
    if isinstance(splits, int) and isinstance(group, int):
        return Position(group, splits, f"pytest-split --splits {splits} --group {group}")
    index, total = os.environ.get("CI_NODE_INDEX", ""), os.environ.get("CI_NODE_TOTAL", "")
    if index.isdigit() and total.isdigit():
        return Position(int(index), int(total), f"CI_NODE_INDEX={index} CI_NODE_TOTAL={total}")
    return None


def versions(config: pytest.Config) -> dict[str, str]:
    """Python's and the tools' versions this shard ran with."""
    from importlib import metadata

    found = {"python": platform.python_version()}
    for name in TOOLS:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return found


def without_bundles(root: Path, paths: list[str] | None) -> list[str] | None:
    """``paths`` (changes to the tree, relative to ``root``) without the files of shard
    bundles: a bundle written or downloaded into the checkout changes nothing judged."""
    if paths is None:
        return None
    return [p for p in paths if not (
        Path(p).name in (MANIFEST, COVERAGE_FILE) and (root / p).with_name(MANIFEST).is_file()
    )]


class Recorded(Protocol):
    """What a shard's bundle records of its run (a
    :class:`~pytest_promote.runner.run.PromoteRun`, which holds its recorder, so this
    module does not import it)."""

    @property
    def stage(self) -> Stage: ...
    @property
    def count(self) -> SuiteCount: ...
    @property
    def tests(self) -> TestLog: ...
    @property
    def dirty(self) -> Sequence[str] | None: ...


class ShardRecorder:
    """The hooks of a shard run: remember the whole collected suite, then write the
    bundle once the session's tests (and their session fixtures) are done."""

    def __init__(self, config: pytest.Config, run: Recorded, directory: Path) -> None:
        self.config = config
        self.run = run
        self.directory = directory
        self.message: str | None = None
        #: Collectors that failed (import errors...): their tests are in no suite.
        self.errors: list[str] = []

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        """Remember what could not be collected (under xdist, as the workers report it)."""
        if report.failed:
            self.errors.append(report.nodeid or ".")

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        """Write the bundle (not for ``--collect-only``)."""
        if self.config.option.collectonly:
            return
        try:
            suite = self._whole_suite()
        except ToolError as exc:
            self.message = f"shard bundle NOT written to {self.directory}: {exc}"
            session.exitstatus = pytest.ExitCode.INTERNAL_ERROR
            return
        data, why, said = self._coverage()
        manifest = self.manifest(suite, self.run.tests, why, said)
        try:
            write(self.directory, manifest, data)
        except OSError as exc:
            self.message = f"shard bundle NOT written to {self.directory}: {exc.strerror or exc}"
            session.exitstatus = pytest.ExitCode.USAGE_ERROR
            return
        ran, total = len(manifest["ran"]), len(suite)
        self.message = (
            f"promote: shard bundle written to {self.directory}: {ran} of {total} tests ran "
            f"here{'' if data is not None else ' (no coverage data: ' + str(why) + ')'}; "
            "no gate ran: a final --promote-only --promote-from job judges the shards"
        )
        if session.exitstatus == pytest.ExitCode.NO_TESTS_COLLECTED:
            # A shard handed no test (more groups than tests, a -k list that is empty
            # here) did its job: its bundle says so, and the final job judges the union.
            session.exitstatus = pytest.ExitCode.OK

    def _whole_suite(self) -> dict[str, list[str]]:
        """The canonical suite (see :mod:`pytest_promote.runner.canonical`), whatever
        this shard collected."""
        return self.run.count.canonical.suite().tests

    def _coverage(self) -> tuple[CoverageData | None, str | None, list[str]]:
        """This shard's coverage data, or why there is none."""
        from pytest_promote.gates.coverage import sources

        measurement = self.config.stash.get(sources.MEASUREMENT_KEY, None)
        if measurement is None or not measurement.wanted:
            return None, f"stage {self.run.stage.name} has no coverage gate", []
        if not self.run.tests.outcomes:
            return None, "this shard ran no test", []
        try:
            gathered = sources.gather(self.config, promote_only=False)
        except sources.NoCoverage as exc:
            return None, str(exc), []
        except Exception as exc:  # coverage.py's own errors: the final job fails closed
            return None, f"coverage failed: {type(exc).__name__}: {exc}", []
        return gathered.data, None, list(gathered.warnings)

    def manifest(
        self, suite: Mapping[str, Sequence[str]], tests: TestLog, no_coverage: str | None,
        said: list[str],
    ) -> dict[str, Any]:
        """The manifest's JSON of this shard."""
        config, root = self.config, self.config.rootpath
        where = position(config)
        return {
            "format": FORMAT,
            "version": VERSION,
            "stage": self.run.stage.name,
            "commit": git.head(root),
            "tree": git.tree(root),
            "dirty": self.run.dirty,
            "root": str(root),
            "shard": dataclasses.asdict(where) if where else None,
            "selection": list(self.run.count.means()),
            "collected": [{"id": nodeid, "markers": list(marks)} for nodeid, marks in suite.items()],
            "errors": sorted(set(self.errors)),
            "ran": [
                {"id": o.nodeid, "outcome": o.outcome, "duration": round(o.duration, 6)}
                for o in tests.outcomes.values()
            ],
            "coverage": None if no_coverage else {"file": COVERAGE_FILE, "warnings": said},
            "no_coverage": no_coverage,
            "versions": versions(config),
        }

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        """One line: where the bundle went."""
        if self.message:
            terminalreporter.write_line(self.message, red="NOT" in self.message)


def write(directory: Path, manifest: dict[str, Any], data: CoverageData | None) -> None:
    """Write the bundle into ``directory``, replacing what an earlier shard run left
    there whole: built beside it, then renamed into place. OSError, saying why, when
    any part cannot be written."""
    from pytest_promote.gates.coverage.sources import write_data_file

    directory = directory.absolute()
    if directory.exists() and not _is_bundle(directory):
        raise OSError(f"{directory} exists and is no shard bundle; give a new or empty directory")
    directory.parent.mkdir(parents=True, exist_ok=True)
    building = new_directory(directory.parent, f".{directory.name}.")
    try:
        if data is not None:
            from coverage.exceptions import CoverageException

            try:
                write_data_file(data, building / COVERAGE_FILE)
            except CoverageException as exc:  # SQLite's "database or disk is full"
                raise OSError(f"cannot write {COVERAGE_FILE}: {exc}") from None
            manifest["coverage"]["sha256"] = _sha256(building / COVERAGE_FILE)
        text = json.dumps(manifest, indent=1) + "\n"
        (building / MANIFEST).write_text(text, encoding="utf-8")
        old = None
        if directory.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{directory.name}.old.", dir=directory.parent))
            os.replace(directory, old / "bundle")
        os.replace(building, directory)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(building, ignore_errors=True)


def _is_bundle(directory: Path) -> bool:
    """Whether ``directory`` is empty or holds only what a bundle holds."""
    try:
        return {p.name for p in directory.iterdir()} <= {MANIFEST, COVERAGE_FILE}
    except OSError:
        return False


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return "sha256:" + digest.hexdigest()


def read(path: Path) -> Bundle:
    """The bundle in directory ``path``; a UsageError naming the file and the fix when
    it is no valid bundle."""
    manifest = path / MANIFEST
    fix = "give the directory a --promote-shard run wrote (download the shard's artifact whole)"
    try:
        raw = json.loads(manifest.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise unusable(manifest, "does not exist", fix) from None
    except OSError as exc:
        raise unusable(manifest, f"cannot be read ({exc.strerror or exc})", fix) from None
    except ValueError as exc:
        raise unusable(manifest, f"is not JSON ({exc})", fix) from None
    if not isinstance(raw, dict) or raw.get("format") != FORMAT:
        raise unusable(manifest, f"is not a {FORMAT}", fix)
    if raw.get("version") != VERSION:
        raise unusable(manifest, f"has version {raw.get('version')!r}, this pytest-promote reads "
                  f"version {VERSION}", "run the shards and the final job with one pytest-promote")
    try:
        bundle = _parse(path, raw)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise unusable(manifest, f"is malformed ({type(exc).__name__}: {exc})", fix) from None
    if bundle.coverage is not None:
        expected = raw["coverage"].get("sha256")
        if not bundle.coverage.is_file():
            raise unusable(bundle.coverage, "is missing", fix)
        if expected != _sha256(bundle.coverage):
            raise unusable(bundle.coverage, f"does not match the manifest's digest {expected}", fix)
    return bundle


def unusable(path: Path, problem: str, fix: str) -> pytest.UsageError:
    """The usage error of a bundle file that cannot be judged."""
    return pytest.UsageError(f"--promote-from: {path} {problem}; {fix}")


def _parse(path: Path, raw: dict[str, Any]) -> Bundle:
    def text(value: object, what: str) -> str:
        if not isinstance(value, str):
            raise ValueError(f"{what} must be text, not {value!r}")
        return value

    def optional(value: object, what: str) -> str | None:
        return None if value is None else text(value, what)

    shard = raw["shard"]
    where = None
    if shard is not None:
        where = Position(int(shard["index"]), int(shard["total"]), text(shard["by"], "shard.by"))
    collected = {
        text(entry["id"], "collected id"): tuple(text(m, "marker") for m in entry["markers"])
        for entry in raw["collected"]
    }
    ran = tuple(
        Ran(text(e["id"], "ran id"), text(e["outcome"], "outcome"), float(e["duration"]))
        for e in raw["ran"]
    )
    dirty = raw["dirty"]
    coverage = raw["coverage"]
    return Bundle(
        path=path,
        stage=text(raw["stage"], "stage"),
        commit=optional(raw["commit"], "commit"),
        tree=optional(raw["tree"], "tree"),
        dirty=None if dirty is None else tuple(text(p, "dirty path") for p in dirty),
        root=text(raw["root"], "root"),
        position=where,
        selection=tuple(text(s, "selection") for s in raw["selection"]),
        collected=collected,
        errors=tuple(text(e, "error") for e in raw["errors"]),
        ran=ran,
        coverage=None if coverage is None else path / _coverage_file(coverage["file"]),
        no_coverage=optional(raw["no_coverage"], "no_coverage"),
        coverage_warnings=() if coverage is None else tuple(
            text(w, "coverage warning") for w in coverage["warnings"]
        ),
        versions={text(k, "tool"): text(v, "version") for k, v in raw["versions"].items()},
    )


def _coverage_file(name: object) -> str:
    if name != COVERAGE_FILE:  # never a path out of the bundle
        raise ValueError(f"coverage.file must be {COVERAGE_FILE!r}, not {name!r}")
    return COVERAGE_FILE
