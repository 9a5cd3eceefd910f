"""``python -m pytest_promote verify FILE --stage STAGE [--commit SHA] [--component NAME]``.

FILE is a JSON report or its attestation alone (a DSSE envelope); of a report of
several components (``--promote-component=all``), the one ``--component`` names. Exits 0 only
when the report is well formed and its digest matches its content; its
attestation's signatures verify with the keys of the trust policy's allowed
signers and include every principal the stage requires (none without
``[tool.promote.trust]``: it then says "unsigned"), its subject is the commit
(default HEAD) with its tree, and the report says what was signed; the verdict is
for that stage and component (none: the whole repository), not a dry run, ran the
whole suite on a clean tree with the real clock, under the policy in force here (its
attestation names this policy's digest), is accepted, and holds every gate the
policy requires for the stage, each passed or overridden, and no freeze window of the
stage is open now (unless the record carries an unexpired override of the freeze
gate). Otherwise it exits 1 with one clear reason. A deploy job runs it before
deploying.
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

from pytest_promote._util import git
from pytest_promote._util.redact import mask_text
from pytest_promote.api import Gate
from pytest_promote.gates import kinds
from pytest_promote.ledger.attestation import describe
from pytest_promote.ledger.signing import dsse
from pytest_promote.ledger.signing.signers import TrustProblem
from pytest_promote.ledger.signing.statement import PROMOTION, Statement, difference, read
from pytest_promote.policy import loader
from pytest_promote.policy.model import Policy
from pytest_promote.policy.trust import judge
from pytest_promote.report.json_report import SCHEMA_VERSION, digest


class Rejected(Exception):
    """The report does not prove the promotion; the message says why."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``FILE --stage STAGE [--commit SHA] [--config PATH] [--root DIR]``."""
    parser.add_argument(
        "report", metavar="FILE",
        help="the JSON report (--promote-report), or an attestation (a DSSE envelope) alone",
    )
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
        facts, signature = check(
            Path(args.report), args.stage, args.commit, Path(args.root), args.config, args.component
        )
    except Rejected as exc:
        print(mask_text(f"verify: {args.report}: REJECTED: {exc}"), file=sys.stderr)
        return 1
    whose = f"component {args.component} of " if args.component else ""
    print(mask_text(
        f"verify: {args.report}: OK: {facts['verdict']} promotion of "
        f"{whose}{str(facts['commit'])[:12]} to {facts['stage']}, accepted, {signature}"
    ))
    return 0


def check(
    path: Path, stage: str, commit: str, root: Path, config: str | None,
    component: str | None = None,
) -> tuple[dict[str, Any], str]:
    """The verdict's facts (the report, or the attestation's predicate) and how it
    is signed, if they prove the promotion; raises :class:`Rejected` otherwise."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise Rejected(f"cannot read it: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise Rejected(f"not JSON: {exc}") from None
    if isinstance(data, dict) and isinstance(data.get("components"), list):
        data = _one_of(data["components"], component)
    sha = git.resolve(root, commit)
    if sha is None:
        raise Rejected(f"{commit!r} is not a commit of the repository at {root}")
    policy, in_force = _policy(root, config)
    alone = isinstance(data, dict) and "payloadType" in data
    if alone:
        envelope = data
    else:
        _well_formed(data)
        if data["digest"] != digest(data):
            raise Rejected("its digest does not match its content: it was changed after it was written")
        envelope = data.get("attestation")
    said, signature = _signature(policy, stage, root, sha, envelope)
    if alone:
        if said is None:
            raise Rejected("not an attestation: its envelope holds no statement")
        facts = {**said.predicate, "commit": said.commit}
    else:
        facts = data
        if said is not None:
            differs = disagreement(data, said)
            if differs is not None:
                raise Rejected(f"its {differs!r} differs from what its attestation says: it was changed")
    if facts.get("stage") != stage:
        raise Rejected(f"it is for stage {facts.get('stage')!r}, not {stage!r}")
    _same_component(facts.get("component"), component)
    if component is not None:
        if component not in policy.components:
            raise Rejected(f"the policy ({policy.source}) has no component {component!r}")
        policy = dataclasses.replace(policy, stages=policy.components[component].stages)
    _proves(facts, stage, sha, commit, policy.stage(stage).required)
    _same_policy(said, in_force, policy.source)
    _not_frozen(policy, stage, facts)
    return facts, signature


def disagreement(report: dict[str, Any], said: Statement) -> str | None:
    """The first field a report shows that differs from (or is not in) its
    attestation's statement, named; ``signature`` when it misdescribes the envelope."""
    differs = difference(report, said)
    if differs is None and report.get("signature") != describe(dsse.parse(report.get("attestation"))):
        return "signature"
    return differs


def _signature(
    policy: Policy, stage: str, root: Path, sha: str, envelope: object
) -> tuple[Statement | None, str]:
    """The attestation's statement and how it is signed, in words; Rejected unless
    its signatures verify with the allowed signers' keys and include every principal
    the stage needs. Without a trust policy nothing can be checked: it says so."""
    trust = policy.trust
    if trust is None:
        if envelope is None:
            return None, "unsigned (no attestation)"
        try:
            parsed = dsse.parse(envelope)
            said = read(parsed, PROMOTION)
        except ValueError as exc:
            raise Rejected(f"its attestation is unreadable: {exc}") from None
        if parsed.signatures:
            return said, f"{describe(parsed)}, not verified: no [tool.promote.trust]"
        return said, "unsigned"
    need = trust.requires(stage)
    try:
        signers = trust.read(root)
    except TrustProblem as exc:
        raise Rejected(str(exc)) from None
    standing = judge(envelope, PROMOTION, sha, git.tree(root, sha), signers, need)
    if standing.state == "untrusted":
        raise Rejected(f"its attestation is untrusted: {standing.reason}")
    if need and standing.state != "trusted":
        why = f" ({standing.reason})" if standing.reason else ""
        raise Rejected(f"{stage} requires a signature by {', '.join(need)}; it is unsigned{why}")
    return standing.statement, standing.describe()


def _one_of(reports: list[Any], wanted: str | None) -> Any:
    """The report of component ``wanted`` in a report of several
    (``--promote-component=all``); each is checked as its own run's report."""
    reports = [r for r in reports if isinstance(r, dict)]
    names = [r.get("component") for r in reports]
    if wanted is None:
        raise Rejected(f"it holds the reports of several components ({', '.join(map(str, names))}); "
                       "verify one of them with --component NAME")
    if wanted not in names:
        raise Rejected(f"it holds no report of component {wanted!r} (only of {', '.join(map(str, names))})")
    return reports[names.index(wanted)]


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


def _proves(facts: dict[str, Any], stage: str, sha: str, commit: str, required: tuple[str, ...]) -> None:
    if facts.get("stage") != stage:
        raise Rejected(f"it is for stage {facts.get('stage')!r}, not {stage!r}")
    if facts.get("commit") != sha:
        raise Rejected(f"it is for commit {str(facts.get('commit'))[:12]}, not {commit} ({sha[:12]})")
    if facts.get("dry_run"):
        raise Rejected("it is from a dry run (--promote-dry-run), which promotes nothing")
    caveats = [str(c) for c in facts.get("caveats") or []]
    if facts.get("partial") or facts.get("dirty") or facts.get("environment") or caveats:
        why = "; ".join(caveats) or "partial, dirty or with a moved clock"
        raise Rejected(f"it judged something other than {stage}'s whole suite on the "
                       f"committed tree ({why}), so it proves nothing")
    if facts.get("accepted") is not True:
        raise Rejected(f"it is not accepted: {facts.get('verdict')}, {stage} accepts {facts.get('accept')}")
    gates = {g["id"]: g for g in facts.get("gates") or [] if isinstance(g, dict) and "id" in g}
    for gid in required:
        gate = gates.get(gid)
        if gate is None:
            raise Rejected(f"it lacks gate {gid!r}, which the policy requires for {stage}")
        if gate.get("status") != "passed" and not gate.get("overridden"):
            raise Rejected(f"required gate {gid!r} {gate.get('status')} and was not overridden")


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


def read_policy(root: Path, config: str | None) -> Policy:
    """The policy at ``root`` (``config``: as --promote-config), with the installed gate kinds."""
    return _policy(root, config)[0]


def _same_policy(said: Statement | None, in_force: str, source: str) -> None:
    """A verdict holds only under the policy that judged it: the one in force here."""
    from pytest_promote.policy.proof import short

    judged = said.predicate.get("policy") if said is not None else None
    if not isinstance(judged, dict) or not isinstance(judged.get("digest"), str):
        raise Rejected("it does not say which policy judged it (no attestation names a policy "
                       f"digest); the policy in force is {source}, {short(in_force)}")
    if judged["digest"] != in_force:
        raise Rejected(f"it was judged by policy {judged.get('source')}, {short(judged['digest'])}, "
                       f"not by the policy in force, {source}, {short(in_force)}")


def _not_frozen(policy: Policy, stage: str, facts: dict[str, Any]) -> None:
    """A freeze forbids the deploy, so it counts when the deploy job verifies, whenever
    the record was made. ``PROMOTE_NOW`` may rehearse a freeze here, never lift one:
    the real time is checked too. An override of the ``freeze`` gate the record
    carries lifts it until the override's expiry."""
    import datetime

    from pytest_promote._util import clock
    from pytest_promote.policy.freeze import frozen

    moments = [datetime.datetime.now(datetime.UTC)]
    try:
        if clock.setting():  # in CI, a set clock is itself the error
            moments.append(clock.now())
    except clock.ClockError as exc:
        raise Rejected(str(exc)) from None
    for now in moments:
        said = frozen(policy.freezes, stage, now)
        if said is None or _freeze_overridden(facts, now.date()):
            continue
        rehearsed = "" if now is moments[0] else f" (clock set by {clock.ENV})"
        raise Rejected(f"{stage} is {said}{rehearsed}: the deploy is what a freeze forbids, "
                       f"whenever the record was made ({facts.get('time', 'time unknown')}); "
                       "only an override of the freeze gate lifts it")


def _freeze_overridden(facts: dict[str, Any], today: object) -> bool:
    """Whether the record carries an unexpired override of the ``freeze`` gate."""
    for entry in facts.get("overrides") or []:
        if isinstance(entry, dict) and entry.get("gate") == "freeze":
            until = entry.get("until")
            if until is None or str(until) >= str(today):
                return True
    return False


def _policy(root: Path, config: str | None) -> tuple[Policy, str]:
    """The policy in force and its digest."""
    from pytest_promote.policy.proof import digest_of

    try:
        table, source = loader.find_table(root, config)
        return loader.load(table, source, gate_kinds()), digest_of(table)
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
    from pytest_promote import hookspecs
    from pytest_promote.gates import builtin

    manager = _PytestHooks("pytest")
    manager.add_hookspecs(hookspecs)
    manager.register(builtin, "promote-gates")
    for entry in importlib.metadata.entry_points(group="pytest11"):
        try:
            plugin = entry.load()
            if not manager.is_registered(plugin):
                manager.register(plugin, entry.name)
        except Exception:  # a broken third-party plugin is not ours to judge
            continue
    return kinds.gate_kinds(manager)


class _PytestHooks(pluggy.PluginManager):
    """A plugin manager that reads hooks as pytest does: a ``pytest_*`` function is a
    hook implementation even without ``@pytest.hookimpl``."""

    def parse_hookimpl_opts(self, plugin: object, name: str) -> pluggy.HookimplOpts | None:
        opts = super().parse_hookimpl_opts(plugin, name)
        if opts is None and name.startswith("pytest_") and callable(getattr(plugin, name, None)):
            return {"wrapper": False, "hookwrapper": False, "optionalhook": False,
                    "tryfirst": False, "trylast": False, "specname": None}
        return opts
