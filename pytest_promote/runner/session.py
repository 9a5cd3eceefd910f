"""The hooks of an active promotion run (``--promote-to`` given).

Gate items join the collection before ``-k``/``-m`` select, and are moved behind
every test afterwards. Under pytest-xdist the workers collect them (so selection
works as usual) but hand them back: the controller runs them once, after every
worker has finished, through the ordinary ``pytest_runtest_protocol``.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Generator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from pytest_promote._util.redact import Redactor
from pytest_promote.gates.kinds import gate_kinds
from pytest_promote.policy.loader import find_table, load
from pytest_promote.policy.model import Policy
from pytest_promote.policy.stage import Stage
from pytest_promote.runner import acceptance
from pytest_promote.runner.acceptance import ExitRule, exit_rule
from pytest_promote.runner.items import SCORECARD, GateItem, make_items
from pytest_promote.runner.judged import Judged, Owners, choose
from pytest_promote.runner.options import options
from pytest_promote.runner.roles import Controller, Results, choose_role
from pytest_promote.runner.run import RUNS_KEY, PromoteRun, vocabulary
from pytest_promote.runner.suite import SuiteCount, file_of
from pytest_promote.runner.testlog import MARKERS_ATTR

if TYPE_CHECKING:
    from pytest_promote.policy.overrides import Override
    from pytest_promote.runner.worktree import Tree

#: What a session judging no component (``auto``, nothing changed) says.
NOTHING_JUDGED = ("nothing judged: no component's tests are collected, no record is written, "
                  "and the exit status is 5 (no tests collected), never a pass")


def load_policy(config: pytest.Config, proves: bool = True) -> tuple[Policy, dict[str, Any]]:
    """The project's policy and the gate kinds it may name (a UsageError if it is bad);
    with ``proves`` (not in an xdist worker, which judges no gate), which policy it is,
    and whether it is the committed one, is kept in the stash."""
    from pytest_promote.gates import builtin

    if not config.pluginmanager.is_registered(builtin):
        config.pluginmanager.register(builtin, "promote-gates")
    kinds = gate_kinds(config.pluginmanager)
    chosen = options(config).policy
    table, source = find_table(config.rootpath, chosen)
    declared = None
    if table is None and proves:
        from pytest_promote.gates.coverage.sources import declared_fail_under

        declared = declared_fail_under()
    policy = load(table, source, kinds, declared)
    if proves:
        from pytest_promote.policy.proof import PROOF_KEY, prove

        config.stash[PROOF_KEY] = prove(config.rootpath, chosen, table, policy.source)
    return policy, kinds


def activate(config: pytest.Config) -> None:
    """Load the policy (a UsageError if it is bad) and register the run's hooks: one
    promotion run, or one per component judged."""
    from pytest_promote.gates.coverage.sources import PLAN_KEY, Plan
    from pytest_promote.report import outputs
    from pytest_promote.report.record import LedgerPlugin
    from pytest_promote.runner import interrupt

    role = choose_role(config, options(config))
    policy, kinds = load_policy(config, role.proves)
    judged = choose(config, policy)
    runs, count, tree = _promote_runs(config, role, policy, judged, kinds)
    role.begin(runs, count, tree.dirty if tree is not None else None)
    config.stash[RUNS_KEY] = runs
    kinds_planned = frozenset(run.policy.gates[gid].kind for run in runs for gid in run.stage.gates)
    config.stash[PLAN_KEY] = Plan(kinds_planned, worker=role.worker)
    if tree is not None:
        tree.watch(runs)
    config.pluginmanager.register(count, "promote-suite")
    interrupt.install(config, runs)
    components = [run.policy.component for run in runs if run.policy.component]
    # Components' runs collect only their tests (no run: no test at all).
    owners = Owners(config.rootpath, components) if components or not runs else None
    config.pluginmanager.register(PromotePlugin(config, role, runs, judged, count, owners),
                                  "promote-session")
    config.pluginmanager.register(outputs, "promote-report")
    config.pluginmanager.register(LedgerPlugin(), "promote-ledger")
    if judged.several:
        from pytest_promote.gates.coverage import contexts

        config.stash[contexts.PER_COMPONENT] = True
        if owners is not None and not role.options.only:
            config.pluginmanager.register(contexts.ComponentContexts(config, owners.of), "promote-contexts")
    role.distribute(runs, count)
    if config.pluginmanager.hasplugin("timeout"):
        from pytest_promote.runner.timeout import TimeoutHooks

        config.pluginmanager.register(TimeoutHooks(), "promote-timeout")


def _promote_runs(
    config: pytest.Config, role: Controller, policy: Policy, judged: Judged,
    kinds: dict[str, Any],
) -> tuple[tuple[PromoteRun, ...], SuiteCount, Tree | None]:
    """The session's runs, each built whole (one per policy judged), the count of the
    suite they share, and the working tree as the session starts."""
    from pytest_promote._util import clock
    from pytest_promote.policy import stages
    from pytest_promote.policy.proof import PROOF_KEY

    chosen = role.options
    name = str(chosen.to)  # set: activate runs only then
    selection = None
    if name == stages.AUTO:
        selection = stages.select(policy, config.rootpath, os.environ)
        name = selection.stage
    count = SuiteCount(config, chosen.only, role.source())
    planned = [(p, *_plan(config, role, p, name)) for p in judged.policies]
    signers = role.signers()
    # Before the run writes anything: the tree judged is the tree at the start.
    tree = role.tree()
    dirty = tree.dirty if tree is not None else None
    results = role.results()  # the one run's: a component's is a usage error
    # One redactor: a secret any run finds is masked in every output.
    shared = Redactor(vocabulary(judged.policies[0])) if judged.policies else None
    try:
        moved = clock.setting()
    except clock.ClockError as exc:
        raise pytest.UsageError(str(exc)) from None
    runs: list[PromoteRun] = []
    for judging, stage, rule, overrides in planned:
        given = results if not runs else Results()
        runs.append(PromoteRun(
            config, judging, stage, kinds, count=count, exit_rule=rule, dry_run=chosen.dry_run,
            tests=given.tests, redact=shared, overrides=overrides, selection=selection,
            dirty=sorted({*(dirty or []), *given.dirty}) if given.dirty else dirty,
            unproven=given.unproven, policy_proof=config.stash.get(PROOF_KEY, None),
            input_checks=role.input_checks(), bound_coverage=given.bound_coverage,
            environment={clock.ENV: moved} if moved else None,
            shard=Path(chosen.shard) if chosen.shard else None, shards=given.shards,
            signers=signers, node=_node(judged, judging),
        ))
    return tuple(runs), count, tree


def _plan(
    config: pytest.Config, role: Controller, policy: Policy, name: str,
) -> tuple[Stage, ExitRule, dict[str, Override]]:
    """The stage ``name`` of ``policy`` (the repository's or a component's), the
    exit rule, and the overrides resolved and authorised (usage errors in that order)."""
    from pytest_promote._util import clock, git
    from pytest_promote.policy import overrides

    stage = policy.stage(name)
    rule = exit_rule(role.options.exit)
    role.check_trust(policy)
    given = list(role.options.overrides)
    actor = git.actor(config.rootpath) if given else None
    try:
        today = clock.now().date()
    except clock.ClockError as exc:
        raise pytest.UsageError(str(exc)) from None
    chosen = overrides.resolve(policy, stage, given, actor, today)
    chosen = role.authorise(policy, stage, chosen)
    if not chosen:
        return stage, rule, {}
    redact = Redactor(vocabulary(policy))
    return stage, rule, {gid: dataclasses.replace(o, reason=redact(o.reason)) for gid, o in chosen.items()}


def _node(judged: Judged, policy: Policy) -> str:
    """The node id of the gate items' parent: ``promote::<component>`` when the
    session judges several components."""
    component = policy.component
    return f"promote::{component.name}" if judged.several and component is not None else "promote"


class PromotePlugin:
    """Collection, test bookkeeping, gate start-up and the final verdicts."""

    def __init__(
        self, config: pytest.Config, role: Controller, runs: tuple[PromoteRun, ...],
        judged: Judged, count: SuiteCount, owners: Owners | None,
    ) -> None:
        self.config = config
        #: What this process does in the session (chosen once): the hooks delegate to it.
        self.role = role
        self.runs = runs
        self.judged = judged
        self.count = count
        #: The node ids of the gate items kept, in plan order (None: not known yet,
        #: on the xdist controller).
        self.selected: list[str] | None = None
        #: Which of the judged components a path is collected for (None: the whole
        #: repository is judged).
        self.owners = owners

    def pytest_report_header(self, config: pytest.Config) -> list[str]:
        """Say which stage is being promoted to, why, under which policy."""
        lines = []
        if self.judged.described:
            lines.append(f"promote: {self.judged.described}")
        if not self.runs:
            lines.append(f"promote: {NOTHING_JUDGED}")
        for run in self.runs:
            lines += self._describe(run)
        first = self.runs[0] if self.runs else None
        if first and first.shards:
            lines += first.shards.describe()
        if first and first.selection:
            lines.append(f"promote: {first.selection.describe()}")
        lines += dict.fromkeys(
            f"promote: override {o.gate} {o.describe()}" for r in self.runs for o in r.overrides.values()
        )
        lines += acceptance.header(first) if first else []
        if first:
            from pytest_promote.gates.provenance import base_sources

            lines += base_sources(self.config)
        return lines

    def _describe(self, run: PromoteRun) -> list[str]:
        """A run's stage, component, gates and overrides, for the header."""
        policy = run.policy_proof.describe() if run.policy_proof else run.policy.source
        lines = [f"promote: stage {run.stage.name} (policy: {policy})"]
        if run.policy_proof and run.policy_proof.uncommitted:
            lines.append(f"promote: {run.policy_proof.caveat()}: judged, never accepted")
        component = run.policy.component
        if component is not None:
            lines.append(
                f"promote: component {component.name}: its tests ({', '.join(component.tests)}), "
                f"its gates over {' '.join(component.paths)}"
            )
        gates = list(run.stage.gates)
        if run.shard:
            lines.append(f"promote: shard run: no gate runs here; the bundle goes to "
                         f"{run.shard}")
        else:
            lines.append(
                f"promote: {len(gates) + 1} gate items run after the tests: {', '.join(gates)}, "
                "then the scorecard"
            )
        return lines

    @pytest.hookimpl(tryfirst=True)
    def pytest_collection(self, session: pytest.Session) -> None:
        """Start the gates before collecting, where the role may."""
        self.role.start_early(self.runs)

    def pytest_ignore_collect(self, collection_path: Path) -> bool | None:
        """``--promote-only``: collect none of the project's tests; components' runs:
        only their tests (none when no component is judged)."""
        if self.role.options.only:
            return True
        if self.owners is None:
            return None  # the whole repository's run
        try:
            rel = collection_path.relative_to(self.config.rootpath).as_posix()
        except ValueError:
            return None  # outside the project: not a component's to judge
        return None if rel == "." or self.owners.of(rel) else True

    @pytest.hookimpl(tryfirst=True)
    def pytest_collection_modifyitems(self, session: pytest.Session, items: list[Any]) -> None:
        """Add the gate items before ``-k``/``-m``/``--deselect`` select."""
        if self.role.options.only:
            items.clear()  # files named on the command line bypass pytest_ignore_collect
        else:
            self.role.collected(items, self.count)
        gate_items = [
            item for run in self.runs if not run.shard
            for item in make_items(session, run, list(run.stage.gates))
        ]
        if not gate_items:
            return  # a shard runs no gate: the final job does
        # Reported as collected, as pytest reports any collector's items: "collected N
        # items" then counts the gates the session's final line counts.
        collected: list[pytest.Item | pytest.Collector] = [*gate_items]
        report = pytest.CollectReport("promote", "passed", None, collected)
        session.ihook.pytest_collectreport(report=report)
        items.extend(gate_items)

    @pytest.hookimpl(wrapper=True, specname="pytest_collection_modifyitems")
    def pytest_collection_modifyitems_gates_last(
        self, session: pytest.Session, config: pytest.Config, items: list[Any]
    ) -> Generator[None, None, None]:
        """After every plugin reordered and selected: gates last, in plan order."""
        yield
        gates = {i.nodeid: i for i in items if isinstance(i, GateItem)}
        order = [f"{run.node}::{gid}" for run in self.runs for gid in [*run.stage.gates, SCORECARD]]
        self.selected = [nodeid for nodeid in order if nodeid in gates]
        items[:] = [i for i in items if not isinstance(i, GateItem)]
        self.role.keep(items, gates, self.selected, self.count)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        """Carry each test's marker names on its report (across xdist, too)."""
        report = yield
        if not isinstance(item, GateItem):
            setattr(report, MARKERS_ATTR, sorted({m.name for m in item.iter_markers()}))
        return report

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """Remember every test's outcome for the gates that judge the tests (of a
        component: the outcomes of its own tests)."""
        if report.nodeid.startswith("promote::"):
            return
        for run in self.runs:
            component = run.policy.component
            if component is None or component.is_test(file_of(report.nodeid)):
                run.tests.record(report)

    def runtestloop(self, session: pytest.Session) -> Generator[None, object, object]:
        """The tests, and the gates where the role runs them (the body of
        ``GateLoop``'s wrapper)."""
        return (yield from self.role.runtestloop(session, self.runs, self.selected))

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        """Decide, where the role does, and set the exit status the decisions make."""
        self.role.finish(session, self.runs)

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        """The ``promotion`` section (one per component judged)."""
        from pytest_promote.report import terminal

        if not self.role.summarises():
            return
        if not self.runs and not self.config.option.collectonly:
            terminalreporter.write_line(f"promote: {self.judged.described}: {NOTHING_JUDGED}",
                                        red=True, bold=True)
        decided = [run for run in self.runs if run.verdict is not None]
        for run in decided:
            terminal.write(terminalreporter, run)
        if self.judged.several and decided:
            terminal.components(terminalreporter, decided)
        for run in decided:
            for line in run.failed_outputs:
                terminalreporter.write_line(f"ERROR: {line}", red=True, bold=True)


class GateLoop:
    """The wrapper of ``pytest_runtestloop`` that runs the gate items after the tests.

    Wrappers nest in the reverse order of their plugins' registration, so this one is
    registered before the terminal reporter and after pytest-cov (from
    ``pytest_cmdline_main``): the terminal's wrapper, which writes the final progress
    ("[100%]"), ends after the gates ran; pytest-cov's, which stops its measurement and
    combines the workers' data, ends before they run.
    """

    def __init__(self, config: pytest.Config) -> None:
        self.config = config

    @pytest.hookimpl(wrapper=True)
    def pytest_runtestloop(self, session: pytest.Session) -> Generator[None, object, object]:
        """The active run's loop; without one (a bad policy stopped it), pytest's own."""
        plugin = self.config.pluginmanager.get_plugin("promote-session")
        if not isinstance(plugin, PromotePlugin):
            return (yield)
        return (yield from plugin.runtestloop(session))
