"""When the coverage gate's measurement starts: before the project's conftests import
its code, and from the interpreter's first line when pytest imported measured code
earlier still (see :mod:`~pytest_promote.gates.coverage.firstline`)."""

from __future__ import annotations

import contextlib
import os
import weakref
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from pytest_promote.gates.coverage import firstline
from pytest_promote.gates.coverage.sources import (
    MEASUREMENT_KEY,
    PROCESS_CONFIG,
    STARTING,
    Measurement,
    not_installed,
    pytest_cov_requested,
    recorded,
    stop_unconfigured,
)

if TYPE_CHECKING:
    from coverage import Coverage


#: The tracers this plugin started. One of them running is no ``coverage run``: it is
#: an outer promotion whose tests run pytest in-process (this project's own suite),
#: and the inner run measures on its own, its tracer stacked on the outer one.
OURS: weakref.WeakSet[Coverage] = weakref.WeakSet()


def start_early(config: pytest.Config) -> None:
    """Start measuring, unless pytest-cov or ``coverage run`` already does.

    Called from ``pytest_load_initial_conftests``, before the project's conftests
    import its code. Nothing is known yet of the stage's plan: a run whose stage has
    no coverage gate stops and discards the measurement at session start.
    """
    stop_unconfigured()
    cov: Coverage | None = None
    error: str | None = None
    said: list[str] = []
    process_config = os.environ.get(PROCESS_CONFIG)  # before our start may set it
    before = firstline.loaded()
    try:
        import coverage
    except ImportError as exc:  # the gate reports it; the tests still run
        error = not_installed(exc)
    else:
        if firstline.restarted and not firstline.taken:  # measured from the first line
            firstline.taken = True  # a pytest run in-process by the tests starts its own
            cov, error, before = firstline.started, firstline.error, frozenset()
            if cov is not None:
                OURS.add(cov)
            process_config = firstline.process_config
        elif pytest_cov_requested(config):
            pass  # pytest-cov starts now: what was imported before, it misses too
        elif coverage.Coverage.current() is not None and coverage.Coverage.current() not in OURS:
            before = frozenset()  # `coverage run` measures from the first line
        else:
            _restart_if_missed(config, before)
            with recorded() as said:
                cov, error = _start(coverage.Coverage, str(config.rootpath))
    measurement = Measurement(config, cov, error, process_config)
    measurement.before = before
    measurement.warnings += said if cov is not None else []
    config.stash[MEASUREMENT_KEY] = measurement
    config.pluginmanager.register(measurement, "promote-coverage")
    if cov is not None:
        STARTING.append(measurement)
        # A run pytest never configured still runs its cleanups, where pytest ends it.
        config.add_cleanup(measurement.stop)


def _restart_if_missed(config: pytest.Config, before: frozenset[str]) -> None:
    """Run this pytest again from coverage's first line when measured code was
    imported before now (see :mod:`~pytest_promote.gates.coverage.firstline`)."""
    import coverage
    from coverage.exceptions import CoverageException

    argv = firstline.restart_argv(list(config.invocation_params.args))
    if argv is None:
        return
    try:
        probe = coverage.Coverage(data_file=None)
        sources = [s for key in ("run:source", "run:source_pkgs")
                   for s in _strings(probe.get_option(key))]
    except CoverageException:
        return  # the start below says what is wrong
    if firstline.measurable(before, str(config.rootpath), sources):
        firstline.restart(argv)


def _start(factory: type[Coverage], root: str) -> tuple[Coverage | None, str | None]:
    try:
        # No data file: the data stays in memory until the gate (or, in an xdist
        # worker, the end of the session) takes it.
        cov = factory(data_file=None)
        firstline.omit_own(cov, root)
        cov.start()
        OURS.add(cov)
    except Exception as exc:  # a bad [tool.coverage] table: the gate fails closed
        return None, f"coverage could not start: {type(exc).__name__}: {exc}"
    return cov, None


def _strings(value: object) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else []


@contextlib.contextmanager
def paused(config: pytest.Config) -> Iterator[None]:
    """Our tracer paused while the plugin's own code runs (its policy, its gates'
    setup): no line it executes counts. A module first imported meanwhile missed its
    import-time lines, so it counts as imported before measurement (the gate fails
    closed if the project's figure reports it). Not paused when the project is
    pytest-promote itself: its code running is the project's, as ``coverage run``
    counts it."""
    measurement = config.stash.get(MEASUREMENT_KEY, None)
    cov = measurement.cov if measurement is not None else None
    if measurement is None or cov is None or firstline.measures_itself(str(config.rootpath)):
        yield
        return
    was = firstline.loaded()
    cov.stop()
    try:
        yield
    finally:
        measurement.before |= firstline.loaded() - was
        if measurement.cov is cov:  # not discarded meanwhile
            cov.start()
