"""Command gates: a user-named gate runs a command; exit status 0 passes."""

from __future__ import annotations

import dataclasses
import os
import shlex
import signal
import subprocess
import tempfile
import time
from typing import IO

from pytest_promote.gate import Gate, GateResult


@dataclasses.dataclass(frozen=True)
class CommandOptions:
    """``[tool.promote.gates.<id>]`` with a ``command``."""

    command: str | tuple[str, ...] = ()
    shell: bool = False
    timeout: float = 600.0
    after_tests: bool = False
    cwd: str | None = None
    tail: int = 20

    def __post_init__(self) -> None:
        if not self.command:
            raise ValueError("a command gate needs a `command` (a string or a list)")
        if self.timeout <= 0:
            raise ValueError("`timeout` must be a positive number of seconds")


class CommandGate(Gate):
    """Runs the command without a shell (unless ``shell = true``), with a timeout.

    It starts with the tests, so it costs no extra time, unless ``after_tests = true``
    (for a command that needs what the tests produce).
    """

    Options = CommandOptions
    title = "command"

    def start(self) -> None:
        """Launch the command now, unless it waits for the tests."""
        self._proc: subprocess.Popen[bytes] | None = None
        self._error: str | None = None
        if not self.options.after_tests:
            self._launch()

    def _argv(self) -> str | list[str]:
        cmd = self.options.command
        if self.options.shell:
            return cmd if isinstance(cmd, str) else shlex.join(cmd)
        return shlex.split(cmd) if isinstance(cmd, str) else list(cmd)

    def _launch(self) -> None:
        cwd = self.context.rootpath / (self.options.cwd or ".")
        self._out: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115 - kept open until evaluate()
        self._began = time.monotonic()
        try:
            self._proc = subprocess.Popen(
                self._argv(), shell=self.options.shell, cwd=cwd, stdin=subprocess.DEVNULL,
                stdout=self._out, stderr=subprocess.STDOUT, start_new_session=True,
            )
        except OSError as exc:
            self._error = f"{self.id}: cannot run {self._shown()}: {exc.strerror or exc}"

    def _shown(self) -> str:
        cmd = self.options.command
        return cmd if isinstance(cmd, str) else shlex.join(cmd)

    def evaluate(self) -> GateResult:
        """Wait for the command (within its timeout) and judge its exit status."""
        if self._proc is None and self._error is None:
            self._launch()
        if self._error or self._proc is None:
            return GateResult.error(self._error or f"{self.id}: did not start")
        remaining = self.options.timeout - (time.monotonic() - self._began)
        try:
            code = self._proc.wait(timeout=max(remaining, 0.01))
        except subprocess.TimeoutExpired:
            os.killpg(self._proc.pid, signal.SIGKILL)
            self._proc.wait()
            return GateResult.error(
                f"{self.id}: `{self._shown()}` timed out after {self.options.timeout:g}s\n"
                + self._tail(),
                measured="timeout", threshold="exit 0",
            )
        if code == 0:
            return GateResult.passed(f"{self.id}: `{self._shown()}` exited 0", measured=0, threshold=0)
        return GateResult.failed(
            f"{self.id}: `{self._shown()}` exited {code} (exit 0 required for "
            f"{self.context.stage})\n{self._tail()}",
            measured=code, threshold=0,
        )

    def _tail(self) -> str:
        self._out.seek(0)
        lines = self._out.read().decode("utf-8", "replace").splitlines()
        shown = lines[-self.options.tail :] if self.options.tail else []
        return "\n".join(["--- output (last lines) ---", *shown]) if shown else "(no output)"
