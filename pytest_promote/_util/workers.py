"""Sharing work out between worker processes, one per available core."""

from __future__ import annotations

import heapq
import os
import sys
from collections.abc import Hashable, Mapping
from pathlib import Path
from typing import TypeVar

T = TypeVar("T", bound=Hashable)


def cores() -> int:
    """The cores this process may run on (its CPU affinity, where the system has one)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def worker_argv(script: Path, *args: str) -> list[str]:
    """The command that runs a worker script of this package in this interpreter.

    ``-P``: the script's directory is not put first on ``sys.path``, where this
    package's modules (``git.py``, ``policy.py``, ...) would shadow real ones.
    """
    return [sys.executable, "-P", str(script), *args]


def share_out(weights: Mapping[T, int], workers: int) -> list[list[T]]:
    """Tasks for each worker: heaviest first, each to the least-loaded worker.

    Ties are broken by the tasks' order, so the same weights always give the same
    shares; workers left without a task are dropped.
    """
    loads = [(0, index) for index in range(workers)]
    shares: list[list[T]] = [[] for _ in range(workers)]
    for task in sorted(weights, key=lambda t: (-weights[t], t)):
        load, index = heapq.heappop(loads)
        shares[index].append(task)
        heapq.heappush(loads, (load + weights[task] + 1, index))
    return [share for share in shares if share]
