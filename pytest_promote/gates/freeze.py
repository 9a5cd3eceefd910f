"""``freeze``: fails while a freeze window of the stage is open; only an override lifts it.

The windows are the policy's (:mod:`pytest_promote.policy.freeze`).
"""

from __future__ import annotations

import pytest

from pytest_promote._util import clock
from pytest_promote.api import Gate, GateResult
from pytest_promote.policy.freeze import frozen


class FreezeGate(Gate):
    """Fails while one of the stage's freeze windows is open, naming it and its end."""

    title = "freeze windows"

    def evaluate(self) -> GateResult:
        """Check every window of the stage against the clock."""
        stage = self.context.stage
        try:
            now = clock.now()
        except clock.ClockError as exc:  # a usage error, as when the session read the clock
            raise pytest.UsageError(str(exc)) from None
        windows = self.context.policy.freezes
        open_ = [w.name for w in windows if stage in w.stages and w.open_until(now) is not None]
        said = frozen(windows, stage, now)
        if said is None:
            when = now.isoformat(timespec="minutes")
            return GateResult.passed(
                f"freeze: no freeze window open for {stage} at {when}{clock.note()}",
                measured="open: none", threshold="no window open",
            )
        return GateResult.failed(
            f"freeze: {stage} is {said}; only an override lifts it{clock.note()}",
            measured=f"open: {', '.join(open_)}", threshold="no window open",
        )
