"""The environment of the processes a promotion starts to judge the project (the tool
gates, the command and drift gates, the workers, the canonical collection): pytest's
at start-up, and bytecode of their own.

They read the pytest configuration, so they live here and not with the launcher
(:mod:`pytest_promote._util.process`), which knows nothing of pytest.
"""

from __future__ import annotations

import functools
import os
import shutil
import tempfile
from collections.abc import Mapping

import pytest

from pytest_promote._util.process import unmeasured

#: The environment pytest started with, taken before the project's conftests ran.
ENVIRON_KEY = pytest.StashKey[dict[str, str]]()


def remember_environ(config: pytest.Config) -> None:
    """Keep the environment as it is now, at start-up (``pytest_load_initial_conftests``,
    before the conftests are imported): the one the tools run in."""
    config.stash[ENVIRON_KEY] = dict(os.environ)


def project_environ(config: pytest.Config | None) -> dict[str, str]:
    """The environment a gate's tool runs in: pytest's at start-up, as a user's own
    ``pyright`` or ``ruff`` at the project root would see it, whatever the tests'
    conftests later do to ``os.environ``; without coverage.py's requests to measure
    new processes. The current environment where none was kept (``config`` None)."""
    kept = config.stash.get(ENVIRON_KEY, None) if config is not None else None
    return unmeasured(kept)


def fresh_bytecode(config: pytest.Config, env: Mapping[str, str] | None = None) -> dict[str, str]:
    """``env`` (default: the current environment) for one Python process that imports
    the project's code to judge it: its bytecode goes to a new, empty directory of its
    own (``PYTHONPYCACHEPREFIX``), removed when the session ends.

    The process compiles the sources on disk as they are now and never trusts a
    ``.pyc`` in the tree's ``__pycache__`` (nor writes one there): Python checks a
    source only by its size and its mtime in whole seconds, so a module rewritten
    within the second at the same size would otherwise be judged as it was before.
    pytest's rewritten test modules follow the same prefix. The price is compiling
    what the process imports (about a second of CPU for pytest and its plugins).
    """
    prefix = tempfile.mkdtemp(prefix="promote-pycache-")
    config.add_cleanup(functools.partial(shutil.rmtree, prefix, ignore_errors=True))
    return {**(os.environ if env is None else env), "PYTHONPYCACHEPREFIX": prefix}
