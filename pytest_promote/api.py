"""The API for a gate of your own: its base class, its context, and the values it
states (its result, findings and secrets, re-exported from
:mod:`pytest_promote.result`).

A gate kind is a subclass of :class:`Gate`; a plugin (or a conftest) makes it known
through the ``pytest_promote_gate_kinds`` hook. The built-in gates use the same hook.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from pytest_promote.policy.stage import Mode
from pytest_promote.result import Finding, GateResult, Measure, ResultDetails, Secret, Status, findings_text

if TYPE_CHECKING:
    import pytest

    from pytest_promote.policy.model import Policy
    from pytest_promote.runner.testlog import TestLog


@dataclasses.dataclass(frozen=True)
class GateContext:
    """What a gate may know about the session it judges."""

    config: pytest.Config
    rootpath: Path
    stage: str
    policy: Policy
    promote_only: bool
    tests: TestLog
    #: In a pre-check of some files (``pytest --promote-precheck``, the pre-commit
    #: hook): those files, relative to the root in POSIX form; None in a promotion run,
    #: which judges every file under the paths.
    files: tuple[str, ...] | None = None

    @property
    def paths(self) -> tuple[str, ...] | None:
        """The policy's ``paths`` (what lint, types and secrets look at), or None; in a
        component's run, the paths holding its files."""
        return self.policy.paths

    def paths_for(self, own: tuple[str, ...] | None) -> tuple[str, ...] | None:
        """What a gate with its own ``paths`` option looks at: a component's files in
        its run (whatever the option says), else ``own``, else :attr:`paths`. In a
        pre-check, only the :attr:`files` given that lie under those paths (all of
        them when no path is set), maybe none."""
        scope = self.policy.paths if self.policy.component is not None else own or self.policy.paths
        if self.files is None:
            return scope
        return tuple(f for f in self.files if scope is None or _under(f, scope))


@dataclasses.dataclass(frozen=True)
class NoOptions:
    """The options of a gate kind that takes none."""


class Gate:
    """Base class of a gate kind.

    Subclasses set ``Options`` to a frozen dataclass describing the keys they accept
    under ``[tool.promote.gates.<id>]`` and per stage; a field whose metadata has
    ``tighten="up"`` (a minimum) may only rise from stage to stage, ``"down"`` (a
    maximum) only fall. ``start`` begins background work as soon as the session
    knows which gates will run; ``evaluate`` returns the result after the tests.
    """

    Options: ClassVar[type] = NoOptions
    #: Plain-language name for listings ("coverage", "ruff check", ...).
    title: ClassVar[str] = ""
    #: The modules the gate imports that pytest-promote's base install lacks, and the
    #: extra that installs them (``pip install "pytest-promote[extra]"``).
    requires: ClassVar[tuple[str, ...]] = ()
    extra: ClassVar[str] = ""
    #: Whether the gate judges files one by one (lint, types and secrets do), so that
    #: its result over some files is their result. Only such gates run in a pre-check
    #: of a commit's files (``pytest --promote-precheck``, the pre-commit hook), with
    #: :attr:`GateContext.files` set; each reads what to look at from
    #: :meth:`GateContext.paths_for`.
    per_file: ClassVar[bool] = False

    def __init__(self, gate_id: str, options: Any, context: GateContext) -> None:
        self.id = gate_id
        self.options = options
        self.context = context

    def missing(self) -> str | None:
        """Why this gate cannot run in this environment, or None when it can.

        Called first: a gate that names something missing errors with that message
        (it fails closed) and is neither fingerprinted, started nor evaluated.
        """
        import importlib.util

        absent = [name for name in self.requires if importlib.util.find_spec(name) is None]
        if not absent:
            return None
        return f"{', '.join(absent)} not installed; {install_hint(self.extra)}"

    def judged_files(self) -> tuple[str, ...]:
        """In a pre-check (:attr:`GateContext.files` set): the files given that this
        gate judges (default: those under its ``paths`` option, else the policy's). A
        gate given none is not run: it never passes what it did not judge."""
        return self.context.paths_for(getattr(self.options, "paths", None)) or ()

    def fingerprint(self) -> str | None:
        """What this gate's result depends on, as a string; None: not cacheable.

        Called before :meth:`start`. When a local run (not CI, not
        ``--promote-no-cache``) finds a stored result of this gate at this stage
        with the same fingerprint, that result is reused (``GateResult.cached``)
        and neither ``start`` nor ``evaluate`` is called. So the fingerprint must
        cover every input: the files the gate reads, the tool's version, its
        configuration and ``self.options``. Gates that judge this session's tests
        must return None (the default).
        """
        return None

    def start(self) -> None:
        """Begin work that can overlap the test run (default: nothing)."""

    def secrets(self) -> Iterable[str | Secret]:
        """Secret values this gate found, after :meth:`evaluate` (default: none),
        each a string or a :class:`Secret` naming its line.

        Every output of the run masks them in its free text; a gate that finds
        secrets is evaluated before the others, so their messages are masked too.
        """
        return ()

    def evaluate(self) -> GateResult:
        """Judge and return the result; called once, after the tests."""
        raise NotImplementedError(f"{type(self).__name__} must implement evaluate()")


def minimum(
    default: float | None, doc: str = "", low: float = 0, high: float = 1e9
) -> Any:
    """A dataclass field for a threshold that may only rise from stage to stage,
    within ``[low, high]``."""
    return dataclasses.field(
        default=default, metadata={"tighten": "up", "doc": doc, "range": (low, high)}
    )


def maximum(
    default: float | None, doc: str = "", low: float = 0, high: float = 1e9
) -> Any:
    """A dataclass field for a limit that may only fall from stage to stage, within
    ``[low, high]``."""
    return dataclasses.field(
        default=default, metadata={"tighten": "down", "doc": doc, "range": (low, high)}
    )


def _under(path: str, places: Iterable[str]) -> bool:
    """Whether the project-relative POSIX ``path`` is one of the literal paths
    ``places`` (files or directories, as a policy's ``paths`` names them; ``.`` is the
    root) or lies below one."""
    for place in places:
        bare = place.removeprefix("./").rstrip("/")
        if bare in ("", ".") or path == bare or path.startswith(bare + "/"):
            return True
    return False


def install_hint(extra: str) -> str:
    """How to install what the gates of ``extra`` need."""
    return f'install it: pip install "pytest-promote[{extra}]"'


def relative(path: Path, root: Path) -> str:
    """``path`` relative to ``root`` in POSIX form, as findings show it."""
    for candidate, base in ((path, root), (path.resolve(), root.resolve())):
        try:
            return candidate.relative_to(base).as_posix()
        except ValueError:
            continue
    return path.as_posix()


__all__ = [
    "Finding",
    "Gate",
    "GateContext",
    "GateResult",
    "Measure",
    "Mode",
    "NoOptions",
    "ResultDetails",
    "Secret",
    "Status",
    "findings_text",
    "install_hint",
    "maximum",
    "minimum",
    "relative",
]
