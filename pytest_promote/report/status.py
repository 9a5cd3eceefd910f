"""``pytest --promote-status [--promote-json]``: where each stage stands, from the ledger.

For each stage of the policy: the last accepted commit (the rollback target), the
last failed one, and where HEAD (or a commit with HEAD's tree) stands; with
components in the policy, a row per component and stage too, from its own records
(HEAD stands where the last commit with identical files under its paths stood).
``--promote-component=NAME`` shows that component alone (``all``: every component;
``auto``: those changed since the base). Each record shows its
signature: unsigned, signed by whom, or untrusted and why; a record of a stage whose
trust policy requires signatures counts as accepted only when signed so. No tests
and no gates run; it reads ``refs/notes/promote`` of the local clone.
"""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Any

import pytest

from pytest_promote._util import git
from pytest_promote._util.redact import mask_value
from pytest_promote.ledger.attestation import check_trust
from pytest_promote.ledger.records import REF, holding, read
from pytest_promote.report.standing import as_shown
from pytest_promote.runner.options import options

if TYPE_CHECKING:
    from pytest_promote.policy.components import Component


def collect(config: pytest.Config) -> dict[str, Any]:
    """The status as data: the ledger's latest records per stage, and HEAD's standing."""
    from pytest_promote.runner.session import load_policy

    root = config.rootpath
    head = git.head(root)
    if head is None:
        raise pytest.UsageError(
            f"--promote-status: {root} is not a git repository with a commit; "
            f"the ledger lives in its notes ({REF})"
        )
    policy, _ = load_policy(config)
    signers = check_trust(policy, root)
    everything, malformed = read(root)
    only = options(config).component
    parts: list[Component | None] = [None, *policy.components.values()]
    if only is not None:  # a component, or those --promote-component=all|auto judges
        from pytest_promote.runner.judged import choose

        parts = [p.component for p in choose(config, policy).policies]
    stages = []
    for component in parts:
        name = component.name if component else None
        at_head = holding(root, everything, component)
        for stage in component.stages if component else policy.stages:
            need = policy.trust.requires(stage.name) if policy.trust else ()
            mine = [r for r in everything if r.stage == stage.name and r.component == name]
            shown = {id(r): as_shown(r, signers, need, policy.trust is not None) for r in mine}
            accepted = [shown[id(r)] for r in mine if shown[id(r)]["counts"]]
            failed = [shown[id(r)] for r in mine if not shown[id(r)]["counts"]]
            here = [r for r in at_head if r.stage == stage.name]
            last = shown.get(id(here[-1])) if here else None
            standing = "not recorded" if last is None else "accepted" if last["counts"] else "failed"
            if last is not None and last["proves"] and not last["counts"]:
                standing = f"failed ({last['signature']})"
            since = here[-1].commit if here and here[-1].commit != head else None
            stages.append({
                "component": name,
                "stage": stage.name,
                "signers": list(need),
                "last_accepted": accepted[-1] if accepted else None,
                "last_failed": failed[-1] if failed else None,
                "head": standing,
                "unchanged_since": since,
            })
    return {
        "ref": REF, "policy": policy.source, "head": head,
        "branch": git.branch(root), "stages": stages,
        "malformed": [m.as_dict() for m in malformed],
    }


def _short(record: dict[str, Any] | None) -> str:
    if record is None:
        return "-"
    headline = record.get("headline") or record["colour"].upper()
    signature = record["signature"].split(":")[0].split(" (")[0]
    return f"{record['commit'][:12]} {headline} {record['time'][:19]} {signature}"


def _head(row: dict[str, Any]) -> str:
    """Where HEAD stands, and since which commit when an earlier record holds."""
    since = row.get("unchanged_since")
    return f"{row['head']} (unchanged since {since[:12]})" if since else row["head"]


def render(status: dict[str, Any]) -> str:
    """The status as a small table."""
    where = f" on {status['branch']}" if status["branch"] else " (detached)"
    lines = [f"promotion ledger ({status['ref']}): HEAD {status['head'][:12]}{where}"]
    parts = any(s["component"] for s in status["stages"])
    rows = [("component",) * parts + ("stage", "last accepted (rollback target)", "last failed", "HEAD")]
    rows += [
        (s["component"] or "(repository)",) * parts + (
            s["stage"], _short(s["last_accepted"]), _short(s["last_failed"]), _head(s),
        )
        for s in status["stages"]
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    for row in rows:
        cells = [cell.ljust(widths[i]) for i, cell in enumerate(row[:-1])]
        lines.append("  ".join([*cells, row[-1]]))
    lines += [
        f"malformed ledger entry on {m['commit'][:12]} (ignored): {m['problem']}"
        for m in status["malformed"]
    ]
    return "\n".join(lines)


def main(config: pytest.Config) -> int:
    """Print the status (as JSON with ``--promote-json``); exit status 0."""
    status = masked(collect(config))
    if options(config).json:
        sys.stdout.write(json.dumps(status, indent=2) + "\n")
    else:
        sys.stdout.write(render(status) + "\n")
    return 0


def masked(status: dict[str, Any]) -> dict[str, Any]:
    """``status`` with its free text masked: the records' caveats and environment
    values, and what a malformed note line says. Stages, commits, colours, verdicts
    and keys are structure and stay as they are (a secret that is also a word, a
    stage name say, never rewrites them)."""
    for stage in status["stages"]:
        for key in ("last_accepted", "last_failed"):
            if stage[key] is not None:
                record = stage[key]
                stage[key] = {**record, **{k: mask_value(record[k]) for k in ("caveats", "environment")
                                           if k in record}}
    status["malformed"] = [
        {**m, "line": mask_value(m["line"]), "problem": mask_value(m["problem"])}
        for m in status["malformed"]
    ]
    return status
