"""Where the coverage gate's data comes from.

In a promotion run the plugin starts its own coverage.py tracer from
``pytest_load_initial_conftests`` (as pytest-cov does), so the project's conftests
and modules are measured exactly as ``coverage run -m pytest`` would measure them.
When pytest-cov (``--cov``) or ``coverage run`` already measures, their data is used
instead of a second tracer. pytest-xdist workers measure too and send their data
to the controller with their results. ``--promote-only`` reads the data file.

A project whose coverage configuration measures child processes (``patch =
["subprocess"]``, ``concurrency = ["multiprocessing"]``, ``parallel = true``) gets
their data in parallel data files next to the data file (``.coverage.<host>.<pid>...``);
they are combined as ``coverage combine`` does ([paths] included), and, when the
plugin's own tracer measured, deleted afterwards, as pytest-cov does. Coverage's
own warnings (a ``source`` never imported, no data collected, a data file that
cannot be read) go with the data to the gate.
"""

from __future__ import annotations

import contextlib
import dataclasses
import glob
import os
import tempfile
import warnings
from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from coverage import Coverage, CoverageData

MEASUREMENT_KEY = pytest.StashKey["Measurement"]()
GATHERED_KEY = pytest.StashKey["Gathered"]()
#: Where ``--promote-only`` takes the data from instead of the data file (the shard
#: bundles of ``--promote-from``); it raises NoCoverage when there is none.
SOURCE_KEY = pytest.StashKey[Callable[[], "Gathered"]]()
WORKER_DATA = "promote_coverage"  # keys in xdist's workeroutput
WORKER_WARNINGS = "promote_coverage_warnings"
WORKER_BEFORE = "promote_coverage_before"
KIND = "coverage"


@dataclasses.dataclass(frozen=True)
class Plan:
    """What the session tells the measurement as it makes its runs: the gate kinds its
    stages plan (without the coverage gate's, the measurement is discarded), and whether
    this process is a pytest-xdist worker (which sends its data to the controller)."""

    kinds: frozenset[str] = frozenset()
    worker: bool = False


PLAN_KEY = pytest.StashKey[Plan]()

class NoCoverage(Exception):
    """There is no coverage data to judge; the message says why and what to do."""


@dataclasses.dataclass(frozen=True)
class Gathered:
    """The session's coverage data, where it came from, and how to report on it."""

    data: CoverageData
    origin: str
    config_file: str | bool = True  # the coverage configuration to report with
    #: What coverage.py warned about while measuring and combining.
    warnings: tuple[str, ...] = ()
    #: The data files read (``--promote-only``).
    files: tuple[Path, ...] = ()
    #: How many parallel data files (child processes', ...) were combined.
    combined: int = 0


@contextlib.contextmanager
def recorded() -> Iterator[list[str]]:
    """coverage.py's warnings issued in the block, as its messages (each once)."""
    from coverage.exceptions import CoverageWarning

    said: list[str] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", CoverageWarning)
        yield said
    said += dict.fromkeys(
        str(w.message) for w in caught if issubclass(w.category, CoverageWarning)
    )


def not_installed(exc: ImportError) -> str:
    """What the gate says when coverage.py cannot be imported."""
    return f"coverage.py cannot be imported ({exc}); install it: pip install 'coverage>=7.4'"


def pytest_cov_requested(config: pytest.Config) -> bool:
    """Whether pytest-cov was asked to measure (``--cov`` without ``--no-cov``)."""
    namespace = config.known_args_namespace
    return bool(getattr(namespace, "cov_source", None)) and not getattr(
        namespace, "no_cov", False
    )


class Measurement:
    """Our tracer for one session (None when another one measures), and the data
    that xdist workers send back."""

    def __init__(
        self,
        config: pytest.Config,
        cov: Coverage | None,
        error: str | None,
        process_config: str | None = None,
    ) -> None:
        self.config = config
        self.cov = cov
        self.error = error
        self.data_file: Path | None = None
        if cov is not None:
            # Where `coverage run` would write, resolved now: a test may chdir.
            self.data_file = Path(os.path.abspath(str(cov.get_option("run:data_file"))))
        self.wanted = True
        self.from_workers: list[bytes] = []
        self.warnings: list[str] = []  # at start
        self.workers_warnings: list[list[str]] = []
        #: The files of the modules imported before the tracer started (none when it
        #: started with the interpreter), here and in each xdist worker.
        self.before: frozenset[str] = frozenset()
        self.workers_before: list[list[str]] = []
        # What the environment held before our start (`patch = ["subprocess"]` sets it).
        self.process_config = process_config
        self.configured = False

    def pytest_configure(self, config: pytest.Config) -> None:
        """From here on, pytest calls ``pytest_unconfigure`` whatever happens."""
        self.configured = True

    def stop(self) -> None:
        """Stop our tracer if it runs (idempotent)."""
        if self.cov is not None:
            with contextlib.suppress(Exception):
                self.cov.stop()

    @pytest.hookimpl(wrapper=True)
    def pytest_sessionstart(self, session: pytest.Session) -> Generator[None, None, None]:
        """Discard the measurement when the stage's plan has no coverage gate; else,
        before any test runs, erase the data files earlier runs left (``.coverage``
        and its parallel files), as pytest-cov does, so none is combined with this
        session's.

        pytest-xdist starts its workers meanwhile: they measure with a tracer of
        their own, as this process does and sends its data, not as child processes
        that coverage.py's ``patch = ["subprocess"]`` would have write data files.
        """
        plan = self.config.stash.get(PLAN_KEY, Plan())
        if KIND not in plan.kinds:
            self.wanted = False
            self.stop()
            self.cov = None
        elif self.data_file is not None and not plan.worker:
            from coverage import CoverageData

            with contextlib.suppress(OSError):  # writing the data later says what is wrong
                CoverageData(basename=str(self.data_file)).erase(parallel=True)
        hidden = os.environ.pop(PROCESS_CONFIG, None) if self.cov is not None else None
        try:
            return (yield)
        finally:
            if hidden is not None:
                os.environ[PROCESS_CONFIG] = hidden

    @pytest.hookimpl(wrapper=True)
    def pytest_runtestloop(self, session: pytest.Session) -> Generator[None, object, object]:
        """Stop our tracer once the last test has torn down, before any gate runs
        (``GateLoop``'s wrapper, registered later, holds this one): what the gates
        execute and import is never the project's coverage."""
        try:
            return (yield)
        finally:
            self.stop()

    def pytest_runtest_logfinish(self) -> None:
        """A test that ran pytest in-process leaves no tracer of a run that ended
        before pytest configured it stacked over ours."""
        stop_unconfigured()

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        """An xdist worker sends its data to the controller with its results."""
        if not (self.wanted and self.config.stash.get(PLAN_KEY, Plan()).worker):
            return
        cov = self.cov
        if cov is None and self.error is None and not pytest_cov_requested(self.config):
            import coverage

            cov = coverage.Coverage.current()  # `coverage run` patching subprocesses
        if cov is None:
            return
        self.stop()
        with recorded() as said:
            data = snapshot(cov, warn=True)
        self.config.workeroutput[WORKER_DATA] = data.dumps()  # type: ignore[attr-defined]
        self.config.workeroutput[WORKER_WARNINGS] = said  # type: ignore[attr-defined]
        self.config.workeroutput[WORKER_BEFORE] = sorted(self.before)  # type: ignore[attr-defined]

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: object) -> None:
        """The controller keeps each worker's data for the gate."""
        output = getattr(node, "workeroutput", None) or {}
        if WORKER_DATA in output:
            self.from_workers.append(output[WORKER_DATA])
            self.workers_warnings.append(list(output.get(WORKER_WARNINGS) or ()))
            self.workers_before.append(list(output.get(WORKER_BEFORE) or ()))

    @pytest.hookimpl(trylast=True)
    def pytest_unconfigure(self, config: pytest.Config) -> None:
        """Never leave a tracer running (a session that ended early, an in-process
        run). Parallel data files written after the gate combined the data (the
        xdist workers' own, saved as they exit) join the data file: none is left."""
        self.stop()
        if self.data_file is not None and os.environ.get(PROCESS_CONFIG) != self.process_config:
            os.environ.pop(PROCESS_CONFIG, None)
            if self.process_config is not None:
                os.environ[PROCESS_CONFIG] = self.process_config
        gathered = config.stash.get(GATHERED_KEY, None)
        if gathered is None or gathered.origin != OWN or self.data_file is None:
            return
        if parallel_files(self.data_file):
            from coverage.exceptions import CoverageException

            with contextlib.suppress(CoverageException), recorded():
                data, _ = combine_parallel(
                    gathered.data, self.data_file, gathered.config_file, keep=False
                )
                _save_or_warn(data, self.data_file)


#: Measurements started for runs that pytest has not configured yet, oldest first. A
#: run that ends before that (a usage error in its arguments or its options, a
#: conftest that cannot be imported) calls no hook of ours again, and its tracer would
#: trace on, stacked over any other: over an outer promotion's, which would then count
#: nothing more in this process. Such a tracer is stopped when the next run here starts
#: measuring, or when the test that ran it in-process ends.
STARTING: list[Measurement] = []


def stop_unconfigured() -> None:
    """Stop the tracers of runs that ended before pytest configured them, the newest
    first (coverage.py stops only the tracer on top of its stack)."""
    while STARTING:
        measurement = STARTING.pop()
        if not measurement.configured:
            measurement.stop()


#: coverage.py's request to child processes to measure themselves (``patch = ["subprocess"]``).
PROCESS_CONFIG = "COVERAGE_PROCESS_CONFIG"
OWN = "measured by pytest-promote"
PYTEST_COV = "measured by pytest-cov"


def snapshot(cov: Coverage, warn: bool = False) -> CoverageData:
    """A copy, in memory, of what ``cov`` has measured so far (it may still run).

    Unless ``warn``, coverage.py's warnings about the measurement ("module never
    imported", "no data") are not issued: a controller of xdist workers ran no test.
    """
    from coverage import CoverageData
    from coverage.exceptions import CoverageWarning

    with warnings.catch_warnings():
        if not warn:
            warnings.simplefilter("ignore", CoverageWarning)
        measured = cov.get_data()
    copy = CoverageData(no_disk=True)
    copy.update(measured)
    return copy


def parallel_files(data_file: Path) -> list[Path]:
    """The parallel data files next to ``data_file`` (``.coverage.*``), as ``coverage
    combine`` finds them."""
    pattern = os.path.join(glob.escape(str(data_file.parent)), glob.escape(data_file.name) + ".*")
    return sorted(Path(p) for p in glob.glob(pattern) if os.path.isfile(p))


def combine_parallel(
    data: CoverageData, data_file: Path, config_file: str | bool, keep: bool
) -> tuple[CoverageData, list[Path]]:
    """``data`` and the parallel data files next to ``data_file``, combined by
    coverage.py's own ``Coverage.combine`` (the project's [paths] remap them, and
    ``data`` too); each file is deleted once combined, unless ``keep``. Returns the
    combined data (in memory) and the files found."""
    import coverage
    from coverage import CoverageData

    files = parallel_files(data_file)
    if not files:
        return data, []
    combiner = coverage.Coverage(data_file=None, config_file=config_file)
    remap = bool(combiner.get_option("paths"))
    combined = CoverageData(no_disk=True)
    with tempfile.TemporaryDirectory(prefix="promote-coverage-") as tmp:
        sources = [str(p) for p in files]
        if remap:  # `coverage combine` remaps every file it reads, this process's too
            mine = Path(tmp, ".coverage.promote")
            write_data_file(data, mine)
            sources.append(str(mine))
        else:
            combined.update(data)
        combiner.combine(data_paths=sources, keep=keep)
        combined.update(combiner.get_data())
    return combined, files


def gather(config: pytest.Config, promote_only: bool, probe: Coverage | None = None) -> Gathered:
    """The session's coverage data (computed once per session, shared by every
    coverage gate); NoCoverage when there is none. ``probe``: see ``read_data_file``."""
    gathered = config.stash.get(GATHERED_KEY, None)
    if gathered is None:
        if promote_only:
            source = config.stash.get(SOURCE_KEY, None)
            gathered = source() if source is not None else read_data_file(probe)
        else:
            gathered = _measured(config)
        config.stash[GATHERED_KEY] = gathered
    return gathered


def _measured(config: pytest.Config) -> Gathered:
    """The data of this session's tracer (ours, pytest-cov's or ``coverage run``'s),
    the xdist workers' and the parallel data files of the processes the tests
    started. Those files are deleted only when our own tracer measured: pytest-cov
    and ``coverage combine`` combine them later."""
    import coverage

    measurement = config.stash.get(MEASUREMENT_KEY, None)
    if measurement is not None and measurement.error:
        raise NoCoverage(measurement.error)
    if measurement is not None and measurement.cov is not None:
        measurement.stop()
        cov, who, origin = measurement.cov, "pytest-promote's tracer", OWN
    elif (cov := _pytest_cov(config)) is not None:
        who, origin = "pytest-cov", PYTEST_COV
    elif (cov := coverage.Coverage.current()) is not None:
        who, origin = "coverage run", "measured by coverage run"
    else:
        raise NoCoverage(
            "nothing measured coverage in this session (pytest-cov was given --no-cov, or "
            "the tracer was not started); run with --promote-to without --promote-only"
        )
    # pytest-cov gathers its xdist workers' data itself.
    workers = measurement.from_workers if measurement and origin != PYTEST_COV else []
    warned = list(measurement.warnings) if measurement else []
    with recorded() as said:
        data = _with_workers(snapshot(cov, warn=not workers), workers)
    # A module never imported by any worker was never imported.
    warned += _common(measurement.workers_warnings) if workers and measurement else said
    data_file = measurement.data_file if origin == OWN and measurement else None
    data_file = data_file or data_file_path(cov)
    with recorded() as said:
        data, files = combine_parallel(data, data_file, configuration(cov)[0], keep=origin != OWN)
    _check_any(data, who, [*warned, *said])
    if origin == OWN:
        _save_or_warn(data, data_file)
    return Gathered(
        data, origin, configuration(cov)[0], tuple(dict.fromkeys([*warned, *said])),
        combined=len(files),
    )


def _common(lists: list[list[str]]) -> list[str]:
    """The messages every list holds, in the first list's order."""
    return [m for m in lists[0] if all(m in other for other in lists[1:])] if lists else []


def _with_workers(data: CoverageData, workers: list[bytes]) -> CoverageData:
    from coverage import CoverageData

    for blob in workers:
        worker = CoverageData(no_disk=True)
        worker.loads(blob)
        data.update(worker)
    return data


# pytest-cov has no public interface to its measurement outside a test: its own `cov`
# fixture reaches the Coverage object through the plugin it registers as "_cov" and
# that plugin's `cov_controller`, as `_pytest_cov` does; and nothing public ends its
# per-test contexts (the plugin it registers as "_cov_contexts"). These two functions
# are the only code that knows those names.
def _pytest_cov(config: pytest.Config) -> Coverage | None:
    """pytest-cov's Coverage object: still measuring in a one-process run; holding the
    combined data of every worker under xdist (its session wrapper has finished)."""
    import coverage

    plugin = config.pluginmanager.get_plugin("_cov")
    cov = getattr(getattr(plugin, "cov_controller", None), "cov", None)
    return cov if isinstance(cov, coverage.Coverage) else None


def end_pytest_cov_contexts(config: pytest.Config) -> None:
    """Stop pytest-cov's ``--cov-context=test`` from naming the items that run after
    the tests: its measurement has ended, and gates are no tests (before pytest-cov
    6.2, its plugin fails every item that runs after the measurement stopped)."""
    if (test_contexts := config.pluginmanager.get_plugin("_cov_contexts")) is not None:
        config.pluginmanager.unregister(test_contexts)


def configuration(cov: Coverage) -> tuple[str | bool, list[tuple[str, Any]]]:
    """The configuration file ``cov`` read (True when it read none: a Coverage object
    made with ``config_file=True`` looks for one again), so the report uses the same
    settings; and every setting ``cov`` holds, by name.

    coverage.py's public ``Coverage.get_option`` reads one setting by name; nothing
    public names the file a Coverage object read or lists its settings. Its
    ``config`` attribute holds both, and is read here only.
    """
    config = cov.config
    return config.config_file or True, sorted(vars(config).items())


def _check_any(data: CoverageData, who: str, said: list[str] | tuple[str, ...] = ()) -> None:
    if not data.measured_files():
        warned = f"; coverage.py warned: {' '.join(said)}" if said else ""
        raise NoCoverage(
            f"{who} collected no data: no measured file was executed "
            f"(check [tool.coverage.run] source / include / omit){warned}"
        )


def data_file_path(probe: Coverage | None = None) -> Path:
    """The data file the project's coverage configuration names (``.coverage``),
    as ``probe`` (by default a new, idle Coverage object) read that configuration."""
    if probe is None:
        import coverage

        probe = coverage.Coverage()  # reads .coveragerc / setup.cfg / tox.ini / pyproject.toml
    return Path(os.path.abspath(str(probe.get_option("run:data_file"))))


def declared_fail_under() -> float | None:
    """The project's own minimum (``[report] fail_under`` of its coverage
    configuration), or None when it declares none or it cannot be read (the
    coverage gate then says why)."""
    try:
        import coverage
        from coverage.exceptions import CoverageException
    except ImportError:
        return None
    try:
        # The settings of what measures this session, else of an idle probe.
        probe = coverage.Coverage.current() or coverage.Coverage(data_file=None)
        value = probe.get_option("report:fail_under")
    except CoverageException:
        return None
    return float(value) if isinstance(value, int | float) and value > 0 else None


def read_data_file(probe: Coverage | None = None) -> Gathered:
    """``--promote-only``: the data an earlier run left in the data file (the one
    ``probe``'s configuration names, see ``data_file_path``)."""
    from coverage import CoverageData
    from coverage.exceptions import CoverageException

    try:
        path = data_file_path(probe)
        config_file = configuration(probe)[0] if probe is not None else True
    except CoverageException as exc:
        raise NoCoverage(f"cannot read the coverage configuration: {exc}") from None
    found = [path] if path.is_file() else []
    if not found and not parallel_files(path):
        raise NoCoverage(
            f"no coverage data: {path.name} does not exist in {path.parent}; run the tests "
            "under coverage first (pytest --promote-to=STAGE, pytest --cov, or coverage run "
            "-m pytest), or drop --promote-only"
        )
    try:
        data = CoverageData(basename=str(path)) if found else CoverageData(no_disk=True)
        if found:
            data.read()
        # Left in place: a later `coverage combine` still finds them.
        with recorded() as said:
            data, files = combine_parallel(data, path, config_file, keep=True)
        _check_any(data, f"the data file {path.name}", said)
    except CoverageException as exc:
        raise NoCoverage(f"cannot read coverage data {path.name}: {exc}") from None
    origin = f"read from {path.name}" if found else "read from no data file"
    if files:
        origin += f" and {len(files)} parallel data files, combined as `coverage combine` would"
    return Gathered(
        data, origin, config_file, tuple(said), files=(*found, *files), combined=len(files)
    )


def _save_or_warn(data: CoverageData, path: Path) -> None:
    from coverage.exceptions import CoverageException

    try:
        write_data_file(data, path)
    except (OSError, CoverageException) as exc:  # the gate can still judge the data
        warnings.warn(
            pytest.PytestWarning(f"pytest-promote could not write {path}: {exc}"), stacklevel=2
        )


def write_data_file(data: CoverageData, path: Path) -> None:
    """Leave the combined data where ``coverage report`` (and a later
    ``--promote-only``) looks, as ``coverage run`` would; replaced atomically."""
    from coverage import CoverageData

    path.parent.mkdir(parents=True, exist_ok=True)
    # Not `.coverage.*`: `coverage combine` would take it for a parallel data file.
    tmp = path.with_name(".promote-tmp" + path.name)
    tmp.unlink(missing_ok=True)
    out = CoverageData(basename=str(tmp))
    out.update(data)
    out.write()
    close = getattr(out, "close", None)
    if close is not None:
        close(force=True)
    os.replace(tmp, path)
