"""``freeze``: fails while a freeze window of the stage is open; only an override lifts it.

The windows are the policy's (:mod:`pytest_promote.policy.freeze`).
"""

from __future__ import annotations

from pytest_promote._util import clock
from pytest_promote.api import Gate, GateResult


class FreezeGate(Gate):
    """Fails while one of the stage's freeze windows is open, naming it and its end."""

    title = "freeze windows"

    def evaluate(self) -> GateResult:
        """Check every window of the stage against the clock."""
        stage = self.context.stage
        now = clock.now()
        windows = [w for w in self.context.policy.freezes if stage in w.stages]
        open_ = [(w, until) for w in windows if (until := w.open_until(now)) is not None]
        when = now.isoformat(timespec="minutes")
        if not open_:
            return GateResult.passed(
                f"freeze: no freeze window open for {stage} at {when}{clock.note()}",
                measured="open: none", threshold="no window open",
            )
        window, until = max(open_, key=lambda pair: pair[1])
        ends = until.strftime("%Y-%m-%d %H:%M %Z")
        why = f": {window.reason}" if window.reason and window.reason != window.name else ""
        return GateResult.failed(
            f"freeze: {stage} is frozen by {window.name!r} until {ends}{why}; "
            f"only an override lifts it{clock.note()}",
            measured=f"open: {', '.join(w.name for w, _ in open_)}", threshold="no window open",
        )
