"""Ending a promotion run early on a signal, with everything it started.

CI runners cancel a job with SIGTERM (then SIGKILL after a grace period), a closed
terminal sends SIGHUP, Ctrl-C SIGINT. Python's default for SIGTERM and SIGHUP ends
the process at once: no cleanup runs, background tools and workers (each in its
own process group) keep running, and no ledger record is written. Here each of
the three becomes a ``KeyboardInterrupt``, which pytest handles as an interrupted
session: the session finishes (the verdict is RED, the ledger records which signal
ended the run) and every registered cleanup kills what the gates started.
"""

from __future__ import annotations

import signal
import threading
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pytest

    from pytest_promote.runner.run import PromoteRun

#: The signals that end a promotion run, by name (those the platform has).
SIGNALS = ("SIGTERM", "SIGHUP", "SIGINT")


class Terminated(KeyboardInterrupt):
    """The run was ended by a signal; pytest treats it as an interruption."""


def install(config: pytest.Config, runs: tuple[PromoteRun, ...]) -> None:
    """Turn the signals into :class:`Terminated` for this session (every run of it
    records the signal); restored after it."""
    if threading.current_thread() is not threading.main_thread():
        return  # signal handlers can only be set from the main thread

    def handler(signum: int, frame: Any) -> None:
        name = signal.Signals(signum).name
        if any(run.terminated is not None for run in runs):
            # Already ending: runners often signal the whole process group, or twice.
            # Raising again would break off the cleanup that ends what the gates started.
            return
        for run in runs:
            run.terminated = name
        raise Terminated(f"pytest-promote: {name} received, ending the run")

    previous = {}
    for name in SIGNALS:
        number = getattr(signal, name, None)
        if number is not None:
            previous[number] = signal.signal(number, handler)

    def restore() -> None:
        # A run a signal ended is exiting: a repeated signal (a runner signalling the
        # whole group, or twice) must not kill it before it has written its record.
        ended = any(run.terminated is not None for run in runs)
        for number, old in previous.items():
            signal.signal(number, signal.SIG_IGN if ended else old)

    config.add_cleanup(restore)
