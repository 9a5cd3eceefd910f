"""The one process launcher: run a program in the background and collect its output,
failing closed.

Every process pytest-promote starts besides git goes through :class:`BackgroundTool`:
the tool gates (lint, types, ...), command and drift gates, the test counter, the
secrets scan's and the coverage analysis's workers. Each runs in its own process
group and session, killed whole when it ends, times out or the session stops early,
together with every descendant that left them (``setsid``, a daemon's double fork),
found by a mark in its environment; at a lower priority when it works beside the
tests, with its output in files. Everything that
can go wrong (not installed, not runnable, crashed, timed out, cancelled, printed
something that is not JSON) becomes a :class:`ToolError` whose message carries the
program's own words; a gate turns it into ``GateResult.error`` and never passes.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import importlib.util
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import IO, Any, cast

#: How much of a tool's own output an error message quotes.
TAIL_LINES = 15
#: How many characters of output of an unexpected shape an error message quotes.
HEAD_CHARS = 200
#: The niceness increment of tool gates' processes (see BackgroundTool.nice).
BACKGROUND_NICE = 10
#: coverage.py's requests that every new Python process measure itself: they are
#: for the processes the tests start, never for the gates' tools and workers.
MEASURING_VARIABLES = ("COVERAGE_PROCESS_START", "COVERAGE_PROCESS_CONFIG")
#: Set, to a value of its own, in the environment of every process started here: its
#: descendants inherit it, also those that leave its process group and session, so
#: that they end with it (see :func:`_end`).
MARK = "PYTEST_PROMOTE_PROCESS"
#: Where coverage.py writes its data (``coverage run``, pytest-cov): in a process the
#: plugin starts for itself, a directory of its own, deleted when the process ends.
DATA_FILE_VARIABLE = "COVERAGE_FILE"


class ToolError(Exception):
    """The tool could not give a usable result; the message says why, in its words."""


class TimedOut(ToolError):
    """The tool did not finish within its timeout, and was killed."""


class Cancelled(ToolError):
    """The tool was killed because its caller gave up on it."""


def unmeasured(env: Mapping[str, str] | None) -> dict[str, str]:
    """``env`` (None: this process's environment) without coverage.py's requests
    that a new Python process measure itself."""
    clean = dict(os.environ if env is None else env)
    for name in MEASURING_VARIABLES:
        clean.pop(name, None)
    return clean


def _spawn(
    argv: Sequence[str], *, env: Mapping[str, str] | None = None, nice: int = 0, **popen: Any
) -> tuple[subprocess.Popen[bytes], str]:
    """Start ``argv`` as the leader of a new process group (and session), so that
    :func:`_end` can reach every process it starts, also after it exited itself; and
    with :data:`MARK` in its environment, for the descendants that leave the group.
    The process, and the value of its mark.

    ``nice`` lowers the group's priority after the start (a background tool yields
    the CPU to the tests), never in the child before exec: ``preexec_fn`` is unsafe
    while threads run, and the secrets scan starts its workers from a thread.
    Raises OSError when ``argv`` cannot be started.
    """
    mark = uuid.uuid4().hex
    marked = {**(os.environ if env is None else env), MARK: mark}
    proc = cast(
        "subprocess.Popen[bytes]",
        subprocess.Popen(list(argv), start_new_session=True, env=marked, **popen),
    )
    if nice:
        with contextlib.suppress(OSError):  # already gone, or not permitted: no harm
            target = min(os.getpriority(os.PRIO_PROCESS, 0) + nice, 19)
            os.setpriority(os.PRIO_PGRP, proc.pid, target)
    return proc, mark


def _end(proc: subprocess.Popen[Any], mark: str) -> None:
    """Kill ``proc``'s whole process group (what it left running, too), then every
    process that still carries its ``mark`` (those that left the group: ``setsid``,
    a daemon), and reap ``proc``."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    # A process may fork while the others are killed: look again until none is left.
    for _ in range(SWEEPS):
        found = marked(mark)
        if not found:
            return
        for pid in found:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)


#: How often :func:`_end` looks for marked processes left running.
SWEEPS = 20


def marked(mark: str) -> list[int]:
    """The live processes of this user whose environment holds ``MARK=mark`` (found
    through ``/proc``; none where there is no ``/proc``). A process that cleared its
    environment (``env -i``) cannot be told apart, and is not found."""
    needle = f"{MARK}={mark}".encode()
    found = []
    try:
        entries = os.listdir("/proc")
    except OSError:
        return []
    for name in entries:
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/environ", "rb") as handle:
                if needle not in handle.read().split(b"\0"):
                    continue
            with open(f"/proc/{name}/stat", "rb") as handle:
                if handle.read().rsplit(b")", 1)[1].split()[0] == b"Z":
                    continue  # a zombie: already dead, its parent reaps it
        except (OSError, IndexError):
            continue  # gone, or another user's
        found.append(int(name))
    return found


def find_tool(name: str, module: str | None = None) -> list[str] | None:
    """The argv prefix that runs ``name``, or None when it is not installed.

    The executable next to the running interpreter comes first (the environment
    pytest-promote was installed into), then ``PATH``, then ``python -m module``.
    """
    beside = Path(sys.executable).parent / name
    if beside.is_file() and os.access(beside, os.X_OK):
        return [str(beside)]
    found = shutil.which(name)
    if found:
        return [found]
    if module and importlib.util.find_spec(module) is not None:
        return [sys.executable, "-m", module]
    return None


def tool_identity(argv: Sequence[str], dist: str) -> str:
    """What changes when the tool is upgraded: the installed ``dist`` version when the
    tool belongs to this interpreter's environment, else the executable's path and stat.
    """
    exe = Path(argv[0])
    local = argv[0] == sys.executable or exe.parent == Path(sys.executable).parent
    if local:
        try:
            return f"{dist}=={importlib.metadata.version(dist)}"
        except importlib.metadata.PackageNotFoundError:
            pass
    try:
        real = exe.resolve()
        stat = real.stat()
    except OSError:
        return " ".join(argv)
    return f"{real}:{stat.st_size}:{stat.st_mtime_ns}"


class BackgroundTool:
    """One run of an external tool, started now and collected later.

    ``name`` is how messages call the tool and ``hint`` what to do when it is missing;
    ``display`` replaces the command line in messages (e.g. a user's own command).
    ``timeout`` counts from the start (None: no limit); ``stdin`` is what the tool
    reads (nothing by default). ``cleanup`` registers :meth:`stop` once the tool is
    started (a gate passes ``config.add_cleanup``), so a session that ends early
    leaves nothing running.

    No process started here is measured by coverage.py or combined with the
    project's coverage data: coverage.py's requests to measure new processes are
    removed from its environment (``env``, else this process's), and a process the
    plugin starts for itself (``own``: a tool, a worker, a collect-only count) writes
    whatever coverage data it may still write (a ``--cov`` in the project's
    ``addopts``) to a directory of its own, deleted once it ended. A user's command
    (``own=False``) keeps the ``COVERAGE_FILE`` it was given.
    """

    def __init__(
        self,
        name: str,
        argv: Sequence[str] | None,
        cwd: Path | None,
        timeout: float | None,
        hint: str = "",
        env: Mapping[str, str] | None = None,
        nice: int = 0,
        display: str | None = None,
        cleanup: Callable[[Callable[[], None]], object] | None = None,
        stdin: bytes | None = None,
        own: bool = True,
    ) -> None:
        self.name = name
        self.own = own
        self.input = stdin
        self.cleanup = cleanup
        self.nice = nice
        self.display = display
        self.argv = list(argv) if argv else None
        self.cwd = cwd
        self.timeout = timeout
        self.hint = hint
        self.env = env
        self._proc: subprocess.Popen[bytes] | None = None
        self._mark = ""
        self._private: tempfile.TemporaryDirectory[str] | None = None
        self._error: str | None = None
        self._began = 0.0
        #: The tool's stdout and exit status, once :meth:`json_output` read them.
        self.stdout = ""
        self.returncode: int | None = None

    def start(self) -> None:
        """Launch the tool; a failure to launch is kept and reported by :meth:`wait`."""
        if self.argv is None:
            self._error = (
                f"{self.name} not found (neither beside {sys.executable} nor on PATH)"
            )
            return
        # Files, not pipes: a chatty tool never blocks on a full pipe while the tests
        # run; they are closed once read (in :meth:`wait`).
        self._out: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115
        self._err: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115
        stdin: IO[bytes] | int = subprocess.DEVNULL
        if self.input is not None:
            stdin = tempfile.TemporaryFile()  # noqa: SIM115
            stdin.write(self.input)
            stdin.seek(0)
        env = unmeasured(self.env)
        if self.own:
            self._private = tempfile.TemporaryDirectory(prefix="promote-tool-")
            env[DATA_FILE_VARIABLE] = os.path.join(self._private.name, ".coverage")
        self._began = time.monotonic()
        try:
            # Its own group, so its children (node, a command's background jobs) end with it.
            self._proc, self._mark = _spawn(
                self.argv, cwd=self.cwd, env=env, stdin=stdin,
                stdout=self._out, stderr=self._err, nice=self.nice,
            )
        except OSError as exc:
            self._error = f"cannot run {self.display or self.argv[0]}: {exc.strerror or exc}"
            self._forget_private()
            return
        finally:
            if not isinstance(stdin, int):
                stdin.close()  # the child has its own copy
        if self.cleanup is not None:
            self.cleanup(self.stop)

    def wait(self, cancel: threading.Event | None = None) -> tuple[int, str, str]:
        """Exit status, stdout and stderr, once the tool finished; ToolError otherwise
        (also when ``cancel`` is set while it runs: the tool is killed)."""
        if self._proc is None and self._error is None:
            self.start()
        if self._error is not None or self._proc is None:
            raise ToolError(self._with_hint(self._error or f"{self.name} did not start"))
        deadline = None if self.timeout is None else self._began + self.timeout
        try:
            code = self._wait(self._proc, deadline, cancel)
        except subprocess.TimeoutExpired:
            self._finish(self._proc)
            said = tail(_read(self._out) + _read(self._err)) or "(no output)"
            raise TimedOut(f"{self.shown()} timed out after {self.timeout:g}s\n{said}") from None
        except InterruptedError:
            self._finish(self._proc)
            self._out.close()
            self._err.close()
            raise Cancelled(f"{self.shown()} was cancelled") from None
        self._finish(self._proc)  # what it started in the background ends with it
        return code, _read(self._out), _read(self._err)

    def _finish(self, proc: subprocess.Popen[bytes]) -> None:
        """End ``proc``'s group (and what carries its mark), then delete its private
        data directory."""
        _end(proc, self._mark)
        self._forget_private()

    def _forget_private(self) -> None:
        if self._private is not None:
            self._private.cleanup()
            self._private = None

    @staticmethod
    def _wait(
        proc: subprocess.Popen[bytes], deadline: float | None, cancel: threading.Event | None
    ) -> int:
        """``proc``'s exit status; TimeoutExpired past ``deadline``, InterruptedError
        once ``cancel`` is set."""
        if cancel is None:
            left = None if deadline is None else max(deadline - time.monotonic(), 0.01)
            return proc.wait(timeout=left)
        while (code := proc.poll()) is None:
            if cancel.wait(0.05):
                raise InterruptedError
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(proc.args, deadline)
        return code

    def stop(self) -> None:
        """Kill the tool and every process of its group (the session ended early:
        Ctrl-C, SIGTERM, ``-x``, a crash before the gates ran, or it left children)."""
        if self._proc is not None:
            self._finish(self._proc)

    def json_output(self, ok_codes: Sequence[int]) -> Any:
        """The tool's stdout parsed as JSON, if it exited with one of ``ok_codes``."""
        code, out, err = self.wait()
        said = tail(err) or tail(out) or "(no output)"
        if code not in ok_codes:
            how = f"killed by signal {-code}" if code < 0 else f"exited {code}"
            raise ToolError(self._with_hint(f"{self.shown()} {how}:\n{said}"))
        self.stdout, self.returncode = out, code
        try:
            return json.loads(out)
        except ValueError:
            said = tail(out) or tail(err) or "(no output)"
            raise ToolError(
                self._with_hint(f"output of {self.shown()} is not JSON:\n{said}")
            ) from None

    def shown(self) -> str:
        """The command line as a user would type it (tool name and arguments)."""
        if self.display:
            return self.display
        argv = self.argv or [self.name]
        args = argv[3:] if argv[:2] == [sys.executable, "-m"] else argv[1:]
        return "`" + " ".join([self.name, *args]) + "`"

    def _with_hint(self, message: str) -> str:
        return f"{message}\n{self.hint}" if self.hint else message


def _read(handle: IO[bytes]) -> str:
    handle.seek(0)
    text = handle.read().decode("utf-8", "replace")
    handle.close()
    return text


def tail(text: str, lines: int = TAIL_LINES) -> str:
    """The last non-blank ``lines`` of ``text``."""
    kept = [line for line in text.strip().splitlines() if line.strip()]
    return "\n".join(kept[-lines:])
