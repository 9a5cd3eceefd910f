"""pytest-promote: every promotion gate is a pytest item.

The public surface for writing gates of your own is :mod:`pytest_promote.api`, re-exported
here; see docs/custom-gates.md.
Names load on first use, so the pytest entry point stays free of import cost.

The package's own asserts are not the tests' business: PYTEST_DONT_REWRITE. Its
commands (``python -m pytest_promote``) import it before they start pytest, and an
installed (not editable) copy is marked for assertion rewriting when pytest starts;
without this marker pytest would warn that it was imported too early, an error under
``filterwarnings = ["error"]``.
"""

from __future__ import annotations

import sys

if sys.argv and (sys.argv[0] == "-m" or sys.argv[0].endswith(("pytest-promote", "pytest-promote.exe"))):
    from pytest_promote._util import safepath

    if safepath.is_command():  # first of all, keep the checkout's files off the import path
        safepath.guard()

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pytest import hookimpl

    from pytest_promote.api import Finding, Gate, GateContext, GateResult, NoOptions, Secret, maximum, minimum

__version__ = "0.1.0"

_WHERE = {
    "Finding": "pytest_promote.api",
    "Gate": "pytest_promote.api",
    "GateContext": "pytest_promote.api",
    "GateResult": "pytest_promote.api",
    "NoOptions": "pytest_promote.api",
    "Secret": "pytest_promote.api",  # pragma: allowlist secret (a class name)
    "maximum": "pytest_promote.api",
    "minimum": "pytest_promote.api",
    "hookimpl": "pytest",  # pytest's own marker marks pytest_promote_* hooks too
}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(importlib.import_module(_WHERE[name]), name)
    raise AttributeError(f"module 'pytest_promote' has no attribute {name!r}")


__all__ = [
    "Finding",
    "Gate",
    "GateContext",
    "GateResult",
    "NoOptions",
    "Secret",
    "__version__",
    "hookimpl",
    "maximum",
    "minimum",
]
