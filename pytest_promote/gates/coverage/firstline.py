"""Coverage from the interpreter's first line, as ``coverage run -m pytest`` counts it.

pytest imports some of a project's code before any plugin hook can start a tracer:
its own plugin (a ``pytest11`` entry point, ``-p NAME`` in ``addopts``), a package
pytest itself imports (``iniconfig``, ``packaging`` for ``minversion``). Their
import-time lines (``def``, ``class``, module constants) would never count.

So when the plugin, in ``pytest_load_initial_conftests``, finds such a module already
imported, it starts pytest again in the same process (``exec``) through :func:`main`:
coverage.py starts first, then pytest runs exactly as it was started (``pytest ...``
or ``python -m pytest ...``, same interpreter options, same arguments), and the
plugin adopts that tracer. Where it cannot (pytest run in-process by
``pytest.main()``, an xdist worker whose controller did not import the module),
:func:`missed` names the measured modules imported before measurement and the gate
fails closed rather than judge a figure known to be partial.

This module imports nothing but the standard library before coverage.py starts, so
nothing of pytest is imported unmeasured.
"""

from __future__ import annotations

import functools
import os
import runpy
import sys
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from coverage import Coverage

#: Set in the environment of the restarted process, read (and removed) by :func:`main`.
MARK = "PYTEST_PROMOTE_FIRST_LINE"
#: The tracer :func:`main` started (or why it could not), and what the environment
#: held of coverage.py's request to measure child processes before it started.
restarted = False
started: Coverage | None = None
error: str | None = None
process_config: str | None = None
#: Whether the plugin adopted that tracer (a pytest the tests run in-process does not).
taken = False
#: This package's directory: never part of a project's measurement.
OWN = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def main(argv: list[str]) -> None:
    """``python -m pytest_promote.gates.coverage.firstline module|path TARGET ARGS...``:
    start coverage.py, then run pytest's module or script with ``ARGS``."""
    global restarted, started, error, process_config
    kind, target, *args = argv
    restarted = True
    os.environ.pop(MARK, None)  # the tests' own processes are no restart
    process_config = os.environ.get("COVERAGE_PROCESS_CONFIG")
    try:
        import coverage

        cov = coverage.Coverage(data_file=None)
        omit_own(cov, os.getcwd())
        cov.start()
    except Exception as exc:  # a bad [tool.coverage] table: the gate fails closed
        error = f"coverage could not start: {type(exc).__name__}: {exc}"
    else:
        started = cov
    sys.argv = [target, *args]
    if kind == "module":
        runpy.run_module(target, run_name="__main__", alter_sys=True)
    else:
        runpy.run_path(target, run_name="__main__")


def measures_itself(root: str) -> bool:
    """Whether the project measured is pytest-promote itself (this package's directory
    under ``root``): then the plugin's own code is the project's, and counts as
    ``coverage run`` counts it."""
    return _under(OWN, root)


def omit_own(cov: Coverage, root: str) -> None:
    """Leave this package's files out of ``cov``'s measurement (before it starts),
    unless the project measured is pytest-promote itself."""
    if measures_itself(root):
        return
    omitted = cov.get_option("run:omit") or []
    cov.set_option("run:omit", [*omitted, os.path.join(OWN, "*")])  # type: ignore[list-item]


def loaded() -> frozenset[str]:
    """The real paths of the source files of every module imported so far."""
    files: set[str] = set()
    for module in list(sys.modules.values()):
        name = getattr(module, "__file__", None)
        if isinstance(name, str) and name.endswith(".py"):
            files.add(_real_path(name))
    return frozenset(files)


@functools.cache
def _real_path(name: str) -> str:
    """``os.path.realpath(name)``, once per module file and process: a run asks for
    every loaded module's path several times, and resolving thousands of them each
    time (a call to the system per path component) was a good part of its start."""
    return os.path.realpath(name)


def restart_argv(args: list[str]) -> list[str] | None:
    """The command that runs this pytest (given ``args``) again under :func:`main`;
    None when this process is no ``pytest`` / ``python -m pytest`` command with those
    arguments (``pytest.main()`` called by a program or a test, an xdist worker) or
    was restarted already."""
    main_module = sys.modules.get("__main__")
    spec = getattr(main_module, "__spec__", None)
    if restarted or os.environ.get(MARK) or args != sys.argv[1:]:
        return None
    if spec is not None and spec.name in ("pytest", "pytest.__main__"):
        where = ["module", "pytest"]
    elif spec is None and os.path.basename(getattr(main_module, "__file__", None) or "") in (
        "pytest", "py.test",
    ):
        where = ["path", os.path.abspath(main_module.__file__)]  # type: ignore[union-attr]
    else:
        return None
    import subprocess

    flags: list[str] = subprocess._args_from_interpreter_flags()  # type: ignore[attr-defined]
    return [sys.executable, *flags, "-m", __name__, *where, *sys.argv[1:]]


def restart(argv: list[str]) -> None:
    """Replace this process by ``argv`` (see :func:`restart_argv`), marked as restarted."""
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    os.execve(argv[0], argv, {**os.environ, MARK: "1"})


def measurable(files: Iterable[str], root: str, sources: Iterable[str]) -> list[str]:
    """Of ``files`` (imported before measurement), those a measurement would likely
    count: under the project's ``root`` or a ``source`` directory or package, and not
    installed in this interpreter's environment, nor this package's own (unless the
    project is this package)."""
    import sysconfig

    root = os.path.realpath(root)
    installed = {os.path.realpath(p) for p in sysconfig.get_paths().values()}
    installed |= {os.path.realpath(sys.prefix), os.path.realpath(sys.base_prefix)}
    named = [s for s in sources if s]
    mine = [p for p in installed if _under(p, root)]  # a virtual environment in the project
    out: list[str] = []
    ours = not measures_itself(root)
    for name in files:
        if ours and _under(name, OWN):
            continue
        in_source = any(_under(name, os.path.abspath(s)) or f"/{s.replace('.', '/')}/" in name
                        or name.endswith(f"/{s.replace('.', '/')}.py") for s in named)
        if in_source or (_under(name, root) and not any(_under(name, p) for p in mine)):
            out.append(name)
    return sorted(out)


def missed(
    before: frozenset[str], workers: Iterable[Iterable[str]], reported: Mapping[str, str]
) -> list[str]:
    """The reported files (``reported``: real path -> name shown) whose import-time lines
    no measuring process counted: imported before measurement here (``before``) or in a
    worker, and not imported under measurement here since."""
    measured_here = loaded() - before
    suspects = (set(before).union(*map(set, workers))) - measured_here
    return sorted(shown for real, shown in reported.items() if real in suspects)


def _under(path: str, parent: str) -> bool:
    return path == parent or path.startswith(parent.rstrip(os.sep) + os.sep)


if __name__ == "__main__":
    import importlib

    # The state lives in the module under its own name, where the plugin finds it.
    importlib.import_module("pytest_promote.gates.coverage.firstline").main(sys.argv[1:])
