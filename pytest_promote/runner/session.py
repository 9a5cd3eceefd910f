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
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

import pytest

from pytest_promote.policy import load as policy_mod
from pytest_promote.runner.items import SCORECARD, GateItem, make_items
from pytest_promote.runner.run import RUN_KEY, PromoteRun, dirty_text
from pytest_promote.runner.suite import WORKER_KEY, is_worker
from pytest_promote.runner.testlog import MARKERS_ATTR

if TYPE_CHECKING:
    from pytest_promote.policy.components import Component

SELECTED = "promote_selected"  # key in xdist's workeroutput


def load_policy(config: pytest.Config) -> tuple[policy_mod.Policy, dict[str, Any]]:
    """The project's policy and the gate kinds it may name (a UsageError if it is bad)."""
    from pytest_promote.gates import builtin as gates

    if not config.pluginmanager.is_registered(gates):
        config.pluginmanager.register(gates, "promote-gates")
    kinds = policy_mod.gate_kinds(config.pluginmanager)
    table, source = policy_mod.find_table(config.rootpath, config.getoption("promote_config"))
    declared = None
    if table is None and not is_worker(config):  # workers judge no gate
        from pytest_promote.gates.coverage.data import declared_fail_under

        declared = declared_fail_under()
    return policy_mod.load(table, source, kinds, declared), kinds


def activate(config: pytest.Config) -> None:
    """Load the policy (a UsageError if it is bad) and register the run's hooks."""
    from pytest_promote._util import clock, git
    from pytest_promote.ledger import records as ledger
    from pytest_promote.policy import overrides, stages
    from pytest_promote.report import write as report
    from pytest_promote.runner import interrupt
    from pytest_promote.runner.shard import bundle as shardbundle

    shardbundle.check_options(config)
    policy, kinds = load_policy(config)
    component = config.getoption("promote_component")
    if component is not None:
        if config.getoption("promote_junit"):
            raise pytest.UsageError(
                "--promote-junit with --promote-component: a JUnit XML names tests by class, "
                "not by file, so the component's tests cannot be told from the others; "
                "promote the component with its tests (without --promote-only)"
            )
        policy = policy.only(component, config.rootpath)
    name = str(config.getoption("promote_to"))  # set: activate runs only then
    selection = None
    if name == stages.AUTO:
        selection = stages.select(policy, config.rootpath, os.environ)
        name = selection.stage
    stage = policy.stage(name)
    promote_only = bool(config.getoption("promote_only"))
    run = PromoteRun(config, policy, stage, kinds, promote_only)
    run.selection = selection
    if not is_worker(config):
        from pytest_promote.attest import promotion

        promotion.check_trust(policy, config.rootpath)
        run.signers = promotion.signers(config)
    given = config.getoption("promote_override") or []
    actor = git.actor(config.rootpath) if given else None
    chosen = overrides.resolve(policy, stage, given, actor, clock.now().date())
    if not is_worker(config):
        from pytest_promote.attest.approvals import authorise

        chosen = authorise(policy, stage, chosen, config.rootpath, clock.now().date())
    run.overrides = {
        gid: dataclasses.replace(o, reason=run.redact(o.reason)) for gid, o in chosen.items()
    }
    moved = clock.setting()
    if moved:
        run.environment[clock.ENV] = moved
    shard = config.getoption("promote_shard")
    if shard:
        run.shard = shardbundle.ShardRecorder(config, run, Path(shard))
        config.pluginmanager.register(run.shard, "promote-shard")
    if not is_worker(config):
        # Before the run writes anything: the tree judged is the tree at the start.
        run.dirty = shardbundle.without_bundles(config.rootpath, git.changes(config.rootpath))
        if run.shard:
            run.shard.start()  # lists the whole suite where the session may not collect it
        else:
            run.count.start()
    junit = config.getoption("promote_junit")
    if junit and not is_worker(config):
        run.tests.read_junit(Path(junit))
    if policy.component is not None:
        run.count.only = policy.component.is_test
    if config.getoption("promote_from"):
        from_shards(config, run, str(config.getoption("promote_from")))
    config.stash[RUN_KEY] = run
    config.pluginmanager.register(run.count, "promote-suite")
    interrupt.install(config, run)
    config.pluginmanager.register(PromotePlugin(config, run), "promote-session")
    config.pluginmanager.register(report, "promote-report")
    config.pluginmanager.register(ledger.LedgerPlugin(run), "promote-ledger")
    if config.pluginmanager.hasplugin("xdist"):
        config.pluginmanager.register(XdistHooks(run), "promote-xdist")
    if config.pluginmanager.hasplugin("timeout"):
        config.pluginmanager.register(TimeoutHooks(), "promote-timeout")


def kept_for(component: Component, root: Path) -> set[str]:
    """The component's test files under ``root`` and every directory above them: what
    its run collects."""
    from pytest_promote._util.paths import walk

    files = [f.relative_to(root).as_posix() for f in walk(root)]
    kept = {f for f in files if component.is_test(f)}
    kept.update(parent.as_posix() for f in list(kept) for parent in PurePosixPath(f).parents)
    return kept


def from_shards(config: pytest.Config, run: PromoteRun, pattern: str) -> None:
    """The final job of a sharded run: the gates judge the union of the bundles."""
    from pytest_promote.gates.coverage import data as coverage_data
    from pytest_promote.runner.shard import union as shardunion

    union = shardunion.load(config, pattern)
    run.shards = union
    union.fill(run.tests)
    config.stash[coverage_data.SOURCE_KEY] = union.gathered
    shard_dirty = {p for b in union.bundles for p in b.dirty or ()}
    if shard_dirty:  # a shard that ran on a changed tree judged that tree
        run.dirty = sorted({*(run.dirty or []), *shard_dirty})


class PromotePlugin:
    """Collection, test bookkeeping, gate start-up and the final verdict."""

    def __init__(self, config: pytest.Config, run: PromoteRun) -> None:
        self.config = config
        self.run = run
        self.selected: list[str] | None = None  # None: not known yet (xdist controller)
        #: A component's run: its test files and the directories above them.
        self.kept: set[str] | None = None

    def pytest_report_header(self, config: pytest.Config) -> list[str]:
        """Say which stage is being promoted to, why, under which policy."""
        lines = [f"promote: stage {self.run.stage.name} (policy: {self.run.policy.source})"]
        component = self.run.policy.component
        if component is not None:
            lines.append(
                f"promote: component {component.name}: its tests ({', '.join(component.tests)}), "
                f"its gates over {' '.join(component.paths)}"
            )
        gates = list(self.run.stage.gates)
        if self.run.shard:
            lines.append(f"promote: shard run: no gate runs here; the bundle goes to "
                         f"{self.run.shard.directory}")
        else:
            lines.append(
                f"promote: {len(gates) + 1} gate items run after the tests: {', '.join(gates)}, "
                "then the scorecard"
            )
        if self.run.shards:
            lines += self.run.shards.describe()
        if self.run.selection:
            lines.append(f"promote: {self.run.selection.describe()}")
        lines += [f"promote: override {o.gate} {o.describe()}" for o in self.run.overrides.values()]
        if self.run.dirty:
            lines.append(f"promote: {dirty_text(self.run.dirty)}: judged, never accepted")
        lines += [
            f"promote: {name}={value} changes how this run judges: judged, never accepted"
            for name, value in self.run.environment.items()
        ]
        return [self.run.redact(line) for line in lines]

    @pytest.hookimpl(tryfirst=True)
    def pytest_collection(self, session: pytest.Session) -> None:
        """Start the gates before collecting, when nothing on the command line can
        deselect them: their tools then also overlap the collection."""
        option = self.config.option
        selecting = option.keyword or option.markexpr or self.config.getoption("deselect", None)
        if not (is_worker(self.config) or option.collectonly or selecting or self.run.shard):
            self.run.start(self.run.stage.gates)

    def pytest_ignore_collect(self, collection_path: Path) -> bool | None:
        """``--promote-only``: collect none of the project's tests; a component's run:
        only its tests."""
        if self.run.context.promote_only:
            return True
        if self.run.policy.component is None:
            return None
        if self.kept is None:
            self.kept = kept_for(self.run.policy.component, self.config.rootpath)
        try:
            rel = collection_path.relative_to(self.config.rootpath).as_posix()
        except ValueError:
            return None  # outside the project: not the component's to judge
        return None if rel == "." or rel in self.kept else True

    @pytest.hookimpl(tryfirst=True)
    def pytest_collection_modifyitems(self, session: pytest.Session, items: list[Any]) -> None:
        """Add the gate items before ``-k``/``-m``/``--deselect`` select."""
        if self.run.context.promote_only:
            items.clear()  # files named on the command line bypass pytest_ignore_collect
        if self.run.shard:
            return  # a shard runs no gate: the final job does
        gate_items = make_items(session, list(self.run.stage.gates))
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
        gates = {i.gate_id: i for i in items if isinstance(i, GateItem)}
        order = [*self.run.stage.gates, SCORECARD]
        self.selected = [gid for gid in order if gid in gates]
        items[:] = [i for i in items if not isinstance(i, GateItem)]
        self.run.count.selected = len(items)
        if is_worker(config):
            config.workeroutput[SELECTED] = self.selected  # type: ignore[attr-defined]
            counts = (len(items), self.run.count.deselected)
            config.workeroutput[WORKER_KEY] = counts  # type: ignore[attr-defined]
        else:
            items.extend(gates[gid] for gid in self.selected)

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
        """Remember every test's outcome for the gates that judge the tests."""
        if not report.nodeid.startswith("promote::"):
            self.run.tests.record(report)

    def runtestloop(self, session: pytest.Session) -> Generator[None, object, object]:
        """Start the gates' background work, run the tests, then the gates (the body
        of ``GateLoop``'s wrapper)."""
        if is_worker(self.config) or session.config.option.collectonly or self.run.shard:
            return (yield)
        controller = self.config.pluginmanager.hasplugin("dsession")
        planned = self.run.stage.gates
        self.run.start(planned if controller else [g for g in self.selected or [] if g in planned])
        # The gates run after the loop, once the last test has torn down the session
        # fixtures: their teardown counts (coverage of it, errors in it).
        held = [i for i in session.items if isinstance(i, GateItem)]
        session.items[:] = [i for i in session.items if not isinstance(i, GateItem)]
        result = yield
        if not session.shouldstop and not session.shouldfail:
            self.run.count_suite(self.run.count.selected)
            if controller:
                self._run_on_controller(session)
            else:
                _run_items(held)
        return result

    def _run_on_controller(self, session: pytest.Session) -> None:
        xdist = self.config.pluginmanager.getplugin("promote-xdist")
        selected = xdist.selected if isinstance(xdist, XdistHooks) else None
        if selected is None:
            return  # no worker reported its selection: the gates did not run (RED)
        _run_items(
            [i for i in make_items(session, list(self.run.stage.gates)) if i.name in selected]
        )

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        """Decide, report, and make a colour the stage does not accept fail the run (a
        caveat alone does not: a local pre-check still sees its colour)."""
        if is_worker(self.config) or self.config.option.collectonly or self.run.shard:
            return
        verdict = self.run.decide()
        self.config.hook.pytest_promote_verdict(config=self.config, verdict=verdict)
        if self.run.failed_outputs:
            session.exitstatus = pytest.ExitCode.USAGE_ERROR
        elif self.run.dry_run:
            session.exitstatus = pytest.ExitCode.OK
        elif not verdict.meets and session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        """The ``promotion`` section."""
        from pytest_promote.report import terminal

        if self.run.verdict is not None and not is_worker(self.config):
            terminal.write(terminalreporter, self.run)
            from pytest_promote.report.write import failed_outputs

            for line in failed_outputs(self.run.failed_outputs):
                terminalreporter.write_line(self.run.redact(f"ERROR: {line}"), red=True, bold=True)


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


class XdistHooks:
    """The controller learns from the workers which gate items ``-k``/``-m`` kept, and
    counts them in pytest's progress."""

    def __init__(self, run: PromoteRun) -> None:
        self.run = run
        self.selected: list[str] | None = None
        self.session: pytest.Session | None = None
        # Until the workers tell which gates were selected: every planned one.
        self.gate_count = 0 if run.shard else len(run.stage.gates) + 1  # and the scorecard
        self.counted: int | None = None

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        """Remember the session whose count of items the progress is measured against."""
        self.session = session

    def pytest_testnodedown(self, node: Any, error: object) -> None:
        """Take the selection a worker sent with its results."""
        output = getattr(node, "workeroutput", None) or {}
        if SELECTED in output and self.selected is None:
            self.selected = list(output[SELECTED])
            self.count_gates(len(self.selected))
        if WORKER_KEY in output and self.run.count.selected is None:
            self.run.count.selected, self.run.count.deselected = output[WORKER_KEY]

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """Before the terminal shows the progress of a report, count the gates in it."""
        self.count_gates(self.gate_count)

    def count_gates(self, gate_count: int) -> None:
        """pytest-xdist sets the session's count of items to the workers' collection,
        which holds only tests: add the gates the controller runs after them, so the
        progress ends at 100%."""
        session = self.session
        if session is None or not session.config.pluginmanager.hasplugin("dsession"):
            return  # a serial run, or a worker: the gates are in the session's own count
        if session.testscollected == self.counted:  # counted before: take the old count out
            session.testscollected -= self.gate_count
        self.gate_count = gate_count
        session.testscollected += gate_count
        self.counted = session.testscollected


class TimeoutHooks:
    """pytest-timeout's limit (``timeout`` in the ini file, ``--timeout``) is for the
    project's tests: a gate item is never interrupted by it. Each gate has a timeout
    of its own (its ``timeout`` option), which fails the gate closed, with a message."""

    @pytest.hookimpl(tryfirst=True, optionalhook=True)
    def pytest_timeout_set_timer(self, item: pytest.Item, settings: object) -> bool | None:
        """No timer for a gate item (True: pytest-timeout sets none)."""
        return True if isinstance(item, GateItem) else None

    @pytest.hookimpl(tryfirst=True, optionalhook=True)
    def pytest_timeout_cancel_timer(self, item: pytest.Item) -> bool | None:
        """Nothing to cancel for a gate item."""
        return True if isinstance(item, GateItem) else None
