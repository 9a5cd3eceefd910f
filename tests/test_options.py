"""The options object checks the rules between flags as it is built."""

from __future__ import annotations

import pytest

from pytest_promote.runner.options import PromoteOptions


def test_the_status_runs_no_gates() -> None:
    with pytest.raises(pytest.UsageError, match="--promote-status runs no gates; drop --promote-to"):
        PromoteOptions(status=True, to="development")


def test_a_status_takes_what_only_a_promotion_needs_a_stage_for() -> None:
    """``--promote-status`` reads the ledger: flags of a promotion do not need ``--promote-to`` there."""
    assert PromoteOptions(status=True, only=True, component="alpha").component == "alpha"
