"""``provenance``: every change since the base carries approved AI provenance.

A change must include ``.ai-stack-trace/<task>/`` whose ``contract/APPROVED`` names
the base commit, whose ``final/status.json`` says ``"status": "SUCCESS"`` and whose
approved ``scope`` covers every file changed.

Which tasks a change belongs to: every task directory the change touches (adds,
edits or deletes a file in). Older task directories that the change leaves alone
belong to earlier changes and are not judged again; one change may carry several
tasks, and then a file is in scope when any of their scopes covers it.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pytest_promote._util import git
from pytest_promote._util.paths import check_inside, matcher, matches_any
from pytest_promote.api import Finding, Gate, GateResult
from pytest_promote.runner.options import options

if TYPE_CHECKING:
    import pytest

#: Environment variables naming the branch a CI pull/merge request targets.
CI_TARGET_VARS = ("GITHUB_BASE_REF", "CI_MERGE_REQUEST_TARGET_BRANCH_NAME")
_SHA = re.compile(r"\b[0-9a-fA-F]{7,64}\b")


@dataclasses.dataclass(frozen=True)
class ProvenanceOptions:
    """``[tool.promote.gates.provenance]``: where provenance lives and what is exempt."""

    base: str | None = None
    root: str = ".ai-stack-trace"
    approved: str = "contract/APPROVED"
    status: str = "final/status.json"
    require: tuple[str, ...] = ()
    exempt: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for key in ("root", "approved", "status"):
            check_inside(key, getattr(self, key))
        for path in self.require:
            check_inside("require", path)
        for pattern in self.exempt:
            check_inside("exempt", pattern, glob=True)


@dataclasses.dataclass(frozen=True)
class Base:
    """The commit the change is measured from, the ref it was found through, and
    what named that ref (``--promote-base``, the policy's key, a CI variable)."""

    sha: str
    ref: str
    source: str = ""

    def __str__(self) -> str:
        said = f" (from {self.source})" if self.source else ""
        return f"{self.ref}@{self.sha[:12]}{said}"


@dataclasses.dataclass(frozen=True)
class Task:
    """What one task directory approves: its scope (None when unreadable)."""

    name: str
    scope: tuple[str, ...] | None
    problems: tuple[Finding, ...]


class ProvenanceGate(Gate):
    """Judges the committed change from the base's merge base to HEAD."""

    Options = ProvenanceOptions
    title = "AI provenance"

    def evaluate(self) -> GateResult:
        """Find the base, the changed files and their tasks; judge each piece."""
        opts: ProvenanceOptions = self.options
        root = self.context.rootpath
        base = self._base()
        if isinstance(base, GateResult):
            return base
        changed = git.changed_files(root, base.sha)
        if changed is None:
            return GateResult.error(f"{self.id}: git cannot list the changes since {base}")
        prefix = opts.root.strip("/") + "/"
        provenance = [p for p in changed if p.startswith(prefix)]
        task_names = sorted({p[len(prefix) :].split("/")[0] for p in provenance})
        others = [p for p in changed if not p.startswith(prefix)]
        subject = [p for p in others if not matches_any(p, opts.exempt)]
        exempt = len(others) - len(subject)
        tasks = [self._task(name, base) for name in task_names]
        findings = [f for task in tasks for f in task.problems]
        if subject and not tasks:
            findings.append(Finding(f"no {prefix}<task>/ directory in the change", rule="missing"))
        scopes = [matcher(task.scope) for task in tasks if task.scope]
        named = ", ".join(task_names) or "none"
        why = f"change outside the scope of task {named}" if tasks else "change without provenance"
        findings += [
            Finding(why, file=p, rule="unapproved")
            for p in subject if not any(in_scope(p) for in_scope in scopes)
        ]
        what = f"{len(changed)} changed files since {base} (tasks: {named}; {exempt} exempt)"
        if findings:
            problems = "problem" if len(findings) == 1 else "problems"
            return GateResult.failed(
                f"{self.id}: {len(findings)} provenance {problems} in {what}; "
                f"none allowed for {self.context.stage}",
                measured=len(findings), threshold=0, findings=findings, figures={"base": str(base)},
            )
        return GateResult.passed(
            f"{self.id}: {what}, all within approved provenance", measured=0, threshold=0,
            figures={"base": str(base)},
        )

    def _base(self) -> Base | GateResult:
        """The base (see :func:`find_base`), or the error saying why there is none."""
        found = find_base(self.context.config, self.context.rootpath, self.options.base,
                          f"[tool.promote.gates.{self.id}] base")
        return found if isinstance(found, Base) else GateResult.error(f"{self.id}: {found}")

    def _task(self, name: str, base: Base) -> Task:
        """Check one task directory as it is in the checkout."""
        opts: ProvenanceOptions = self.options
        rel = f"{opts.root.strip('/')}/{name}"
        directory = self.context.rootpath / rel
        problems: list[Finding] = []
        for piece in opts.require:
            if not (directory / piece).exists():
                problems.append(_missing(f"{rel}/{piece}", name))
        approved = directory / opts.approved
        if not approved.is_file():
            problems.append(_missing(f"{rel}/{opts.approved}", name))
        else:
            problem = _approves(approved.read_text(encoding="utf-8", errors="replace"), base)
            if problem:
                problems.append(Finding(problem, file=f"{rel}/{opts.approved}", rule="base"))
        status_file = f"{rel}/{opts.status}"
        if not (directory / opts.status).is_file():
            problems.append(_missing(status_file, name))
            return Task(name, None, tuple(problems))
        status, scope, trouble = _read_status(directory / opts.status)
        problems += [Finding(t, file=status_file, rule="status") for t in trouble]
        if status is not None and status != "SUCCESS":
            shown = json.dumps(status)
            problems.append(
                Finding(f'is {shown}; "SUCCESS" required', file=status_file, rule="status")
            )
        return Task(name, scope, tuple(problems))


def base_sources(config: pytest.Config) -> list[str]:
    """Header lines: what names the base a change is measured from, where something
    other than the policy does."""
    given = options(config).base
    if given:
        return [f"promote: base of changes: --promote-base={given}"]
    return [
        f"promote: base of changes: ${name}={os.environ[name]} where neither "
        "--promote-base nor the policy's base names one"
        for name in CI_TARGET_VARS if os.environ.get(name)
    ]


def find_base(config: pytest.Config, root: Path, configured: str | None, key: str) -> Base | str:
    """The commit a change is measured from: the merge base of HEAD with
    ``--promote-base``, else with ``configured`` (the policy's ``base``, named ``key``
    in messages), else with the CI's target branch; or why there is none.

    The policy comes before the CI's variable: a variable of the environment never
    moves a base the policy names (an older base only adds changed lines to judge);
    whichever named it is part of the base as every output states it.
    """
    given = options(config).base
    ci = next(((v, os.environ[v]) for v in CI_TARGET_VARS if os.environ.get(v)), None)
    if given:
        ref, source = given, "--promote-base"
    elif configured:
        ref, source = configured, key
    elif ci:
        ref, source = ci[1], f"${ci[0]}"
    else:
        setting = "" if key.startswith("--") else f' or set {key} = "main"'
        return f"no base to measure the change from; pass --promote-base=REF{setting}"
    if git.head(root) is None:
        return f"{root} is not a git checkout with a commit"
    for candidate in (ref, f"origin/{ref}"):
        if git.resolve(root, candidate):
            sha = git.merge_base(root, candidate)
            if sha is None:
                return (f"{candidate} ({source}) and HEAD share no history; "
                        "in a shallow clone fetch more (e.g. fetch-depth: 0)")
            return Base(sha, candidate, source)
    return (f"base {ref!r} ({source}) names no commit here; fetch it "
            "(e.g. fetch-depth: 0) or pass --promote-base=REF")


def _missing(path: str, task: str) -> Finding:
    return Finding(f"required provenance of task {task}", file=path, rule="missing")


def _approves(text: str, base: Base) -> str | None:
    """None when ``text`` names the base commit; else what is wrong."""
    shas = [s.lower() for s in _SHA.findall(text)]
    if not shas:
        return f"names no commit; it must name the base commit {base.sha}"
    if any(base.sha.startswith(s) for s in shas):
        return None
    return f"approves {', '.join(s[:12] for s in shas)}, not the base {base}"


def _read_status(path: Path) -> tuple[Any, tuple[str, ...] | None, list[str]]:
    """``status``, ``scope`` globs and the problems reading them."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        return None, None, [f"is unreadable: {exc}"]
    if not isinstance(data, dict):
        return None, None, ["is not a JSON object"]
    trouble = []
    if "status" not in data:
        trouble.append('has no "status"; "status": "SUCCESS" required')
    scope = data.get("scope")
    if not isinstance(scope, list) or not all(isinstance(g, str) for g in scope):
        trouble.append('has no "scope" list of globs: it approves no change')
        scope = None
    else:
        try:
            for glob in scope:
                check_inside("scope", glob, glob=True)
            matcher(scope)
        except (ValueError, TypeError) as exc:
            trouble.append(f'"scope" is not a list of gitignore-style globs inside the project: {exc}')
            scope = None
    return data.get("status"), tuple(scope) if scope is not None else None, trouble
