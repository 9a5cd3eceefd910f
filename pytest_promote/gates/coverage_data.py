"""Where the coverage gate's data comes from.

In a promotion run the plugin starts its own coverage.py tracer from
``pytest_load_initial_conftests`` (as pytest-cov does), so the project's conftests
and modules are measured exactly as ``coverage run -m pytest`` would measure them.
When pytest-cov (``--cov``) or ``coverage run`` already measures, their data is used
instead of a second tracer. pytest-xdist workers measure too and send their data
to the controller with their results. ``--promote-only`` reads the data file.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from coverage import Coverage, CoverageData

MEASUREMENT_KEY = pytest.StashKey["Measurement"]()
GATHERED_KEY = pytest.StashKey["Gathered"]()
WORKER_DATA = "promote_coverage"  # key in xdist's workeroutput
KIND = "coverage"


class NoCoverage(Exception):
    """There is no coverage data to judge; the message says why and what to do."""


@dataclasses.dataclass(frozen=True)
class Gathered:
    """The session's coverage data, where it came from, and how to report on it."""

    data: CoverageData
    origin: str
    config_file: str | bool = True  # the coverage configuration to report with


def start_early(config: pytest.Config) -> None:
    """Start measuring, unless pytest-cov or ``coverage run`` already does.

    Called from ``pytest_load_initial_conftests``, before the project's conftests
    import its code. Nothing is known yet of the stage's plan: a run whose stage has
    no coverage gate stops and discards the measurement at session start.
    """
    cov: Coverage | None = None
    error: str | None = None
    try:
        import coverage
    except ImportError as exc:  # the gate reports it; the tests still run
        error = not_installed(exc)
    else:
        if not pytest_cov_requested(config) and coverage.Coverage.current() is None:
            cov, error = _start(coverage.Coverage)
    measurement = Measurement(config, cov, error)
    config.stash[MEASUREMENT_KEY] = measurement
    config.pluginmanager.register(measurement, "promote-coverage")


def _start(factory: type[Coverage]) -> tuple[Coverage | None, str | None]:
    try:
        # No data file: the data stays in memory until the gate (or, in an xdist
        # worker, the end of the session) takes it.
        cov = factory(data_file=None)
        cov.start()
    except Exception as exc:  # a bad [tool.coverage] table: the gate fails closed
        return None, f"coverage could not start: {type(exc).__name__}: {exc}"
    return cov, None


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

    def __init__(self, config: pytest.Config, cov: Coverage | None, error: str | None) -> None:
        self.config = config
        self.cov = cov
        self.error = error
        self.data_file: Path | None = None
        if cov is not None:
            # Where `coverage run` would write, resolved now: a test may chdir.
            self.data_file = Path(os.path.abspath(str(cov.get_option("run:data_file"))))
        self.wanted = True
        self.from_workers: list[bytes] = []

    def stop(self) -> None:
        """Stop our tracer if it runs (idempotent)."""
        if self.cov is not None:
            with contextlib.suppress(Exception):
                self.cov.stop()

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        """Discard the measurement when the stage's plan has no coverage gate."""
        from pytest_promote.run import RUN_KEY

        run = self.config.stash.get(RUN_KEY, None)
        kinds = {run.policy.gates[gid].kind for gid in run.stage.gates} if run else set()
        if KIND not in kinds:
            self.wanted = False
            self.stop()
            self.cov = None

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        """An xdist worker sends its data to the controller with its results."""
        from pytest_promote.session import is_worker

        if not (self.wanted and is_worker(self.config)):
            return
        cov = self.cov
        if cov is None and self.error is None and not pytest_cov_requested(self.config):
            import coverage

            cov = coverage.Coverage.current()  # `coverage run` patching subprocesses
        if cov is None:
            return
        self.stop()
        self.config.workeroutput[WORKER_DATA] = snapshot(cov).dumps()  # type: ignore[attr-defined]

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: object) -> None:
        """The controller keeps each worker's data for the gate."""
        output = getattr(node, "workeroutput", None) or {}
        if WORKER_DATA in output:
            self.from_workers.append(output[WORKER_DATA])

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        """Never leave a tracer running (a session that ended early, an in-process run)."""
        self.stop()


def snapshot(cov: Coverage) -> CoverageData:
    """A copy, in memory, of what ``cov`` has measured so far (it may still run)."""
    from coverage import CoverageData
    from coverage.exceptions import CoverageWarning

    with warnings.catch_warnings():
        # "module never imported" and "no data" are expected in a process that
        # ran part of the tests; the combined data is checked instead.
        warnings.simplefilter("ignore", CoverageWarning)
        measured = cov.get_data()
    copy = CoverageData(no_disk=True)
    copy.update(measured)
    return copy


def gather(config: pytest.Config, promote_only: bool, probe: Coverage | None = None) -> Gathered:
    """The session's coverage data (computed once per session, shared by every
    coverage gate); NoCoverage when there is none. ``probe``: see ``read_data_file``."""
    gathered = config.stash.get(GATHERED_KEY, None)
    if gathered is None:
        gathered = read_data_file(probe) if promote_only else _measured(config)
        config.stash[GATHERED_KEY] = gathered
    return gathered


def _measured(config: pytest.Config) -> Gathered:
    import coverage

    measurement = config.stash.get(MEASUREMENT_KEY, None)
    if measurement is not None and measurement.error:
        raise NoCoverage(measurement.error)
    if measurement is not None and measurement.cov is not None:
        measurement.stop()
        data = _with_workers(snapshot(measurement.cov), measurement)
        _check_any(data, "pytest-promote's tracer")
        if measurement.data_file is not None:
            _save_or_warn(data, measurement.data_file)
        return Gathered(data, "measured by pytest-promote", _config_file(measurement.cov))
    cov = _pytest_cov(config)
    if cov is not None:
        data = snapshot(cov)
        _check_any(data, "pytest-cov")
        return Gathered(data, "measured by pytest-cov", _config_file(cov))
    cov = coverage.Coverage.current()
    if cov is not None:
        data = _with_workers(snapshot(cov), measurement)
        _check_any(data, "coverage run")
        return Gathered(data, "measured by coverage run", _config_file(cov))
    raise NoCoverage(
        "nothing measured coverage in this session (pytest-cov was given --no-cov, or "
        "the tracer was not started); run with --promote-to without --promote-only"
    )


def _with_workers(data: CoverageData, measurement: Measurement | None) -> CoverageData:
    from coverage import CoverageData

    for blob in measurement.from_workers if measurement else ():
        worker = CoverageData(no_disk=True)
        worker.loads(blob)
        data.update(worker)
    return data


def _pytest_cov(config: pytest.Config) -> Coverage | None:
    """pytest-cov's Coverage object: still measuring in a one-process run; holding the
    combined data of every worker under xdist (its session wrapper has finished)."""
    import coverage

    plugin = config.pluginmanager.get_plugin("_cov")
    cov = getattr(getattr(plugin, "cov_controller", None), "cov", None)
    return cov if isinstance(cov, coverage.Coverage) else None


def _config_file(cov: Coverage) -> str | bool:
    """The configuration file ``cov`` read, so the report uses the same settings."""
    return getattr(getattr(cov, "config", None), "config_file", None) or True


def _check_any(data: CoverageData, who: str) -> None:
    if not data.measured_files():
        raise NoCoverage(
            f"{who} collected no data: no measured file was executed "
            "(check [tool.coverage.run] source / include / omit)"
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
        # An idle probe: in this process nothing measures yet that it could disturb.
        value = coverage.Coverage(data_file=None).get_option("report:fail_under")
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
    except CoverageException as exc:
        raise NoCoverage(f"cannot read the coverage configuration: {exc}") from None
    if not path.is_file():
        parallel = sorted(p.name for p in path.parent.glob(path.name + ".*"))
        hint = (
            f"; found {', '.join(parallel[:3])}: run `coverage combine` first"
            if parallel
            else "; run the tests under coverage first (pytest --promote-to=STAGE, "
            "pytest --cov, or coverage run -m pytest), or drop --promote-only"
        )
        raise NoCoverage(f"no coverage data: {path.name} does not exist in {path.parent}{hint}")
    data = CoverageData(basename=str(path))
    try:
        data.read()
        _check_any(data, f"the data file {path.name}")
    except CoverageException as exc:
        raise NoCoverage(f"cannot read coverage data {path.name}: {exc}") from None
    return Gathered(data, f"read from {path.name}")


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
    tmp = path.with_name(path.name + ".promote-tmp")
    tmp.unlink(missing_ok=True)
    out = CoverageData(basename=str(tmp))
    out.update(data)
    out.write()
    close = getattr(out, "close", None)
    if close is not None:
        close(force=True)
    os.replace(tmp, path)
