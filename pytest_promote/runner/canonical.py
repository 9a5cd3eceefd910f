"""The canonical suite: what an accepted run must have run, test for test.

It is what pytest collects at the rootdir with the committed configuration and
nothing else: no arguments, no option from the command line (``-o``, ``--ignore``,
``-p``...), nothing from ``PYTEST_ADDOPTS`` or ``PYTEST_PLUGINS``, invoked from the
rootdir. A run is accepted only if the node ids it ran are exactly these (proof, not a
list of known ways to leave tests out): an option nobody thought of cannot widen it.

The suite is found without a second collection when this session's own collection
is provably the canonical one (:func:`not_canonical` finds nothing: every option
given is one known not to change what is collected); otherwise a sanitized
``pytest --collect-only`` runs in the background while the tests run. Either way it is
kept in pytest's cache under a digest of the commit's tree, the interpreter and the
installed pytest plugins, so a re-run of a clean tree costs nothing.

A test that cannot be collected (an import error) is part of the suite that did not
run: the ``tests`` gate fails, naming the file.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import os
import sys
import tempfile
from pathlib import Path

import pytest

from pytest_promote._util.process import BackgroundTool, ToolError, tail

#: The child's file to write the suite to (set only in the canonical child).
LIST_ENV = "PROMOTE_CANONICAL_FILE"
#: Environment variables through which pytest takes options or plugins.
PYTEST_ENV = ("PYTEST_ADDOPTS", "PYTEST_PLUGINS")
#: Options known not to change what is collected (reporting, output, workers,
#: timeouts, coverage measurement, where pytester puts its temporary files).
SAFE = frozenset({
    "verbose", "quiet", "reportchars", "tbstyle", "showlocals", "fulltrace", "color",
    "code_highlight", "durations", "durations_min", "no_header", "no_summary", "fold_skipped",
    "force_short_summary", "disable_warnings", "showcapture", "xfail_tb", "capture",
    "maxfail", "xmlpath", "junitprefix", "basetemp", "cacheclear", "setupshow", "runxfail",
    "numprocesses", "maxprocesses", "dist", "maxworkerrestart", "loadscopereorder",
    "timeout", "timeout_method", "session_timeout", "no_cov", "no_cov_on_fail",
})
SAFE_PREFIXES = ("cov_", "log_", "hypothesis_", "promote_")
#: pytest-promote's own options that change which tests a session collects or runs.
COLLECTING = frozenset({"promote_only", "promote_component", "promote_junit", "promote_from",
                        "promote_shard"})
#: ``-p`` values known not to change what is collected.
SAFE_PLUGINS = frozenset({"no:cacheprovider"})
CACHE_KEY = "promote/canonical"
#: Bumped when the cached form changes.
FORMAT = 1


@dataclasses.dataclass(frozen=True)
class CanonicalSuite:
    """The canonical suite: node id -> marker names, and what could not be collected
    (collector node id, as the file a user opens -> the error's last line)."""

    tests: dict[str, list[str]]
    errors: dict[str, str]
    #: Where it came from: "this session", "cache", "collect-only".
    how: str


# -- the child: a plugin loaded with ``-p pytest_promote.runner.canonical`` ----------

_errors: dict[str, str] = {}


def pytest_collectreport(report: pytest.CollectReport) -> None:
    """Keep what could not be collected (the canonical child only)."""
    if os.environ.get(LIST_ENV) and report.failed:
        _errors[report.nodeid or "."] = last_line(report)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Write everything collected, before any selection (the canonical child only)."""
    target = os.environ.get(LIST_ENV)
    if target:
        data = {"tests": collected(items), "errors": _errors}
        Path(target).write_text(json.dumps(data), encoding="utf-8")


def markers_of(item: pytest.Item) -> list[str]:
    """A test's marker names, sorted."""
    return sorted({m.name for m in item.iter_markers()})


def collected(items: list[pytest.Item]) -> dict[str, list[str]]:
    """The tests among ``items`` (no gate item): node id -> marker names."""
    return {i.nodeid: markers_of(i) for i in items if not i.nodeid.startswith("promote::")}


def last_line(report: pytest.CollectReport) -> str:
    """The last line of a collection error (``E   ModuleNotFoundError: ...``)."""
    lines = [line.strip() for line in str(report.longrepr).splitlines() if line.strip()]
    return (lines[-1].removeprefix("E").strip() if lines else "") or "could not be collected"


# -- the session ---------------------------------------------------------------------


def in_child() -> bool:
    """Whether this process is the canonical collection itself."""
    return bool(os.environ.get(LIST_ENV))


def not_canonical(config: pytest.Config) -> list[str]:
    """Why this session's collection may differ from the canonical one, as the user
    would name it (``running from tests/sub``, ``--ignore``, ``PYTEST_ADDOPTS=...``);
    empty only when every part of the invocation is known not to change it."""
    found = []
    here, root = config.invocation_params.dir, config.rootpath
    if here.resolve() != root.resolve():
        try:
            where = here.resolve().relative_to(root.resolve()).as_posix()
        except ValueError:
            where = str(here)
        found.append(f"running from {where}")
    found += [f"{name}={os.environ[name]!r}" for name in PYTEST_ENV if os.environ.get(name)]
    parser = getattr(config, "_parser", None)
    parse = getattr(parser, "parse_known_and_unknown_args", None)
    if parse is None:
        return [*found, "options pytest-promote cannot inspect"]
    given, unknown = parse(list(config.invocation_params.args))
    default, _ = parse([])
    if unknown:
        found.append("the arguments " + " ".join(unknown))
    flags = _flags(parser)
    for dest, value in sorted(vars(given).items()):
        if value == getattr(default, dest, None) or _safe(dest, value):
            continue
        if dest == "file_or_dir":
            found.append("the arguments " + " ".join(value))
        else:
            found.append(flags.get(dest, "--" + dest.replace("_", "-")))
    return list(dict.fromkeys(found))


#: Options that choose pytest's configuration file or rootdir (dest -> flag).
CONFIGURING = {"inifilename": "-c", "rootdir": "--rootdir"}


def unanchored(config: pytest.Config) -> str | None:
    """Why this session's rootdir and configuration are not the committed ones pytest
    finds by itself (None: they are): chosen by an option (``-c``, ``--rootdir``, from
    the command line or ``PYTEST_ADDOPTS``), or a rootdir that only the directory run
    from chose (no configuration file in it, below the repository's top)."""
    given = [flag for dest, flag in CONFIGURING.items() if config.getoption(dest, None)]
    if given:
        return f"pytest's configuration is chosen by {' and '.join(given)}, not found by pytest"
    root = config.rootpath.resolve()
    if config.inipath is not None and config.inipath.parent.resolve() == root:
        return None
    from pytest_promote._util import git

    top = git.git(root, "rev-parse", "--show-toplevel")
    if top is None or Path(top.strip()).resolve() == root:
        return None
    return (f"the rootdir {root.relative_to(Path(top.strip()).resolve()).as_posix()} holds no "
            "configuration file: the directory run from chose it; run from the project's root")


def ignored_conftests(config: pytest.Config) -> list[str]:
    """The conftest.py files this session loaded that git ignores: configuration that
    is no part of the commit (paths relative to the rootdir)."""
    root = config.rootpath.resolve()
    loaded = set()
    for plugin in config.pluginmanager.get_plugins():
        path = Path(getattr(plugin, "__file__", None) or "")
        if path.name == "conftest.py":
            try:
                loaded.add(path.resolve().relative_to(root).as_posix())
            except ValueError:
                continue  # outside the project: not the project's configuration
    if not loaded:
        return []
    from pytest_promote._util import git

    said = git.git(root, "check-ignore", "--no-index", *sorted(loaded))
    return sorted(line.strip() for line in (said or "").splitlines() if line.strip())


def _safe(dest: str, value: object) -> bool:
    if dest == "plugins":
        return isinstance(value, list) and all(v in SAFE_PLUGINS for v in value)
    return dest not in COLLECTING and (dest in SAFE or dest.startswith(SAFE_PREFIXES))


def _flags(parser: object) -> dict[str, str]:
    """Option dest -> its first flag (as the user would type it), where pytest tells."""
    groups = [getattr(parser, "_anonymous", None), *getattr(parser, "_groups", [])]
    found: dict[str, str] = {}
    for group in groups:
        for option in getattr(group, "options", []):
            names = option.names()
            if names:
                found.setdefault(option.dest, names[0])
    return found


def cache_key(config: pytest.Config) -> str | None:
    """What the canonical suite depends on besides the tree's files: the commit's
    tree, the interpreter, pytest and its installed plugins (None: no git tree)."""
    from importlib.metadata import entry_points

    from pytest_promote._util import git
    from pytest_promote._util.digest import digest

    tree = git.tree(config.rootpath)
    if tree is None:
        return None
    plugins = sorted(
        f"{ep.name}={ep.dist.name if ep.dist else ''}=={ep.dist.version if ep.dist else ''}"
        for ep in entry_points(group="pytest11")
    )
    return digest(FORMAT, tree, str(config.rootpath), sys.executable, sys.version,
                  pytest.__version__, plugins)


class Canonical:
    """Finds the canonical suite once per session: from the cache, from this session's
    own collection, or from a sanitized collect-only child."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        #: Whether the tree is clean, so the suite may be cached (set by the session).
        self.clean = False
        self._key: str | None = None
        self._suite: CanonicalSuite | None = None
        self._child: BackgroundTool | None = None
        self._file: Path | None = None

    @functools.cached_property
    def reasons(self) -> list[str]:
        """Why this session's collection is not the canonical one (empty: it is)."""
        return not_canonical(self.config)

    @functools.cached_property
    def unanchored(self) -> str | None:
        """Why no suite found here can be the canonical one (None: it can)."""
        ignored = ignored_conftests(self.config)
        if ignored:
            return f"{', '.join(ignored)} ignored by git: configuration the commit does not hold"
        return unanchored(self.config)

    def start(self, clean: bool) -> None:
        """Take the cached suite, or start the collect-only child when this session's
        collection cannot stand for the canonical one."""
        self.clean = clean
        if self._suite is not None or self._child is not None or in_child():
            return
        if not self.reasons:
            return  # this session's collection is the canonical one: nothing to look up
        cached = self._cached()
        if cached is not None:
            self._suite = cached
            return
        config = self.config
        fd, name = tempfile.mkstemp(prefix="promote-suite-", suffix=".json")
        os.close(fd)
        self._file = Path(name)
        config.add_cleanup(lambda: Path(name).unlink(missing_ok=True))
        argv = [sys.executable, "-m", "pytest", "--collect-only", "-p", "no:cacheprovider",
                "-p", __name__, f"--rootdir={config.rootpath}", "--verbosity=-1"]
        from pytest_promote.gates.environ import fresh_bytecode, project_environ

        env = fresh_bytecode(config, {k: v for k, v in project_environ(config).items() if k not in PYTEST_ENV})
        env[LIST_ENV] = name
        self._child = BackgroundTool("pytest", argv, config.rootpath, timeout=600.0, env=env,
                                     cleanup=config.add_cleanup)
        self._child.start()

    def from_session(self, tests: dict[str, list[str]], errors: dict[str, str]) -> None:
        """This session's own collection (node id -> markers), before any selection:
        the canonical suite when nothing in the invocation may have changed it."""
        if self._suite is None and self._child is None and not self.reasons and not in_child():
            self._suite = CanonicalSuite(dict(tests), dict(errors), "this session")
            self._store(self._suite)

    def suite(self) -> CanonicalSuite:
        """The canonical suite; ToolError when it cannot be found."""
        if self._suite is None and self._child is None:
            self.start(self.clean)
        if self._suite is not None:
            return self._suite
        if self._child is None:
            raise ToolError("the canonical suite is not known: this session collected nothing")
        code, out, err = self._child.wait()
        text = self._file.read_text(encoding="utf-8") if self._file else ""
        if code not in (0, 1, 2, 5) or not text:
            said = tail(out + err) or "(no output)"
            raise ToolError(f"cannot collect the canonical suite: {self._child.shown()} "
                            f"exited {code}:\n{said}")
        data = json.loads(text)
        self._suite = CanonicalSuite(dict(data["tests"]), dict(data["errors"]), "collect-only")
        self._store(self._suite)
        return self._suite

    def _cached(self) -> CanonicalSuite | None:
        cache = getattr(self.config, "cache", None)
        if cache is None or not self.clean:
            return None
        self._key = self._key or cache_key(self.config)
        entry = cache.get(CACHE_KEY, None)
        if not isinstance(entry, dict) or entry.get("key") != self._key or self._key is None:
            return None
        try:
            return CanonicalSuite(dict(entry["tests"]), dict(entry["errors"]), "cache")
        except (KeyError, TypeError, ValueError):
            return None  # a damaged entry is a miss

    def _store(self, suite: CanonicalSuite) -> None:
        cache = getattr(self.config, "cache", None)
        if cache is None or not self.clean:
            return
        self._key = self._key or cache_key(self.config)
        if self._key is not None:
            cache.set(CACHE_KEY, {"key": self._key, "tests": suite.tests, "errors": suite.errors})

