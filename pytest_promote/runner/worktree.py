"""Whether the working tree a run judges is the commit it records: which paths differ.

A run on a tree that is not its commit proves nothing about the commit, so it is never
accepted. Two kinds of path make the difference:

- what git sees changed: a tracked file changed (staged or not), an untracked file git
  does not ignore, a submodule whose checkout differs from the commit's or holds
  changes of its own (whatever its ``ignore`` setting says);
- a file the run reads that the commit does not hold, even one git ignores: the
  policy, the baselines, the configuration files of pytest and of the gates' tools,
  every conftest pytest loaded and every module it collected (with the
  ``conftest.py`` and ``__init__.py`` files of the directories above it).

What promotion runs wrote is never a difference: reports, summaries, SARIF and Code
Quality files, shard bundles, coverage data, the results manifest beside a JUnit XML,
and what pytest or its plugins wrote for an option of the command line
(``--junitxml``, ``--report-log``, ``--cov-report``...).
At the end of each run the plugin remembers, in pytest's cache, each file it or such an
option wrote with the digest of what was written; a later run leaves out the untracked
files that still hold exactly that. A file the run reads is never left out. Without
pytest's cache (``-p no:cacheprovider``) nothing is remembered.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest

from pytest_promote._util import git
from pytest_promote._util.paths import walk
from pytest_promote.gates.secrets.gate import OUTPUTS_KEY
from pytest_promote.runner.options import options

#: Where, in pytest's cache, the outputs of earlier runs are remembered.
REMEMBERED = "promote/outputs"
#: Files read by name from the project root: the policy and the baselines, and the
#: configuration of pytest and of the tools the gates run (ruff, pyright, coverage.py).
READ_AT_ROOT = (
    "pyproject.toml", "setup.cfg", "tox.ini", "pytest.ini", ".pytest.ini", ".coveragerc",
    "ruff.toml", ".ruff.toml", "pyrightconfig.json", ".promote-baseline.json",
    ".secrets.baseline",
)


def digest(path: Path) -> str | None:
    """The SHA-256 of a file's bytes, or None when it cannot be read."""
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


class Tree:
    """The working tree of one session (on the controller): what differs from HEAD at
    its start, the files it reads, and the outputs it leaves for later runs."""

    def __init__(self, config: pytest.Config) -> None:
        from pytest_promote.runner.shard import bundle

        self.config = config
        self.root = config.rootpath
        #: Files git tracks (None: git cannot tell).
        self.tracked = git.tracked(self.root)
        self.runs: tuple[object, ...] = ()
        self.reads = self._read_by_name()
        self._before = self._snapshot()
        found = bundle.without_bundles(self.root, git.changes(self.root))
        remembered = self._remembered()
        outputs = frozenset(p for p in remembered if self._written_before(p, remembered))
        config.stash[OUTPUTS_KEY] = outputs
        #: What under the root differs from HEAD at the start (None: git cannot say).
        self.dirty: list[str] | None = None if found is None else [
            p for p in found if p not in outputs
        ]

    def _read_by_name(self) -> set[str]:
        """The files the run reads by name: the policy, the baselines, configuration."""
        named = [self.root / name for name in READ_AT_ROOT]
        if self.config.inipath is not None:
            named.append(Path(self.config.inipath))
        policy = options(self.config).policy
        if policy:
            named.append(self.root / policy)
        return set(self._under_root(named))

    def _under_root(self, paths: Iterable[Path]) -> Iterator[str]:
        for path in paths:
            try:
                yield Path(os.path.abspath(path)).relative_to(self.root).as_posix()
            except ValueError:
                continue  # outside the project: not the commit's to hold

    def _written_before(self, path: str, remembered: dict[str, str]) -> bool:
        """Whether ``path`` is an untracked output of an earlier run that still holds
        what that run wrote, and the run does not read it."""
        if path in self.reads or self.tracked is None or path in self.tracked:
            return False
        wrote = remembered.get(path)
        return wrote is not None and wrote == digest(self.root / path)

    def _remembered(self) -> dict[str, str]:
        cache = getattr(self.config, "cache", None)
        value = cache.get(REMEMBERED, {}) if cache is not None else {}
        if not isinstance(value, dict):
            return {}
        return {k: v for k, v in value.items() if isinstance(k, str) and isinstance(v, str)}

    def watch(self, runs: tuple[object, ...]) -> None:
        """Follow the session: the files it collects, and the outputs it leaves."""
        self.runs = runs
        self.config.pluginmanager.register(self, "promote-worktree")
        self.config.add_cleanup(self.remember)  # after every plugin wrote its outputs

    # -- the files the run reads ------------------------------------------------------

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        """The modules collected here (not on xdist's controller, which collects none)."""
        self.collected(item.path for item in session.items)

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node: object, ids: list[str]) -> None:
        """The modules an xdist worker collected, from their node ids."""
        self.collected(self.root / nodeid.split("::", 1)[0] for nodeid in ids)

    def collected(self, files: Iterable[Path]) -> None:
        """Count ``files`` (and the conftests loaded so far) as read: one the commit
        does not hold makes every run of the session dirty."""
        conftests = [
            Path(plugin.__file__) for plugin in self.config.pluginmanager.get_plugins()
            if os.path.basename(str(getattr(plugin, "__file__", None) or "")) == "conftest.py"
        ]
        modules = set(self._under_root(f for f in files if f.is_file()))
        around = {
            f"{parent}/{name}".removeprefix("./")
            for module in modules for parent in Path(module).parents
            for name in ("conftest.py", "__init__.py")
        }
        self.reads |= modules | {p for p in around if (self.root / p).is_file()}
        self.reads |= set(self._under_root(conftests))
        if self.tracked is None or self.dirty is None:
            return
        unheld = {p for p in self.reads if p not in self.tracked and (self.root / p).is_file()}
        if unheld - set(self.dirty):
            self.dirty = sorted({*self.dirty, *unheld})
            for run in self.runs:
                run.dirty = self.dirty  # type: ignore[attr-defined]

    # -- the outputs it leaves ------------------------------------------------------

    def _outputs(self) -> set[Path]:
        """Files and directories an option of the command line names (a report, a
        ``--junitxml``, ``--cov-report=xml:PATH``), and the coverage data file: what
        this run may write. Directories holding tracked files are not outputs."""
        from pytest_promote.gates.coverage.sources import MEASUREMENT_KEY

        named: set[Path] = set()
        start = self.config.invocation_params.dir
        for value in vars(self.config.option).values():
            for text in value if isinstance(value, list | tuple) else [value]:
                if not isinstance(text, str) or not text or "\n" in text or len(text) > 1024:
                    continue
                for part in {text, text.partition(":")[2]} - {""}:
                    named.update((start / part, self.root / part))
        xml = getattr(self.config.option, "xmlpath", None)
        if isinstance(xml, str) and xml:  # the manifest a promotion leaves beside its JUnit XML
            from pytest_promote.runner.results import manifest_path

            named.update(manifest_path(where / xml) for where in (start, self.root))
        measurement = self.config.stash.get(MEASUREMENT_KEY, None)
        if measurement is not None and measurement.data_file is not None:
            named.add(measurement.data_file)
        kept = set()
        for path in named:
            rel = next(self._under_root([path]), None)
            if rel in (None, ".") or (self.tracked is not None and rel in self.tracked):
                continue
            if path.is_dir() and self.tracked is not None and any(
                t.startswith(f"{rel}/") for t in self.tracked
            ):
                continue
            kept.add(Path(os.path.abspath(path)))
        return kept

    def _snapshot(self) -> dict[str, str | None]:
        """Each output's files (relative to the root) -> its digest."""
        found: dict[str, str | None] = {}
        for path in self._outputs():
            for file in list(walk(path, hidden=True)) if path.is_dir() else [path]:
                found[file.relative_to(self.root).as_posix()] = digest(file)
        return found

    def remember(self) -> None:
        """Store, in pytest's cache, the untracked files this run wrote and what it
        wrote, with those of earlier runs that still hold what those wrote."""
        cache = getattr(self.config, "cache", None)
        if cache is None or self.tracked is None:
            return
        outputs = {
            path: now for path, now in self._snapshot().items()
            if now is not None and now != self._before.get(path)
            and path not in self.reads and path not in self.tracked
        }
        for path, wrote in self._remembered().items():
            if path not in outputs and path not in self.reads and digest(self.root / path) == wrote:
                outputs[path] = wrote
        cache.set(REMEMBERED, dict(sorted(outputs.items())))
