"""pytest-promote's commands run in the test's own process, as ``python -m pytest_promote``
would run them in a process of their own.

A test whose point is not the separate process (the import guard, the console script,
warnings as a user's interpreter shows them, git's hooks) runs the command here: no
interpreter start-up per call, and the suite's coverage measurement sees the commands'
code. What a command changes in the process is put back afterwards, so no test sees
another's: the working directory, the environment (``approve`` gives git an identity
when it has none; ``baseline`` hides ``GITHUB_STEP_SUMMARY`` from its run), the module
search path, import hooks and the modules imported from the project (``baseline`` runs
pytest in this process), ``sys.argv``, the root logger and the warning filters.

Output that child processes of a command write to the inherited streams (the pytest a
``hook`` command starts) is not in the result: run those commands as processes.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import subprocess
import sys
import warnings
from collections.abc import Iterator, Mapping
from pathlib import Path

from pytest_promote.cli.main import main


def run(
    cwd: Path, *args: str, env: Mapping[str, str] | None = None, stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    """``python -m pytest_promote ARGS`` in ``cwd``, run in this process, with ``env``
    set on top of this process's environment and ``stdin`` as its standard input.

    Its exit status (argparse's exits included), standard output and error, as
    :func:`subprocess.run` with ``capture_output=True, text=True`` returns them. An
    exception the command lets out fails the test with its traceback, where a process
    would print it and exit 1.
    """
    out, err = io.StringIO(), io.StringIO()
    with _restored(Path(cwd)), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        os.environ.update(env or {})
        sys.stdin = io.StringIO(stdin)
        try:
            code = main(list(args))
        except SystemExit as exc:
            code = _status(exc)
    return subprocess.CompletedProcess(
        ["python", "-m", "pytest_promote", *args], code, out.getvalue(), err.getvalue()
    )


def _status(exc: SystemExit) -> int:
    """The exit status the interpreter gives ``exc`` (a message goes to stderr, status 1)."""
    if exc.code is None or isinstance(exc.code, int):
        return exc.code or 0
    print(exc.code, file=sys.stderr)
    return 1


@contextlib.contextmanager
def _restored(cwd: Path) -> Iterator[None]:
    """Run in ``cwd``; afterwards put back what a command may change in the process."""
    environ = dict(os.environ)
    path, meta_path, argv, stdin = list(sys.path), list(sys.meta_path), list(sys.argv), sys.stdin
    modules = set(sys.modules)
    root = logging.getLogger()
    handlers, level, disabled = list(root.handlers), root.level, logging.root.manager.disable
    try:
        with contextlib.chdir(cwd), warnings.catch_warnings():
            yield
    finally:
        for name in set(os.environ) - set(environ):
            del os.environ[name]
        os.environ.update(environ)
        sys.path[:], sys.meta_path[:], sys.argv[:], sys.stdin = path, meta_path, argv, stdin
        project = str(cwd.resolve())
        for name in set(sys.modules) - modules:  # pytest-promote's own stay: one copy of each class
            if name.partition(".")[0] != "pytest_promote" and _inside(
                getattr(sys.modules[name], "__file__", None), project
            ):
                del sys.modules[name]
        root.handlers[:] = handlers
        root.setLevel(level)
        logging.disable(disabled)


def _inside(file: object, directory: str) -> bool:
    """Whether ``file`` (a module's ``__file__``) lies under ``directory``."""
    return isinstance(file, str) and os.path.realpath(file).startswith(directory + os.sep)
