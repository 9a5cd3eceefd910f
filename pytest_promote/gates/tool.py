"""The base of the gates that run one external tool (ruff, pyright, ...) and judge its JSON."""

from __future__ import annotations

import dataclasses
import sys
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any, ClassVar

from pytest_promote._util.jsonpath import Shape, mismatch
from pytest_promote._util.process import (
    BACKGROUND_NICE,
    HEAD_CHARS,
    BackgroundTool,
    ToolError,
    find_tool,
    tool_identity,
)
from pytest_promote.api import Gate, GateContext, GateResult
from pytest_promote.gates.environ import project_environ


class ToolGate(Gate):
    """A gate that runs one external tool over source paths and judges its JSON.

    Subclasses name the tool and implement :meth:`arguments` and :meth:`judge`;
    the tool starts with the tests, and the result is cacheable by the files under
    the paths, the configuration files, the tool's version and the options.
    """

    #: The executable's name, and the distribution whose version identifies it.
    tool: ClassVar[str] = ""
    dist: ClassVar[str] = ""
    #: ``python -m <module>`` when the executable is not found (None: no fallback).
    module: ClassVar[str | None] = None
    #: What to do when the tool is missing or cannot run.
    hint: ClassVar[str] = ""
    #: Exit statuses after which the output is a result (others are failures to run).
    ok_codes: ClassVar[tuple[int, ...]] = (0, 1)
    #: The source files whose contents the result depends on.
    suffixes: ClassVar[tuple[str, ...]] = (".py", ".pyi")
    #: The structure of the JSON :meth:`judge` relies on (see ``jsonpath.mismatch``).
    shape: ClassVar[Shape] = object
    #: The variables of its environment (names or patterns) that change what the tool
    #: reports: stated with every result the tool gave while one is set.
    reads: ClassVar[tuple[str, ...]] = ()

    def __init__(self, gate_id: str, options: Any, context: GateContext) -> None:
        super().__init__(gate_id, options, context)
        self.command = find_tool(self.tool, self.module)
        self._run: BackgroundTool | None = None

    @property
    def paths(self) -> tuple[str, ...] | None:
        """The gate's ``paths`` option, else the policy's ``paths``, else None (the
        tool's own default at the project root); a component's files in its run; in a
        pre-check, the files given under those paths that end with :attr:`suffixes`."""
        found = self.context.paths_for(getattr(self.options, "paths", None))
        if self.context.files is None:
            return found
        return tuple(f for f in found or () if f.endswith(self.suffixes))

    def judged_files(self) -> tuple[str, ...]:
        """In a pre-check: the files given that the tool is handed."""
        return self.paths or ()

    def arguments(self) -> list[str]:
        """The tool's arguments (after the executable)."""
        raise NotImplementedError

    def environment(self) -> dict[str, str]:
        """The tool's environment (see :func:`project_environ`)."""
        return project_environ(self.context.config)

    def judge(self, data: Any) -> GateResult:
        """The result from the tool's parsed JSON output."""
        raise NotImplementedError

    def inputs(self) -> list[Path] | None:
        """Every file the tool may read (None: cannot tell, so never cached)."""
        from pytest_promote.gates.cache import source_files

        return source_files(self.context.rootpath, self.paths, self.suffixes)

    def missing(self) -> str | None:
        """The tool is not installed: where it was looked for, and how to install it."""
        if self.command is not None:
            return super().missing()
        return f"{self.tool} not found (neither beside {sys.executable} nor on PATH)\n{self.hint}"

    def fingerprint(self) -> str | None:
        """The tool's identity, the options, its environment and every file the tool
        may read."""
        if self.command is None:
            return None  # an error is never stored; nothing to fingerprint
        root = self.context.rootpath
        from pytest_promote.gates.cache import environment_digest, files_digest

        files = self.inputs()
        if files is None:
            return None
        return "\n".join(
            [
                tool_identity(self.command, self.dist),
                repr(self.options),
                repr(self.paths),
                environment_digest(self.environment()),
                files_digest(root, files),
            ]
        )

    def start(self) -> None:
        """Launch the tool in the project root, so its own configuration applies."""
        argv = [*self.command, *self.arguments()] if self.command else None
        self._run = BackgroundTool(
            self.tool, argv, self.context.rootpath, getattr(self.options, "timeout", 600.0),
            hint=self.hint, env=self.environment(), nice=BACKGROUND_NICE,
            cleanup=self.context.config.add_cleanup,
        )
        self._run.start()

    def evaluate(self) -> GateResult:
        """Wait for the tool and judge its output; any failure to run is an error."""
        if self._run is None:
            self.start()
        assert self._run is not None
        try:
            data = self._run.json_output(self.ok_codes)
            wrong = mismatch(data, self.shape) or self.disagrees(data) or self.implausible(data)
            if wrong is None:
                return self.stated(self.judge(data))
        except ToolError as exc:
            return GateResult.error(f"{self.id}: {exc}")
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            wrong = f"{type(exc).__name__}: {exc}"
        began = self._run.stdout.strip()[:HEAD_CHARS] or "(nothing)"
        return GateResult.error(
            f"{self.id}: {self._run.shown()} printed output of an unexpected shape, "
            f"judged as nothing: {wrong}; it began: {began}"
        )

    def implausible(self, data: Any) -> str | None:
        """What makes well-shaped output impossible for this tree, or None."""
        return None

    def stated(self, result: GateResult) -> GateResult:
        """``result`` saying which tool judged (``figures.tool``: its command and
        version) and under which of the variables it :attr:`reads` (``figures.environment``,
        and the summary), so that no variable changes a verdict unsaid."""
        assert self.command is not None  # a result came from the tool
        tool = {"command": " ".join(self.command), "version": tool_identity(self.command, self.dist)}
        env = self.environment()
        setting = {k: env[k] for k in sorted(env) if any(fnmatchcase(k, p) for p in self.reads)}
        figures = {**(result.figures or {}), "tool": tool}
        summary = result.summary
        if setting:
            figures["environment"] = setting
            summary += f" (with {', '.join(f'{k}={v}' for k, v in setting.items())})"
        return dataclasses.replace(result, summary=summary, figures=figures)

    def reported(self, data: Any) -> int | None:
        """How many problems the output holds that make the tool exit 1 (0: it must
        exit 0); None where the exit status says nothing about the output."""
        return None

    def disagrees(self, data: Any) -> str | None:
        """The exit status and the output tell two stories (a tool that exits 1
        printing no finding, or 0 printing some): neither is believed."""
        count, code = self.reported(data), self._run.returncode if self._run else None
        if count is None or code is None or (code == 1) == (count > 0):
            return None
        return f"it exited {code}, yet its output reports {count} problem{'s' * (count != 1)}"

    def where(self) -> str:
        """The checked paths as the summary names them."""
        return " ".join(self.paths) if self.paths else "the project"
