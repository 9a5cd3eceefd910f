"""pytest-timeout's limit is for the project's tests, never for a gate item."""

from __future__ import annotations

import pytest

from pytest_promote.runner.items import GateItem


class TimeoutHooks:
    """pytest-timeout's limit (``timeout`` in the ini file, ``--timeout``) is for the
    project's tests: a gate item is never interrupted by it. Each gate has a timeout
    of its own (its ``timeout`` option), which fails the gate closed, with a message."""

    @pytest.hookimpl(tryfirst=True, optionalhook=True)
    def pytest_timeout_set_timer(self, item: pytest.Item, settings: object) -> bool | None:
        """No timer for a gate item (True: pytest-timeout sets none)."""
        return True if isinstance(item, GateItem) else None

    @pytest.hookimpl(tryfirst=True, optionalhook=True)
    def pytest_timeout_cancel_timer(self, item: pytest.Item) -> bool | None:
        """Nothing to cancel for a gate item."""
        return True if isinstance(item, GateItem) else None
