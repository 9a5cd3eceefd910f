"""pytest-promote: every promotion gate is a pytest item.

The public surface for writing gates of your own; see the README's "Custom gates".
"""

from __future__ import annotations

import pytest

from pytest_promote.gate import Finding, Gate, GateContext, GateResult, NoOptions
from pytest_promote.schema import maximum, minimum

__version__ = "0.1.0"

#: Marks a ``pytest_promote_*`` hook implementation (it is pytest's own marker).
hookimpl = pytest.hookimpl

__all__ = [
    "Finding",
    "Gate",
    "GateContext",
    "GateResult",
    "NoOptions",
    "__version__",
    "hookimpl",
    "maximum",
    "minimum",
]
