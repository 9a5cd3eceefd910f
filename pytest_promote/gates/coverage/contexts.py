"""Coverage per component when one session judges several (``--promote-component=all``).

A component's coverage counts what its own tests executed, as its own run would.
While the session runs, each test (its setup, call and teardown) is measured in a
coverage.py dynamic context naming the components whose tests it is
(``promote:alpha,beta``), and the collection of each test file and directory (the
imports of its modules) in one naming the components it is collected for
(``promote-collect:alpha``); what runs outside them (pytest's start-up, plugins,
conftest.py files as pytest loads them) stays in the empty context, which every
component's own run executes too (a conftest.py below one component's tests, too,
counts for every component).

A component's data is the lines (and arcs) of its own contexts and the empty one.
A module is imported once per session, by whichever test file comes first: a
module a component's tests use but another component's test file imported first
ran its import-time lines in that other collection. So the lines another
component's collection executed in a file count too when the component's own
contexts executed any line of that file (its own run imported it then, and ran
them). Files measured with none of the component's lines are kept as unexecuted,
as coverage's ``source`` setting reports them.

The measurement fails closed: data with no component context (measured without
dynamic contexts), with contexts of someone else (``--cov-context``, coverage's
``dynamic_context``), or combined from child processes (whose data names no
component) is an error, never another component's coverage.
"""

from __future__ import annotations

import contextlib
import dataclasses
import re
from collections.abc import Callable, Generator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from pytest_promote.gates.coverage.sources import MEASUREMENT_KEY, Gathered, NoCoverage

if TYPE_CHECKING:
    from coverage import Coverage, CoverageData

#: Set when the session judges several components: coverage is taken per component.
PER_COMPONENT = pytest.StashKey[bool]()
TESTS = "promote:"
COLLECTION = "promote-collect:"


def label(kind: str, names: list[str]) -> str:
    """The dynamic context of what runs (``kind``: :data:`TESTS` or :data:`COLLECTION`)
    for the components ``names``; none: the empty context."""
    return kind + ",".join(sorted(names)) if names else ""


class ComponentContexts:
    """Switches the measuring tracer's dynamic context around each collection and
    each test, to the components the path is collected for (``owners``)."""

    def __init__(self, config: pytest.Config, owners: Callable[[str], list[str]]) -> None:
        self.config = config
        self.owners = owners
        self.current = ""  # collections nest (the session's holds its first directories)

    def _measuring(self) -> Coverage | None:
        measurement = self.config.stash.get(MEASUREMENT_KEY, None)
        if measurement is not None and measurement.cov is not None:
            return measurement.cov
        try:
            import coverage
        except ImportError:
            return None
        return coverage.Coverage.current()  # pytest-cov's, coverage run's

    @contextlib.contextmanager
    def _within(self, kind: str, path: Path) -> Generator[None, None, None]:
        cov = self._measuring()
        if cov is None:
            yield
            return
        from coverage.exceptions import CoverageException

        try:
            rel = path.relative_to(self.config.rootpath).as_posix()
        except ValueError:
            rel = ""
        outer, self.current = self.current, label(kind, self.owners(rel) if rel else [])
        with contextlib.suppress(CoverageException):  # not measuring (stopped): nothing to name
            cov.switch_context(self.current)
        try:
            yield
        finally:
            self.current = outer
            with contextlib.suppress(CoverageException):
                cov.switch_context(outer)

    @pytest.hookimpl(wrapper=True)
    def pytest_make_collect_report(self, collector: pytest.Collector) -> Generator[None, Any, Any]:
        """A test file or directory is collected (its module imported) in the context
        of the components it is collected for."""
        with self._within(COLLECTION, collector.path):
            return (yield)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_protocol(self, item: pytest.Item, nextitem: pytest.Item | None) -> Generator[None, Any, Any]:
        """A test runs in the context of the components whose tests its file holds; a
        gate item in the empty one."""
        if item.nodeid.startswith("promote::"):
            return (yield)
        with self._within(TESTS, item.path):
            return (yield)


def of_component(gathered: Gathered, name: str) -> Gathered:
    """The data of component ``name`` (see the module's description); NoCoverage when
    the data cannot tell the components apart."""
    import coverage
    from coverage import CoverageData

    if gathered.combined:
        raise NoCoverage(
            f"{gathered.combined} child processes' data was combined, and it names no "
            "component: it cannot be told apart by component; promote each component in a "
            "run of its own (--promote-component=NAME)"
        )
    static = coverage.Coverage(data_file=None, config_file=gathered.config_file).get_option("run:context")
    static = str(static or "")
    joined = f"{static}|" if static else ""
    data = gathered.data
    measured = sorted(data.measured_contexts())
    kinds = {c: next((k for k in (TESTS, COLLECTION) if c.startswith(joined + k)), None) for c in measured}
    foreign = [c for c in measured if c != static and kinds[c] is None]
    if foreign:
        raise NoCoverage(
            f"the data holds coverage contexts pytest-promote did not set ({', '.join(foreign[:3])}: "
            "pytest-cov's --cov-context, coverage's dynamic_context); they cannot be told apart by "
            "component: drop them, or promote each component in a run of its own"
        )
    if TESTS not in kinds.values():
        raise NoCoverage(
            "the data was not measured per component (no test ran in a component's coverage "
            "context); run the tests in this session (without --promote-only), with coverage's "
            "default core"
        )

    def names(context: str) -> list[str]:
        return context.removeprefix(joined + str(kinds[context])).split(",")

    own = _executed(data, [c for c in measured if c == static or name in names(c)])
    others = [c for c in measured if kinds[c] == COLLECTION and name not in names(c)]
    imported = _executed(data, others) if others else {}
    if not own:
        raise NoCoverage(f"component {name}'s tests executed no measured file")
    out = CoverageData(no_disk=True)
    for path, executed in own.items():
        if path in imported:
            executed = sorted({*executed, *imported[path]})
        if data.has_arcs():
            out.add_arcs({path: executed})
        else:
            out.add_lines({path: executed})
    for path in data.measured_files():
        tracer = data.file_tracer(path) or ""
        if path not in own:  # after the lines: coverage then knows lines from arcs
            out.touch_file(path, tracer)
        elif tracer:
            out.add_file_tracers({path: tracer})
    return dataclasses.replace(gathered, data=out, origin=f"{gathered.origin}, of component {name}'s tests")


def _executed(data: CoverageData, contexts: list[str]) -> dict[str, Any]:
    """Each measured file's lines (arcs, when measured) executed in ``contexts``."""
    data.set_query_contexts([f"^{re.escape(c)}$" for c in contexts])
    try:
        found = {}
        for path in data.measured_files():
            executed = data.arcs(path) if data.has_arcs() else data.lines(path)
            if executed:
                found[path] = executed
        return found
    finally:
        data.set_query_contexts(None)
