"""Work a gate starts before the tests and collects after them."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import TypeVar

T = TypeVar("T")


def in_background(work: Callable[[], T], name: str) -> Future[T]:
    """Run ``work`` in a daemon thread; its result (or exception) lands in the future.

    A daemon thread, not an executor: an interrupted session must be able to exit
    without waiting for a slow health check or SBOM build to finish.
    """
    future: Future[T] = Future()

    def run() -> None:
        if not future.set_running_or_notify_cancel():
            return
        try:
            future.set_result(work())
        except BaseException as exc:  # handed to whoever reads the result
            future.set_exception(exc)

    threading.Thread(target=run, name=f"promote-{name}", daemon=True).start()
    return future
