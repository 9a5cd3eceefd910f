"""Command gates: a user-named gate runs a command; exit status 0 passes."""

from __future__ import annotations

import dataclasses
import shlex

from pytest_promote._util.paths import check_inside
from pytest_promote._util.process import BackgroundTool, ToolError, tail
from pytest_promote.api import Gate, GateResult
from pytest_promote.gates.environ import fresh_bytecode, project_environ
from pytest_promote.policy.schema import bounded, timeout


@dataclasses.dataclass(frozen=True)
class CommandOptions:
    """``[tool.promote.gates.<id>]`` with a ``command``."""

    command: str | tuple[str, ...] = ()
    shell: bool = False
    timeout: float = timeout(600.0)
    after_tests: bool = False
    cwd: str | None = None
    tail: int = bounded(20, 0, 10_000)

    def __post_init__(self) -> None:
        if not self.command:
            raise ValueError("a command gate needs a `command` (a string or a list)")
        if self.cwd is not None:
            check_inside("cwd", self.cwd)


class CommandGate(Gate):
    """Runs the command without a shell (unless ``shell = true``), with a timeout.

    It starts with the tests, so it costs no extra time, unless ``after_tests = true``
    (for a command that needs what the tests produce).
    """

    Options = CommandOptions
    title = "command"

    def start(self) -> None:
        """Launch the command now, unless it waits for the tests."""
        opts: CommandOptions = self.options
        cmd = opts.command if isinstance(opts.command, str) else shlex.join(opts.command)
        if opts.shell:
            argv = ["/bin/sh", "-c", cmd]
        else:
            argv = shlex.split(opts.command) if isinstance(opts.command, str) else list(opts.command)
        self._shown = cmd
        self._run = BackgroundTool(
            self.id, argv, self.context.rootpath / (opts.cwd or "."), opts.timeout, display=f"`{cmd}`",
            env=fresh_bytecode(self.context.config, project_environ(self.context.config)),
            cleanup=self.context.config.add_cleanup,
            own=False,  # the user's command: its COVERAGE_FILE is the user's
        )
        if not opts.after_tests:
            self._run.start()

    def evaluate(self) -> GateResult:
        """Wait for the command (within its timeout) and judge its exit status."""
        try:
            code, out, err = self._run.wait()
        except ToolError as exc:
            return GateResult.error(f"{self.id}: {exc}")
        if code == 0:
            return GateResult.passed(f"{self.id}: `{self._shown}` exited 0", measured=0, threshold=0)
        said = tail(out + err, self.options.tail)
        output = f"--- output (last lines) ---\n{said}" if said else "(no output)"
        return GateResult.failed(
            f"{self.id}: `{self._shown}` exited {code} (exit 0 required for {self.context.stage})\n{output}",
            measured=code, threshold=0,
        )
