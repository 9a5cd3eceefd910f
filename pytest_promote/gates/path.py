"""``path``: no skipping environments: the previous stage accepted this code first.

Passes when HEAD, or a commit with HEAD's tree (the same files, e.g. a rebase or a
merge that changed nothing), carries an accepted ledger record for the stage before
this one. Required by default at every stage after the first. In a component's run
only that component's records count, and also those of a commit whose files under
the component's paths are identical to HEAD's. When the trust policy requires
signatures for the previous stage, only a record whose attestation is signed by each
required principal (and says what the record says) counts. A record judged under
another policy than the one in force (its attestation's policy digest differs) does
not count.
"""

from __future__ import annotations

from pathlib import Path

from pytest_promote._util import git
from pytest_promote.api import Finding, Gate, GateResult
from pytest_promote.ledger.attestation import record_standing
from pytest_promote.ledger.records import REF, Record, holding, records
from pytest_promote.ledger.signing.signers import TrustProblem
from pytest_promote.policy.components import Component
from pytest_promote.policy.proof import in_force, short, stated_digest


def same_as_head(root: Path, record: Record, component: Component | None) -> str:
    """Why a record of another commit holds for HEAD, in words."""
    if component is None or record.tree == git.tree(root):
        return "same tree as HEAD"
    return f"{component.name}'s files identical to HEAD's"


class PathGate(Gate):
    """The previous stage's accepted record on HEAD (or its tree) in ``refs/notes/promote``."""

    title = "promotion path"

    def evaluate(self) -> GateResult:
        """Look up the ledger."""
        stage = self.context.stage
        previous = self.context.policy.previous(stage)
        if previous is None:
            summary = f"path: {stage} is the first stage"
            return GateResult.passed(summary, measured="-", threshold="-")
        root = self.context.rootpath
        head = git.head(root)
        if head is None:
            return GateResult.error(
                f"path: cannot read the ledger: {root} is not a git repository with a commit; "
                f"{stage} needs an accepted {previous.name} record (outside git, set "
                "`enforce_path = false` under [tool.promote] to drop the path gate)",
                measured="no ledger (not a git repository)",
                threshold=f"{previous.name} accepted",
            )
        trust = self.context.policy.trust
        need = trust.requires(previous.name) if trust else ()
        threshold = f"{previous.name} accepted" + (f", signed by {', '.join(need)}" if need else "")
        component = self.context.policy.component
        mine = [r for r in holding(root, records(root), component)
                if r.stage == previous.name]
        untrusted: dict[int, str] = {}
        signed: dict[int, str] = {}
        if need:
            assert trust is not None
            try:
                signers = trust.read(root)
            except TrustProblem as exc:
                return GateResult.error(f"path: {exc}", measured="-", threshold=threshold)
            for index, r in enumerate(mine):
                standing = record_standing({**r.as_dict()}, signers, need)
                target = signed if standing.state == "trusted" else untrusted
                target[index] = standing.describe()
        # A verdict holds only under the policy that judged it: the one in force now.
        policy = in_force(self.context.config).digest
        stated = {i: stated_digest(r.attestation) for i, r in enumerate(mine)}
        judged_otherwise = {i: d for i, d in stated.items() if d != policy}
        accepted = [r for i, r in enumerate(mine)
                    if r.proves and i not in untrusted and i not in judged_otherwise]
        if accepted:
            last = accepted[-1]
            how = "HEAD" if last.commit == head else f"{last.commit[:12]} ({same_as_head(root, last, component)})"
            signature = signed.get(mine.index(last), "unsigned")
            return GateResult.passed(
                f"path: {how} was accepted for {previous.name} ({last.headline or last.colour}, "
                f"{last.time}, {signature})",
                measured=f"{previous.name} accepted on {last.commit[:12]}", threshold=threshold,
            )
        findings = [
            Finding(f"{previous.name} recorded {r.headline or r.colour} on {r.commit[:12]} "
                    f"at {r.time}: {untrusted[i]}", rule="untrusted")
            if i in untrusted else
            Finding(f"{previous.name} recorded {r.headline or r.colour} on {r.commit[:12]} at "
                    f"{r.time} under policy {short(judged_otherwise[i] or 'sha256:(none named)')}, "
                    f"not under the policy in force ({short(policy)})", rule="other-policy")
            if i in judged_otherwise and r.proves else
            Finding(f"{previous.name} recorded {r.headline or r.colour} (not accepted"
                    f"{': ' + '; '.join(r.caveats) if r.caveats else ''}) at {r.time}",
                    rule="not-accepted")
            for i, r in enumerate(mine)
        ]
        whose = f" of component {component.name}" if component else ""
        return GateResult.failed(
            f"path: HEAD {head[:12]} has no accepted {previous.name} record{whose}, required before "
            f"{stage}: promote to {previous.name} first (in CI, fetch the ledger: "
            f"git fetch origin {REF}:{REF})",
            measured=f"{previous.name} {'not accepted' if mine else 'not recorded'}"
            + (f" ({len(untrusted)} untrusted)" if untrusted else ""),
            threshold=threshold, findings=findings,
        )
