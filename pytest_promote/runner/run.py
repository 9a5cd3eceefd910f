"""The state of one promotion run: the stage's gates, their results, the verdict."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING

import pytest

from pytest_promote._util.digest import digest
from pytest_promote._util.process import ToolError
from pytest_promote._util.redact import Redactor
from pytest_promote.api import Finding, Gate, GateContext, GateResult
from pytest_promote.gates import cache
from pytest_promote.policy.model import Policy
from pytest_promote.policy.stage import Stage
from pytest_promote.runner import acceptance
from pytest_promote.runner.acceptance import dirty_text
from pytest_promote.runner.scorecard import GateOutcome, Verdict, decide
from pytest_promote.runner.suite import SuiteCount
from pytest_promote.runner.testlog import TestLog

if TYPE_CHECKING:
    from pathlib import Path

    from pytest_promote.ledger.signing.dsse import Signer
    from pytest_promote.policy.overrides import Override
    from pytest_promote.policy.proof import PolicyProof
    from pytest_promote.policy.stages import Selection
    from pytest_promote.runner.shard.union import ShardUnion

#: The session's promotion runs: one, or one per component it judges
#: (``--promote-component=all|auto``), each with its own gates and verdict.
RUNS_KEY = pytest.StashKey[tuple["PromoteRun", ...]]()


class PromoteRun:
    """Gates are started once, evaluated once, and judged together.

    Built whole by :func:`pytest_promote.runner.session.activate` (or a pre-check):
    what the run judges with comes in; what it finds and decides is its own state.
    """

    def __init__(
        self,
        config: pytest.Config,
        policy: Policy,
        stage: Stage,
        kinds: Mapping[str, type[Gate]],
        *,
        count: SuiteCount,
        exit_rule: acceptance.ExitRule,
        dry_run: bool = False,
        tests: TestLog | None = None,
        files: tuple[str, ...] | None = None,
        cache_scope: str | None = None,
        redact: Redactor | None = None,
        overrides: Mapping[str, Override] | None = None,
        selection: Selection | None = None,
        dirty: list[str] | None = None,
        unproven: Iterable[str] = (),
        policy_proof: PolicyProof | None = None,
        input_checks: Iterable[Callable[[PromoteRun], str | None]] = (),
        bound_coverage: dict[str, str] | None = None,
        environment: Mapping[str, str] | None = None,
        shard: Path | None = None,
        shards: ShardUnion | None = None,
        signers: Iterable[Signer] = (),
        node: str = "promote",
    ) -> None:
        self.policy = policy
        self.stage = stage
        self.kinds = kinds
        self.tests = tests if tests is not None else TestLog()
        self.context = GateContext(
            config, config.rootpath, stage.name, policy, count.promote_only, self.tests, files
        )
        self.dry_run = dry_run
        #: Under which name the gates' results are kept in pytest's cache: the stage's;
        #: a pre-check of some files keeps its results apart (they judge those files only).
        self.cache_scope = cache_scope or stage.name
        self._gates: dict[str, Gate] = {}
        self._failed_start: dict[str, GateResult] = {}
        self._reused: dict[str, GateResult] = {}  # stored results whose inputs are unchanged
        self._fingerprints: dict[str, str] = {}  # fresh cacheable gates: what to store under
        self.outcomes: dict[str, GateOutcome] = {}
        self.verdict: Verdict | None = None
        #: Whether the stage accepts the verdict, why not, and what that makes of the
        #: exit status: every output that says whether the run passed reads it.
        self.decision: acceptance.Decision | None = None
        #: What decides the exit status: acceptance (CI) or the colour (a local run).
        self.exit_rule = exit_rule
        #: Gate id -> the override that applies.
        self.overrides: dict[str, Override] = dict(overrides or {})
        #: How ``--promote-to=auto`` chose the stage; None when it was named.
        self.selection = selection
        #: The signal that ended the run early (SIGTERM, SIGHUP, SIGINT), if any.
        self.terminated: str | None = None
        #: What this session left out of the whole suite (one count for every run).
        self.count = count
        #: What under the root differs from HEAD (None: git cannot say): at session
        #: start, and what the run's tree watch finds changed since.
        self.dirty = dirty
        #: Why results this run judges but did not produce (a JUnit XML, coverage
        #: data) are not shown to be of this commit and tree: never accepted.
        self.unproven: list[str] = list(unproven)
        #: Which policy judges this run, and whether it is the committed one (None:
        #: not known, in an xdist worker).
        self.policy_proof = policy_proof
        #: pytest's exit status as the session ends, before the verdict sets it (None:
        #: not ended yet).
        self.exit_status: int | None = None
        #: Checks of inputs known only once the gates read them (coverage data): each
        #: says why an input is not shown to be of this commit and tree, or None.
        self.input_checks = tuple(input_checks)
        #: Coverage data files the results manifest binds (path -> digest).
        self.bound_coverage = bound_coverage
        #: Environment variables that changed how this run judged (name -> value).
        self.environment: dict[str, str] = dict(environment or {})
        #: What the run could not write (a report, a summary, its ledger record): one
        #: message each, naming where, why and the fix; any makes the session exit 4.
        self.failed_outputs: list[str] = []
        #: Masks the free text that enters the run (see pytest_promote._util.redact);
        #: the run's own words (gate ids, stage and component names) are never masked.
        #: The runs of a session share one: each one's secrets are masked in all.
        self.redact = redact if redact is not None else Redactor(vocabulary(policy))
        #: ``--promote-shard``: this run is one shard, whose bundle goes to this
        #: directory; it runs no gate.
        self.shard = shard
        #: ``--promote-from``: the shard bundles this run judges as one suite.
        self.shards = shards
        #: Who signs the run's attestation (``--promote-sign-key``, plugins' signers).
        self.signers: list[Signer] = list(signers)
        #: The node id of the run's gate items' parent: ``promote``, or
        #: ``promote::<component>`` when the session judges several components.
        self.node = node

    @property
    def peers(self) -> tuple[PromoteRun, ...]:
        """The runs of this session (one per component judged), which share one
        redactor: each one's secrets are found before any of them shows a result."""
        return self.context.config.stash.get(RUNS_KEY, (self,))

    def count_suite(self) -> None:
        """Compare the tests this run judges with the canonical suite (a component's:
        its own tests); what could not be collected fails the test-judging gates."""
        if self.context.promote_only and self.tests.source is None:
            return  # no test results at all: the gates say so
        only = self.policy.component.is_test if self.policy.component else None
        try:
            found = self.count.compare(self.tests.outcomes, only)
        except ToolError as exc:
            self.tests.suite_error = str(exc)
            return
        self.tests.suite = found.suite
        self.tests.left_out = found.missing
        # A shard's bundle names the file that did not import first: said once.
        known = {f.message.split(": ", 1)[0] for f in self.tests.problems if f.rule == "collection"}
        self.tests.problems += [
            Finding(f"{where}: could not be collected: {error}", file=where, rule="collection")
            for where, error in sorted(found.errors.items()) if where not in known
        ]

    def caveats(self) -> list[str]:
        """Why this run's colour, whatever it is, proves nothing (never accepted).

        Acceptance is positive proof: the tests judged are the canonical suite, each
        passed or judged by a gate of the stage, pytest ended as a run that completed,
        the policy is the committed one, and every input is of this commit and tree.
        """
        found = self._unproven_tests()
        if self.dirty:
            found.append(dirty_text(self.dirty))
        found += self.unproven
        caveat = self.policy_proof.caveat() if self.policy_proof else None
        if caveat:
            found.append(caveat)
        found += [said for check in self.input_checks if (said := check(self))]
        found += [f"{name}={value} set" for name, value in self.shown_environment().items()]
        return found

    def shown_environment(self) -> dict[str, str]:
        """:attr:`environment` as every output shows it: its values are text from
        outside, masked."""
        return {name: self.redact(value) for name, value in self.environment.items()}

    def _unproven_tests(self) -> list[str]:
        """Why the tests are not shown to be the whole suite, each passed or judged (a
        stage with no ``tests`` gate judges no suite, but a failure still counts)."""
        suite = self.tests.suite
        judging = any(self.policy.gates[g].kind == "tests" for g in self.stage.gates)
        uncollected = [f"{where}: could not be collected: {error}"
                       for where, error in sorted(self.count.errors.items())]
        found = [suite.describe()] if suite is not None and suite.partial else []
        if suite is None and not self.shard and judging:
            why = "; ".join(uncollected) or self.tests.suite_error or self.tests.nothing_ran(
                "tests", self.context.promote_only)
            found.append(f"the suite run is not proven: {why or 'no test result was compared with it'}")
        if self.count.canonical.unanchored:
            found.append(self.count.canonical.unanchored)
        failed = len(self.tests.failed())
        errors = max(len(uncollected), sum(1 for p in self.tests.problems if p.rule == "collection"))
        if not judging and (failed or errors):
            found.append(f"{failed} failed, {errors} not collected, and no gate of "
                         f"{self.stage.name} judges the tests")
        if self.exit_status not in (None, pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED):
            named = {int(c): c.name.lower().replace("_", " ") for c in pytest.ExitCode}
            found.append(f"pytest's exit status is {self.exit_status} "
                         f"({named.get(int(self.exit_status), 'unknown')})")
        return found

    def start(self, gate_ids: Iterable[str]) -> None:
        """Create the gates and let each begin its background work."""
        for gid in gate_ids:
            if gid in self._gates or gid in self._failed_start or gid in self._reused:
                continue
            if gid not in self.stage.gates:
                continue  # the scorecard item: not a gate
            spec = self.policy.gates[gid]
            try:
                gate = self.kinds[spec.kind](gid, self.stage.options[gid], self.context)
                missing = gate.missing()
                if missing is not None:
                    self._failed_start[gid] = GateResult.error(f"{gid}: {missing}")
                    continue
                if self._reuse(gate):
                    continue
                gate.start()
            except Exception as exc:  # a gate that cannot start fails closed
                self._failed_start[gid] = _crashed(exc)
                continue
            self._gates[gid] = gate

    def _reuse(self, gate: Gate) -> bool:
        """Take the stored result if the gate's inputs did not change (local runs only)."""
        if getattr(self.context.config, "cache", None) is None:
            return False  # nowhere to load from or store to: no fingerprint to take
        fingerprint = stored_under(gate)
        if fingerprint is None:
            return False
        config = self.context.config
        if cache.reuse_allowed(config):
            stored = cache.load(config, self.cache_scope, gate.id, fingerprint)
            if stored is not None:
                self._reused[gate.id] = stored
                return True
        self._fingerprints[gate.id] = fingerprint
        return False

    def find_secrets(self) -> None:
        """Evaluate this run's gates that find secrets, if not yet evaluated: a peer
        masks its results with what they found."""
        for gate_id, gate in list(self._gates.items()):
            if _finds_secrets(gate) and gate_id not in self.outcomes:
                self.evaluate(gate_id)

    def evaluate(self, gate_id: str) -> GateOutcome:
        """Run (or finish) one gate, once; a crash is an error result, never a pass.

        Gates that find secrets, this run's and its peers', are evaluated first, so
        every result is masked with what they found (see :meth:`Gate.secrets`).
        """
        if gate_id in self.outcomes:
            return self.outcomes[gate_id]
        if not _finds_secrets(self._gates.get(gate_id)):
            for run in self.peers:
                run.find_secrets()
        self.start([gate_id])
        begin = time.perf_counter()
        result = self._failed_start.get(gate_id) or self._reused.get(gate_id)
        if result is None:
            gate = self._gates[gate_id]
            try:
                result = gate.evaluate()
                self.redact.add(gate.secrets())
            except (Exception, pytest.fail.Exception) as exc:  # pytest.fail: interrupted
                result = _crashed(exc)
            result = self.redact.result(result)
            if gate_id in self._fingerprints and not self.dry_run:
                fingerprint = self._fingerprints[gate_id]
                cache.store(self.context.config, self.cache_scope, gate_id, fingerprint, result)
        outcome = GateOutcome(
            gate_id, self.stage.mode(gate_id), self.redact.result(result),
            time.perf_counter() - begin,
            self._override(gate_id),
        )
        self.outcomes[gate_id] = outcome
        return outcome

    def _override(self, gate_id: str) -> Override | None:
        """The gate's override, its reason masked with every secret found so far (it
        came in before the gates found theirs)."""
        override = self.overrides.get(gate_id)
        if override is None:
            return None
        return dataclasses.replace(override, reason=self.redact(override.reason))

    def decide(self) -> Verdict:
        """The scorecard over every gate of the stage; gates that did not run count."""
        outcomes = [
            dataclasses.replace(self.outcomes[gid], override=self._override(gid))
            if gid in self.outcomes
            else GateOutcome(gid, self.stage.mode(gid), None, override=self._override(gid))
            for gid in self.stage.gates
        ]
        self.verdict = decide(self.stage, outcomes, self.caveats(), self.terminated)
        self.decision = acceptance.Decision(self.verdict, self.exit_rule, self.dry_run)
        return self.verdict


def stored_under(gate: Gate) -> str | None:
    """The fingerprint a result of ``gate`` is stored and found under: what it depends
    on, and which kind made it in which version; None: not cacheable."""
    fingerprint = gate.fingerprint()
    if fingerprint is None:
        return None
    from pytest_promote import __version__

    kind = f"{type(gate).__module__}.{type(gate).__qualname__}"
    return digest(fingerprint, kind, __version__)


def vocabulary(policy: Policy) -> set[str]:
    """The words of a run's own outputs that come from its policy: gate ids, stage and
    component names (a secret equal to one never changes them)."""
    return {*policy.gates, *(s.name for s in policy.stages), *policy.components}


def _finds_secrets(gate: Gate | None) -> bool:
    return gate is not None and type(gate).secrets is not Gate.secrets


def _crashed(exc: BaseException) -> GateResult:
    return GateResult.error(f"could not evaluate: {type(exc).__name__}: {exc}")
