"""Reusing stored results between local runs (never in CI)."""

from __future__ import annotations

import os

import pytest


def reuse_allowed(config: pytest.Config) -> bool:
    """Whether a stored result may stand in for a fresh one.

    Not with ``--promote-no-cache``, not in CI (``CI=true``), not without pytest's
    cache plugin (``-p no:cacheprovider``).
    """
    if config.getoption("promote_no_cache"):
        return False
    if os.environ.get("CI", "").lower() in ("true", "1", "yes"):
        return False
    return getattr(config, "cache", None) is not None
