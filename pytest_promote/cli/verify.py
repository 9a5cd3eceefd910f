"""``python -m pytest_promote verify REPORT --stage STAGE [--commit SHA] [--component NAME]``.

Exits 0 only when the JSON report is well formed, its digest matches its content,
it is for that stage, commit (default HEAD) and component (none: the whole
repository), is not a dry run, ran the whole
suite on a clean tree with the real clock, is accepted, and
holds every gate the policy requires for the stage, each passed or overridden.
Otherwise it exits 1 with one clear reason. A deploy job runs it before deploying.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib.metadata
import json
import sys
from pathlib import Path
from typing import Any

import pluggy
import pytest

from pytest_promote import policy as policy_mod
from pytest_promote._util import git
from pytest_promote.api import Gate
from pytest_promote.report.json_report import SCHEMA_VERSION, digest


class Rejected(Exception):
    """The report does not prove the promotion; the message says why."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``REPORT --stage STAGE [--commit SHA] [--config PATH] [--root DIR]``."""
    parser.add_argument("report", metavar="REPORT", help="the JSON report (--promote-report)")
    parser.add_argument("--stage", required=True, help="the stage the report must promote to")
    parser.add_argument("--commit", default="HEAD", help="the commit it must be for (default HEAD)")
    parser.add_argument(
        "--component", default=None,
        help="the component it must promote (--promote-component); default: the whole repository",
    )
    parser.add_argument("--config", default=None, help="the policy file (as --promote-config)")
    parser.add_argument("--root", default=".", help="the project root (default: .)")


def run(args: argparse.Namespace) -> int:
    """Check the report; print why it is (not) accepted."""
    try:
        report = check(
            Path(args.report), args.stage, args.commit, Path(args.root), args.config, args.component
        )
    except Rejected as exc:
        print(f"verify: {args.report}: REJECTED: {exc}", file=sys.stderr)
        return 1
    whose = f"component {args.component} of " if args.component else ""
    print(
        f"verify: {args.report}: OK: {report['verdict']} promotion of "
        f"{whose}{report['commit'][:12]} to {report['stage']}, accepted"
    )
    return 0


def check(
    path: Path, stage: str, commit: str, root: Path, config: str | None,
    component: str | None = None,
) -> dict[str, Any]:
    """The report, if it proves the promotion; raises :class:`Rejected` otherwise."""
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise Rejected(f"cannot read it: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise Rejected(f"not JSON: {exc}") from None
    _well_formed(report)
    if report["digest"] != digest(report):
        raise Rejected("its digest does not match its content: it was changed after it was written")
    if report["stage"] != stage:
        raise Rejected(f"it is for stage {report['stage']!r}, not {stage!r}")
    _same_component(report.get("component"), component)
    sha = git.resolve(root, commit)
    if sha is None:
        raise Rejected(f"{commit!r} is not a commit of the repository at {root}")
    if report["commit"] != sha:
        raise Rejected(f"it is for commit {str(report['commit'])[:12]}, not {commit} ({sha[:12]})")
    if report.get("dry_run"):
        raise Rejected("it is from a dry run (--promote-dry-run), which promotes nothing")
    caveats = [str(c) for c in report.get("caveats") or []]
    if report.get("partial") or report.get("dirty") or report.get("environment") or caveats:
        why = "; ".join(caveats) or "partial, dirty or with a moved clock"
        raise Rejected(f"it judged something other than {stage}'s whole suite on the "
                       f"committed tree ({why}), so it proves nothing")
    if report["accepted"] is not True:
        accept = report.get("accept")
        raise Rejected(f"it is not accepted: {report['verdict']}, {stage} accepts {accept}")
    gates = {g["id"]: g for g in report["gates"]}
    for gid in _required(root, config, stage, component):
        gate = gates.get(gid)
        if gate is None:
            raise Rejected(f"it lacks gate {gid!r}, which the policy requires for {stage}")
        if gate["status"] != "passed" and not gate.get("overridden"):
            raise Rejected(f"required gate {gid!r} {gate['status']} and was not overridden")
    return report


def _well_formed(report: object) -> None:
    if not isinstance(report, dict):
        raise Rejected("not a pytest-promote report (not a JSON object)")
    if report.get("schema") != SCHEMA_VERSION:
        schema = report.get("schema")
        raise Rejected(f"schema {schema!r}; this verify reads schema {SCHEMA_VERSION}")
    expected = {
        "stage": str, "commit": str, "verdict": str, "colour": str, "accepted": bool,
        "gates": list, "overrides": list, "digest": str,
    }
    for key, kind in expected.items():
        if not isinstance(report.get(key), kind):
            raise Rejected(f"malformed: {key!r} is missing or not a {kind.__name__}")
    for gate in report["gates"]:
        if not (isinstance(gate, dict) and isinstance(gate.get("id"), str) and "status" in gate):
            raise Rejected(f"malformed: gate entry {gate!r}")


def _same_component(judged: object, wanted: str | None) -> None:
    """A report of one component never proves another's promotion, nor the whole
    repository's (and a whole repository's report proves no component's)."""
    if judged == wanted:
        return
    if wanted is None:
        raise Rejected(f"it is for component {judged!r}, not the whole repository; "
                       f"verify it with --component {judged}")
    if judged is None:
        raise Rejected(f"it is for the whole repository, not component {wanted!r}")
    raise Rejected(f"it is for component {judged!r}, not {wanted!r}")


def _required(root: Path, config: str | None, stage: str, component: str | None) -> tuple[str, ...]:
    try:
        table, source = policy_mod.find_table(root, config)
        policy = policy_mod.load(table, source, gate_kinds())
        if component is not None:
            if component not in policy.components:
                raise Rejected(f"the policy ({source}) has no component {component!r}")
            policy = dataclasses.replace(policy, stages=policy.components[component].stages)
        return policy.stage(stage).required
    except pytest.UsageError as exc:
        raise Rejected(f"cannot read the policy: {exc}") from None


def gate_kinds() -> dict[str, type[Gate]]:
    """The gate kinds known outside a pytest run: built-in and installed plugins'.

    A pluggy plugin manager loads the ``pytest11`` entry points, as pytest does, and
    asks each plugin through the ``pytest_promote_gate_kinds`` hook; two plugins that
    provide one kind name are a usage error, as in a run. Kinds a conftest registers
    are not visible here; name the policy's gates with installed kinds (or command
    gates) if a deploy job verifies reports.
    """
    from pytest_promote import gates, hookspecs

    manager = _PytestHooks("pytest")
    manager.add_hookspecs(hookspecs)
    manager.register(gates, "promote-gates")
    for entry in importlib.metadata.entry_points(group="pytest11"):
        try:
            plugin = entry.load()
            if not manager.is_registered(plugin):
                manager.register(plugin, entry.name)
        except Exception:  # a broken third-party plugin is not ours to judge
            continue
    return policy_mod.gate_kinds(manager)


class _PytestHooks(pluggy.PluginManager):
    """A plugin manager that reads hooks as pytest does: a ``pytest_*`` function is a
    hook implementation even without ``@pytest.hookimpl``."""

    def parse_hookimpl_opts(self, plugin: object, name: str) -> pluggy.HookimplOpts | None:
        opts = super().parse_hookimpl_opts(plugin, name)
        if opts is None and name.startswith("pytest_") and callable(getattr(plugin, name, None)):
            return {"wrapper": False, "hookwrapper": False, "optionalhook": False,
                    "tryfirst": False, "trylast": False, "specname": None}
        return opts
