"""``drift``: the contract the code produces now against the canonical contract file.

Drift is a failure: any field added, removed or changed fails,
listed as ``+ path``, ``- path``, ``~ path: old -> new``, unless an acknowledgement
file accepts it with a reason. An acknowledgement that matches no difference any
more is stale and fails too, so the file never holds silent, forgotten exemptions.
"""

from __future__ import annotations

import dataclasses
import json
import re
import shlex
import sys
import tomllib
from pathlib import Path
from typing import Any

from pytest_promote._util import jsonpath
from pytest_promote._util.paths import check_inside
from pytest_promote._util.process import BackgroundTool, ToolError
from pytest_promote.api import Finding, Gate, GateResult
from pytest_promote.gates.environ import fresh_bytecode, project_environ
from pytest_promote.policy.schema import timeout

SOURCE = re.compile(r"[A-Za-z_][\w.]*:[A-Za-z_][\w.]*")
# Run in a fresh interpreter from the project root: the contract comes from the code
# on disk now, not from modules this session (or its tests) already imported.
PRODUCE = """\
import importlib, json, sys
root, target = sys.argv[1], sys.argv[2]
sys.path.insert(0, root)
out, sys.stdout = sys.stdout, sys.stderr  # what the code prints must not corrupt the JSON
module, _, name = target.partition(":")
obj = importlib.import_module(module)
for part in name.split("."):
    obj = getattr(obj, part)
out.write(json.dumps(obj()))
"""
CHANGES = {"+": "+", "-": "-", "~": "~", "added": "+", "removed": "-", "changed": "~"}


@dataclasses.dataclass(frozen=True)
class DriftOptions:
    """``[tool.promote.gates.<id>]`` of kind ``drift``."""

    contract: str = ""
    source: str | None = None
    command: str | tuple[str, ...] | None = None
    acknowledgements: str | None = None
    timeout: float = timeout(60.0)

    def __post_init__(self) -> None:
        if not self.contract or (self.source is None) == (self.command is None):
            raise ValueError(
                "drift needs `contract` (the canonical JSON file) and either `source` "
                '("package.module:function") or `command` (prints the JSON)'
            )
        if self.source is not None and not SOURCE.fullmatch(self.source):
            raise ValueError(
                f"`source` {self.source!r} is not of the form 'package.module:function'"
            )
        if self.command is not None and not self.command:
            raise ValueError("`command` is empty")
        check_inside("contract", self.contract)
        if self.acknowledgements is not None:
            check_inside("acknowledgements", self.acknowledgements)


@dataclasses.dataclass(frozen=True)
class Difference:
    """One field path that differs: added (``+``), removed (``-``) or changed (``~``)."""

    change: str
    steps: tuple[jsonpath.Step, ...]
    old: Any = None
    new: Any = None

    def __str__(self) -> str:
        path = jsonpath.render(self.steps) or "(the whole contract)"
        if self.change == "~":
            return f"~ {path}: {_short(self.old)} -> {_short(self.new)}"
        return f"{self.change} {path}"


@dataclasses.dataclass(frozen=True)
class Acknowledgement:
    """An accepted difference: a path (and everything under it), a change, a reason."""

    steps: tuple[jsonpath.Step, ...]
    change: str | None
    reason: str

    def covers(self, diff: Difference) -> bool:
        """Whether this acknowledgement accepts ``diff``."""
        prefix = diff.steps[: len(self.steps)] == self.steps
        return prefix and self.change in (None, diff.change)

    def __str__(self) -> str:
        change = f"{self.change} " if self.change else ""
        return f"{change}{jsonpath.render(self.steps)} ({self.reason})"


def diff(old: Any, new: Any, steps: tuple[jsonpath.Step, ...] = ()) -> list[Difference]:
    """Every field path where ``new`` differs from ``old``; lists compare by position."""
    if isinstance(old, dict) and isinstance(new, dict):
        out: list[Difference] = []
        for key in sorted(old.keys() | new.keys()):
            here = (*steps, key)
            if key not in new:
                out.append(Difference("-", here, old=old[key]))
            elif key not in old:
                out.append(Difference("+", here, new=new[key]))
            else:
                out.extend(diff(old[key], new[key], here))
        return out
    if isinstance(old, list) and isinstance(new, list):
        out = []
        for i in range(max(len(old), len(new))):
            if i >= len(new):
                out.append(Difference("-", (*steps, i), old=old[i]))
            elif i >= len(old):
                out.append(Difference("+", (*steps, i), new=new[i]))
            else:
                out.extend(diff(old[i], new[i], (*steps, i)))
        return out
    if type(old) is not type(new) or old != new:
        return [Difference("~", steps, old, new)]
    return []


def _short(value: Any, limit: int = 60) -> str:
    text = json.dumps(value, sort_keys=True)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def load_acknowledgements(path: Path) -> list[Acknowledgement]:
    """The entries of a JSON or TOML acknowledgement file; a ValueError says what is wrong.

    Both hold a list ``acknowledged`` of tables with ``path``, ``reason`` and optionally
    ``change`` (``+``/``-``/``~`` or ``added``/``removed``/``changed``).
    """
    text = path.read_text(encoding="utf-8")
    try:
        data = tomllib.loads(text) if path.suffix == ".toml" else json.loads(text)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(
            f"{path.name} is not valid {path.suffix.lstrip('.').upper()}: {exc}"
        ) from None
    entries = data.get("acknowledged") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise ValueError(f"{path.name}: expected a list `acknowledged` of {{path, reason}} entries")
    acks = []
    for n, entry in enumerate(entries):
        where = f"{path.name}: acknowledged[{n}]"
        if not isinstance(entry, dict) or not isinstance(entry.get("path"), str):
            raise ValueError(f"{where}: needs a `path` (e.g. 'a.b[0].c')")
        reason = entry.get("reason")
        if not isinstance(reason, str) or not reason.strip():
            raise ValueError(f"{where} ({entry['path']}): needs a `reason`")
        change = entry.get("change")
        if change is not None and change not in CHANGES:
            raise ValueError(f"{where}: `change` {change!r} is not one of {sorted(CHANGES)}")
        unknown = set(entry) - {"path", "reason", "change"}
        if unknown:
            raise ValueError(
                f"{where}: unknown key(s) {sorted(unknown)}; valid: path, reason, change"
            )
        try:
            steps = jsonpath.parse(entry["path"])
        except jsonpath.PathError as exc:
            raise ValueError(f"{where}: {exc}") from None
        acks.append(Acknowledgement(steps, CHANGES.get(change or ""), reason.strip()))
    return acks


class DriftGate(Gate):
    """Produces the current contract while the tests run, then compares."""

    Options = DriftOptions
    title = "contract drift"

    def start(self) -> None:
        """Produce the current contract in the background."""
        self._run = BackgroundTool(
            self.id, self._argv(), self.context.rootpath, self.options.timeout, display=self._shown(),
            env=fresh_bytecode(self.context.config, project_environ(self.context.config)),
            cleanup=self.context.config.add_cleanup,
            own=self.options.source is not None,  # else the user's command
        )
        self._run.start()

    def _argv(self) -> list[str]:
        opts: DriftOptions = self.options
        if opts.source is not None:
            return [sys.executable, "-c", PRODUCE, str(self.context.rootpath), opts.source]
        cmd = opts.command or ()
        return shlex.split(cmd) if isinstance(cmd, str) else list(cmd)

    def _shown(self) -> str:
        opts: DriftOptions = self.options
        return f"source {opts.source}" if opts.source else f"`{shlex.join(self._argv())}`"

    def _produce(self) -> Any:
        try:
            code, out, err = self._run.wait()
        except ToolError as exc:
            raise ValueError(str(exc)) from None
        if code != 0:
            tail = err.strip().splitlines()[-5:]
            raise ValueError(f"{self._shown()} exited {code}\n" + "\n".join(tail))
        try:
            return json.loads(out)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{self._shown()} did not print JSON: {exc}") from None

    def evaluate(self) -> GateResult:
        """Differences not acknowledged, and stale acknowledgements, fail the gate."""
        opts: DriftOptions = self.options
        root = self.context.rootpath
        try:
            canonical = json.loads((root / opts.contract).read_text(encoding="utf-8"))
            acks = (
                load_acknowledgements(root / opts.acknowledgements) if opts.acknowledgements else []
            )
            current = self._produce()
        except (OSError, ValueError) as exc:  # JSONDecodeError is a ValueError
            return GateResult.error(f"{self.id}: cannot compare contracts: {exc}")
        differences = diff(canonical, current)
        open_diffs = [d for d in differences if not any(a.covers(d) for a in acks)]
        accepted = [d for d in differences if d not in open_diffs]
        stale = [a for a in acks if not any(a.covers(d) for d in differences)]
        findings = [Finding(str(d), file=opts.contract, rule="drift") for d in open_diffs]
        findings += [
            Finding(
                f"stale acknowledgement, no such difference now: {a}",
                file=opts.acknowledgements,
                rule="stale",
            )
            for a in stale
        ]
        notes = [f"acknowledged: {d} ({self._reason(d, acks)})" for d in accepted]
        measured = f"{len(open_diffs)} unacknowledged, {len(accepted)} acknowledged"
        if findings:
            summary = (
                f"{self.id}: {len(open_diffs)} unacknowledged difference(s) from "
                f"{opts.contract}, {len(stale)} stale acknowledgement(s); "
                f"none allowed for {self.context.stage}"
            )
            return GateResult.failed(
                "\n".join([summary, *notes]), measured=measured, threshold=0, findings=findings
            )
        summary = f"{self.id}: the contract matches {opts.contract}" + (
            f" ({len(accepted)} acknowledged difference(s))" if accepted else ""
        )
        return GateResult.passed("\n".join([summary, *notes]), measured=measured, threshold=0)

    @staticmethod
    def _reason(d: Difference, acks: list[Acknowledgement]) -> str:
        return next(a.reason for a in acks if a.covers(d))
