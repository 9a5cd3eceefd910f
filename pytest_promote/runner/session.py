"""The hooks of an active promotion run (``--promote-to`` given).

Gate items join the collection before ``-k``/``-m`` select, and are moved behind
every test afterwards. Under pytest-xdist the workers collect them (so selection
works as usual) but hand them back: the controller runs them once, after every
worker has finished, through the ordinary ``pytest_runtest_protocol``.
"""

from __future__ import annotations

import dataclasses
import gc
import os
from collections.abc import Generator, Sequence
from pathlib import Path
from typing import Any

import pytest

from pytest_promote.gates.coverage.start import paused
from pytest_promote.policy.kinds import gate_kinds
from pytest_promote.policy.loader import find_table, load
from pytest_promote.policy.model import Policy
from pytest_promote.runner import acceptance, canonical
from pytest_promote.runner.distributed import SELECTED, WORKER_DESELECTED, XdistHooks
from pytest_promote.runner.items import SCORECARD, GateItem, make_items
from pytest_promote.runner.judged import Judged, Owners, choose
from pytest_promote.runner.run import RUNS_KEY, PromoteRun
from pytest_promote.runner.suite import WORKER_KEY, SuiteCount, file_of, is_worker
from pytest_promote.runner.testlog import MARKERS_ATTR

#: What a session judging no component (``auto``, nothing changed) says.
NOTHING_JUDGED = ("nothing judged: no component's tests are collected, no record is written, "
                  "and the exit status is 5 (no tests collected), never a pass")


def load_policy(config: pytest.Config) -> tuple[Policy, dict[str, Any]]:
    """The project's policy and the gate kinds it may name (a UsageError if it is bad);
    which policy it is, and whether it is the committed one, is kept in the stash."""
    from pytest_promote.gates import builtin

    if not config.pluginmanager.is_registered(builtin):
        config.pluginmanager.register(builtin, "promote-gates")
    kinds = gate_kinds(config.pluginmanager)
    table, source = find_table(config.rootpath, config.getoption("promote_config"))
    declared = None
    if table is None and not is_worker(config):  # workers judge no gate
        from pytest_promote.gates.coverage.sources import declared_fail_under

        declared = declared_fail_under()
    policy = load(table, source, kinds, declared)
    if not is_worker(config):
        from pytest_promote.policy.proof import PROOF_KEY, prove

        config.stash[PROOF_KEY] = prove(
            config.rootpath, config.getoption("promote_config"), table, policy.source)
    return policy, kinds


def activate(config: pytest.Config) -> None:
    """Load the policy (a UsageError if it is bad) and register the run's hooks: one
    promotion run, or one per component judged."""
    from pytest_promote.policy import stages
    from pytest_promote.report import outputs
    from pytest_promote.report.record import LedgerPlugin
    from pytest_promote.runner import interrupt, worktree
    from pytest_promote.runner.shard import bundle

    bundle.check_options(config)
    policy, kinds = load_policy(config)
    judged = choose(config, policy)
    name = str(config.getoption("promote_to"))  # set: activate runs only then
    selection = None
    if name == stages.AUTO:
        selection = stages.select(policy, config.rootpath, os.environ)
        name = selection.stage
    count = SuiteCount(config, bool(config.getoption("promote_only")))
    runs = tuple(_promote_run(config, p, name, kinds, count) for p in judged.policies)
    signers = []
    if not is_worker(config):
        from pytest_promote import attestation

        signers = attestation.signers(config)
    # Before the run writes anything: the tree judged is the tree at the start.
    tree = None if is_worker(config) else worktree.Tree(config)
    dirty = tree.dirty if tree is not None else None
    from pytest_promote.policy.proof import PROOF_KEY

    for run in runs:
        run.policy_proof = config.stash.get(PROOF_KEY, None)
        run.redact = runs[0].redact  # a secret any run finds is masked in every output
        run.peers = runs
        run.selection = selection
        run.signers = signers
        run.dirty = dirty
        if judged.several:
            run.node = f"promote::{run.policy.component.name}"  # type: ignore[union-attr]
    shard = config.getoption("promote_shard")
    if shard:  # one run: a shard of several components is a usage error
        runs[0].shard = bundle.ShardRecorder(config, runs[0], Path(shard))
        config.pluginmanager.register(runs[0].shard, "promote-shard")
    junit = config.getoption("promote_junit")
    if junit:
        count.source = [f"the JUnit XML {junit}"]
    if not is_worker(config) and runs:
        count.start(clean=dirty == [])
    if junit and not is_worker(config):
        from pytest_promote.runner import results

        runs[0].tests.read_junit(Path(junit))  # one run: a component's is a usage error
        results.bind(runs[0], Path(junit))
    if config.getoption("promote_only") and not is_worker(config):
        from pytest_promote.runner import results

        for run in runs:
            run.input_checks.append(results.unbound_coverage)
    xml = config.getoption("xmlpath", None)
    if xml and runs and not is_worker(config) and not config.getoption("promote_only") and not shard:
        from pytest_promote.runner import results

        writer = results.ResultsWriter(config, runs, Path(xml))
        config.pluginmanager.register(writer, "promote-results")
    if config.getoption("promote_from"):
        from_shards(config, runs[0], str(config.getoption("promote_from")))
    config.stash[RUNS_KEY] = runs
    if tree is not None:
        tree.watch(runs)
    config.pluginmanager.register(count, "promote-suite")
    interrupt.install(config, runs)
    components = [run.policy.component for run in runs if run.policy.component]
    # Components' runs collect only their tests (no run: no test at all).
    owners = Owners(config.rootpath, components) if components or not runs else None
    config.pluginmanager.register(PromotePlugin(config, runs, judged, count, owners), "promote-session")
    config.pluginmanager.register(outputs, "promote-report")
    config.pluginmanager.register(LedgerPlugin(), "promote-ledger")
    if judged.several:
        from pytest_promote.gates.coverage import contexts

        config.stash[contexts.PER_COMPONENT] = True
        if owners is not None and not config.getoption("promote_only"):
            config.pluginmanager.register(contexts.ComponentContexts(config, owners.of), "promote-contexts")
    if config.pluginmanager.hasplugin("xdist"):
        config.pluginmanager.register(XdistHooks(runs, count), "promote-xdist")
    if config.pluginmanager.hasplugin("timeout"):
        from pytest_promote.runner.timeout import TimeoutHooks

        config.pluginmanager.register(TimeoutHooks(), "promote-timeout")


def _promote_run(
    config: pytest.Config, policy: Policy, name: str, kinds: dict[str, Any],
    count: SuiteCount,
) -> PromoteRun:
    """The run of ``policy`` (the repository's or a component's) at stage ``name``,
    its overrides resolved and authorised."""
    from pytest_promote._util import clock, git
    from pytest_promote.policy import overrides

    stage = policy.stage(name)
    run = PromoteRun(config, policy, stage, kinds, bool(config.getoption("promote_only")), count)
    if not is_worker(config):
        from pytest_promote import attestation

        attestation.check_trust(policy, config.rootpath)
    given = config.getoption("promote_override") or []
    actor = git.actor(config.rootpath) if given else None
    chosen = overrides.resolve(policy, stage, given, actor, clock.now().date())
    if not is_worker(config):
        from pytest_promote.approvals import authorise

        chosen = authorise(policy, stage, chosen, config.rootpath, clock.now().date())
    run.overrides = {
        gid: dataclasses.replace(o, reason=run.redact(o.reason)) for gid, o in chosen.items()
    }
    moved = clock.setting()
    if moved:
        run.environment[clock.ENV] = moved
    return run


def from_shards(config: pytest.Config, run: PromoteRun, pattern: str) -> None:
    """The final job of a sharded run: the gates judge the union of the bundles."""
    from pytest_promote.gates.coverage import sources
    from pytest_promote.runner.shard.union import LEFT_OUT_BY, read_union

    union = read_union(config, pattern)
    run.shards = union
    run.count.source = [LEFT_OUT_BY]
    union.fill(run.tests)
    config.stash[sources.SOURCE_KEY] = union.gathered
    shard_dirty = {p for b in union.bundles for p in b.dirty or ()}
    if shard_dirty:  # a shard that ran on a changed tree judged that tree
        run.dirty = sorted({*(run.dirty or []), *shard_dirty})


class PromotePlugin:
    """Collection, test bookkeeping, gate start-up and the final verdicts."""

    def __init__(
        self, config: pytest.Config, runs: tuple[PromoteRun, ...], judged: Judged, count: SuiteCount,
        owners: Owners | None,
    ) -> None:
        self.config = config
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
                         f"{run.shard.directory}")
        else:
            lines.append(
                f"promote: {len(gates) + 1} gate items run after the tests: {', '.join(gates)}, "
                "then the scorecard"
            )
        return lines

    @pytest.hookimpl(tryfirst=True)
    def pytest_collection(self, session: pytest.Session) -> None:
        """Start the gates before collecting, when nothing on the command line can
        deselect them: their tools then also overlap the collection."""
        option = self.config.option
        selecting = option.keyword or option.markexpr or self.config.getoption("deselect", None)
        sharding = any(run.shard for run in self.runs)
        if not (is_worker(self.config) or option.collectonly or selecting or sharding):
            for run in self.runs:
                run.start(run.stage.gates)

    def pytest_ignore_collect(self, collection_path: Path) -> bool | None:
        """``--promote-only``: collect none of the project's tests; components' runs:
        only their tests (none when no component is judged)."""
        if self.config.getoption("promote_only"):
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
        if self.config.getoption("promote_only"):
            items.clear()  # files named on the command line bypass pytest_ignore_collect
        elif is_worker(self.config):
            tests = canonical.collected(items)
            self.config.workeroutput[WORKER_KEY] = (tests, self.count.errors)  # type: ignore[attr-defined]
        elif not self.count.canonical.reasons:
            self.count.canonical.from_session(canonical.collected(items), self.count.errors)
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
        if is_worker(config):
            config.workeroutput[SELECTED] = self.selected  # type: ignore[attr-defined]
            config.workeroutput[WORKER_DESELECTED] = self.count.deselected  # type: ignore[attr-defined]
        else:
            items.extend(gates[nodeid] for nodeid in self.selected)

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
        """Start the gates' background work, run the tests, then the gates (the body
        of ``GateLoop``'s wrapper)."""
        if (is_worker(self.config) or session.config.option.collectonly
                or any(run.shard for run in self.runs)):
            return (yield)
        controller = self.config.pluginmanager.hasplugin("dsession")
        with paused(self.config):  # the gates' background work is no coverage of the project
            for run in self.runs:
                planned = run.stage.gates
                run.start(planned if controller else [g for g in self._selected(run) if g in planned])
        # The gates run after the loop, once the last test has torn down the session
        # fixtures: their teardown counts (coverage of it, errors in it).
        held = [i for i in session.items if isinstance(i, GateItem)]
        session.items[:] = [i for i in session.items if not isinstance(i, GateItem)]
        result = yield
        # pytest-cov's --cov-context=test names each test's context while it measures;
        # its measurement has ended, and gates are no tests (before pytest-cov 6.2, its
        # plugin fails every item that runs after the measurement stopped).
        if (test_contexts := self.config.pluginmanager.get_plugin("_cov_contexts")) is not None:
            self.config.pluginmanager.unregister(test_contexts)
        if not session.shouldstop and not session.shouldfail:
            for run in self.runs:
                run.count_suite()
            if controller:
                self._run_on_controller(session)
            else:
                _run_items(held)
        return result

    def _selected(self, run: PromoteRun) -> list[str]:
        """The gate ids of ``run`` whose items were kept."""
        prefix = f"{run.node}::"
        return [n.removeprefix(prefix) for n in self.selected or [] if n.startswith(prefix)]

    def _run_on_controller(self, session: pytest.Session) -> None:
        xdist = self.config.pluginmanager.getplugin("promote-xdist")
        selected = xdist.selected if isinstance(xdist, XdistHooks) else None
        if selected is None:
            return  # no worker reported its selection: the gates did not run (RED)
        _run_items([
            i for run in self.runs for i in make_items(session, run, list(run.stage.gates))
            if i.nodeid in selected
        ])

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        """Decide, report, and set the exit status the decisions make (see
        :mod:`pytest_promote.runner.acceptance`). With no run (no component changed),
        nothing was judged: never a pass."""
        if is_worker(self.config) or self.config.option.collectonly:
            return
        if not self.runs:
            session.exitstatus = pytest.ExitCode.NO_TESTS_COLLECTED
            return
        if any(run.shard for run in self.runs):
            return
        for run in self.runs:
            run.exit_status = int(session.exitstatus)
            run.decide()
        for run in self.runs:
            self.config.hook.pytest_promote_verdict(config=self.config, verdict=run.verdict, run=run)
        session.exitstatus = acceptance.exit_status(self.runs, session.exitstatus)

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        """The ``promotion`` section (one per component judged)."""
        from pytest_promote.report import terminal

        if is_worker(self.config):
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


def _run_items(items: Sequence[pytest.Item]) -> None:
    # The heap now holds all the test run left. The gates (coverage's analysis above
    # all) make many short-lived objects, and each full collection would walk that
    # heap again (about 40% of the coverage gate's time on a large suite): freeze it.
    gc.freeze()
    try:
        for index, item in enumerate(items):
            nextitem = items[index + 1] if index + 1 < len(items) else None
            item.ihook.pytest_runtest_protocol(item=item, nextitem=nextitem)
    finally:
        gc.unfreeze()
