"""What this process does in a promotion session: one role, chosen once as pytest
configures, as pytest-cov picks one engine per process (``Central``, ``DistMaster``,
``DistWorker``):

- :class:`Controller`: a plain run, or pytest-xdist's controller: it runs the gates
  after the tests (on the controller, once, after every worker finished), decides
  and reports;
- :class:`Worker`: a pytest-xdist worker: it collects the gate items so that
  ``-k``/``-m`` select them as usual, and hands back what it collected and kept; it
  judges nothing;
- :class:`ShardRun`: ``--promote-shard``: this shard's tests, no gate, a bundle;
- :class:`FinalUnion`: ``--promote-only --promote-from``: the gates judge the union
  of the shards' bundles as one run of the whole suite.

The session's hooks (:class:`pytest_promote.runner.session.PromotePlugin`) delegate
to the role wherever these processes differ.
"""

from __future__ import annotations

import dataclasses
import gc
from collections.abc import Callable, Generator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from pytest_promote.gates.coverage.sources import end_pytest_cov_contexts
from pytest_promote.gates.coverage.start import paused
from pytest_promote.runner import acceptance, canonical
from pytest_promote.runner.distributed import SELECTED, WORKER_DESELECTED, XdistHooks
from pytest_promote.runner.items import GateItem, make_items
from pytest_promote.runner.options import PromoteOptions
from pytest_promote.runner.suite import WORKER_KEY, SuiteCount, is_worker
from pytest_promote.runner.testlog import TestLog

if TYPE_CHECKING:
    from pytest_promote.ledger.signing.dsse import Signer
    from pytest_promote.policy.model import Policy
    from pytest_promote.policy.overrides import Override
    from pytest_promote.policy.stage import Stage
    from pytest_promote.runner.run import PromoteRun
    from pytest_promote.runner.shard.union import ShardUnion
    from pytest_promote.runner.worktree import Tree


@dataclasses.dataclass
class Results:
    """The test results a session judges without running them (a JUnit XML, shard
    bundles), for its one run; by default, those its tests will record."""

    tests: TestLog = dataclasses.field(default_factory=TestLog)
    #: Why they are not shown to be of this commit and tree.
    unproven: list[str] = dataclasses.field(default_factory=list)
    #: Coverage data files a results manifest binds (path -> digest).
    bound_coverage: dict[str, str] | None = None
    shards: ShardUnion | None = None
    #: What differed from HEAD where they were produced (a shard on a changed tree).
    dirty: frozenset[str] = frozenset()


class Controller:
    """A plain run, or pytest-xdist's controller (``distributed``): it judges. The
    other roles are kinds of it that leave out or replace what they do not do."""

    #: Whether this process proves which policy it judges by, and reads the project's
    #: own coverage settings when there is no policy.
    proves = True
    #: Whether this process is a pytest-xdist worker, whose coverage data goes to the
    #: controller with its results.
    worker = False

    def __init__(self, config: pytest.Config, options: PromoteOptions, distributed: bool) -> None:
        self.config = config
        self.options = options
        self.distributed = distributed
        #: The hooks that learn from the workers which gate items they kept.
        self.xdist: XdistHooks | None = None

    # -- activation -------------------------------------------------------------------

    def check_trust(self, policy: Policy) -> None:
        """A usage error when the policy's trust file is unusable."""
        from pytest_promote.ledger import attestation

        attestation.check_trust(policy, self.config.rootpath)

    def authorise(self, policy: Policy, stage: Stage, chosen: dict[str, Override]) -> dict[str, Override]:
        """The overrides ``chosen`` that the policy's approvals authorise (a usage error
        for one they do not)."""
        from pytest_promote._util import clock
        from pytest_promote.ledger.approvals import authorise

        return authorise(policy, stage, chosen, self.config.rootpath, clock.now().date())

    def signers(self) -> list[Signer]:
        """Who signs the runs' attestations (a usage error for a bad key)."""
        from pytest_promote.ledger import attestation

        return attestation.signers(self.config)

    def tree(self) -> Tree | None:
        """The working tree as the session starts (before the run writes anything)."""
        from pytest_promote.runner import worktree

        return worktree.Tree(self.config)

    def source(self) -> list[str]:
        """Why the tests judged are not this session's (for the suite's count)."""
        return [f"the JUnit XML {self.options.junit}"] if self.options.junit else []

    def results(self) -> Results:
        """``--promote-junit``: the earlier run's results, bound to this commit by
        their manifest, or why not."""
        if not self.options.junit:
            return Results()
        from pytest_promote.runner import results

        tests = TestLog()
        tests.read_junit(Path(self.options.junit))
        unproven, bound = results.bind(self.config.rootpath, tests, Path(self.options.junit))
        return Results(tests, unproven, bound)

    def input_checks(self) -> list[Callable[[PromoteRun], str | None]]:
        """Checks of inputs known only once the gates read them."""
        if not self.options.only:
            return []
        from pytest_promote.runner import results

        return [results.unbound_coverage]

    def begin(self, runs: tuple[PromoteRun, ...], count: SuiteCount, dirty: list[str] | None) -> None:
        """Start finding the canonical suite; register what records the run's results."""
        if runs:
            count.start(clean=dirty == [])
        self._record(runs)

    def _record(self, runs: tuple[PromoteRun, ...]) -> None:
        """``--junitxml``: the results manifest beside the JUnit XML."""
        if self.options.xmlpath and runs and not self.options.only:
            from pytest_promote.runner import results

            writer = results.ResultsWriter(self.config, runs, Path(self.options.xmlpath))
            self.config.pluginmanager.register(writer, "promote-results")

    def distribute(self, runs: tuple[PromoteRun, ...], count: SuiteCount) -> None:
        """On xdist's controller: learn from the workers what they collected and kept."""
        if self.distributed:
            self.xdist = XdistHooks(runs, count)
            self.config.pluginmanager.register(self.xdist, "promote-xdist")

    # -- the session --------------------------------------------------------------------

    def start_early(self, runs: tuple[PromoteRun, ...]) -> None:
        """Start the gates before collecting, when nothing on the command line can
        deselect them: their tools then also overlap the collection."""
        option = self.config.option
        selecting = option.keyword or option.markexpr or self.config.getoption("deselect", None)
        if not (option.collectonly or selecting):
            for run in runs:
                run.start(run.stage.gates)

    def collected(self, items: list[Any], count: SuiteCount) -> None:
        """This session's collection, before any selection: the canonical suite when
        it provably is that."""
        if not count.canonical.reasons:
            count.canonical.from_session(canonical.collected(items), count.errors)

    def keep(self, items: list[Any], gates: dict[str, GateItem], selected: list[str],
             count: SuiteCount) -> None:
        """The gate items selected, last, in plan order."""
        items.extend(gates[nodeid] for nodeid in selected)

    def runtestloop(self, session: pytest.Session, runs: tuple[PromoteRun, ...],
                    selected: list[str] | None) -> Generator[None, object, object]:
        """Start the gates' background work, run the tests, then the gates."""
        if session.config.option.collectonly:
            return (yield)
        with paused(self.config):  # the gates' background work is no coverage of the project
            for run in runs:
                planned = run.stage.gates
                if self.distributed:  # the workers tell which gate items they kept
                    run.start(planned)
                else:
                    run.start([g for g in _kept(run, selected) if g in planned])
        # The gates run after the loop, once the last test has torn down the session
        # fixtures: their teardown counts (coverage of it, errors in it).
        held = [i for i in session.items if isinstance(i, GateItem)]
        session.items[:] = [i for i in session.items if not isinstance(i, GateItem)]
        result = yield
        end_pytest_cov_contexts(self.config)
        if not session.shouldstop and not session.shouldfail:
            for run in runs:
                run.count_suite()
            _run_items(self._gates_after(session, runs, held))
        return result

    def _gates_after(self, session: pytest.Session, runs: tuple[PromoteRun, ...],
                     held: list[GateItem]) -> list[GateItem]:
        """The gate items to run after the tests: those this session kept; on xdist's
        controller, those the workers kept (none when no worker said: RED)."""
        if not self.distributed:
            return held
        selected = self.xdist.selected if self.xdist is not None else None
        if selected is None:
            return []
        return [i for run in runs for i in make_items(session, run, list(run.stage.gates))
                if i.nodeid in selected]

    def finish(self, session: pytest.Session, runs: tuple[PromoteRun, ...]) -> None:
        """Decide, report, and set the exit status the decisions make (see
        :mod:`pytest_promote.runner.acceptance`). With no run (no component changed),
        nothing was judged: never a pass."""
        if self.config.option.collectonly:
            return
        if not runs:
            session.exitstatus = pytest.ExitCode.NO_TESTS_COLLECTED
            return
        self._decide(session, runs)

    def _decide(self, session: pytest.Session, runs: tuple[PromoteRun, ...]) -> None:
        for run in runs:
            run.exit_status = int(session.exitstatus)
            run.decide()
        for run in runs:
            self.config.hook.pytest_promote_verdict(config=self.config, verdict=run.verdict, run=run)
        session.exitstatus = acceptance.exit_status(runs, session.exitstatus)

    def summarises(self) -> bool:
        """Whether this process writes the ``promotion`` section."""
        return True


class Worker(Controller):
    """A pytest-xdist worker: it collects (gate items too, so that selection works as
    usual), runs its share of the tests, and hands back what it collected and kept;
    the controller judges."""

    proves = False
    worker = True

    def __init__(self, config: pytest.Config, options: PromoteOptions) -> None:
        super().__init__(config, options, distributed=False)

    def check_trust(self, policy: Policy) -> None:
        """Nothing: the controller checks the trust file."""

    def authorise(self, policy: Policy, stage: Stage, chosen: dict[str, Override]) -> dict[str, Override]:
        """The overrides as given: the controller authorises them."""
        return chosen

    def signers(self) -> list[Signer]:
        """None: the controller signs."""
        return []

    def tree(self) -> Tree | None:
        """None: the controller watches the tree."""
        return None

    def results(self) -> Results:
        """Nothing read: the controller judges the results."""
        return Results()

    def input_checks(self) -> list[Callable[[PromoteRun], str | None]]:
        """None: the controller checks the inputs."""
        return []

    def begin(self, runs: tuple[PromoteRun, ...], count: SuiteCount, dirty: list[str] | None) -> None:
        """Nothing to start: the controller finds the canonical suite."""

    def start_early(self, runs: tuple[PromoteRun, ...]) -> None:
        """Nothing: the gates run on the controller."""

    def collected(self, items: list[Any], count: SuiteCount) -> None:
        """Send the whole collection, and what could not be collected, to the controller."""
        output = self.config.workeroutput  # type: ignore[attr-defined]
        output[WORKER_KEY] = (canonical.collected(items), count.errors)

    def keep(self, items: list[Any], gates: dict[str, GateItem], selected: list[str],
             count: SuiteCount) -> None:
        """Tell the controller which gate items were kept, and which files a
        selection left out: it runs the gates."""
        output = self.config.workeroutput  # type: ignore[attr-defined]
        output[SELECTED] = selected
        output[WORKER_DESELECTED] = count.deselected

    def runtestloop(self, session: pytest.Session, runs: tuple[PromoteRun, ...],
                    selected: list[str] | None) -> Generator[None, object, object]:
        """Only the tests: the gates run on the controller."""
        return (yield)

    def finish(self, session: pytest.Session, runs: tuple[PromoteRun, ...]) -> None:
        """Nothing: the controller decides."""

    def summarises(self) -> bool:
        """Whether this process writes the ``promotion`` section: the controller does."""
        return False


class ShardRun(Controller):
    """``--promote-shard``: this shard's tests and no gate; the bundle for the final
    job is written as the session ends (:class:`ShardRecorder`)."""

    def _record(self, runs: tuple[PromoteRun, ...]) -> None:
        """The bundle of the one run (a shard of several components is a usage error)."""
        from pytest_promote.runner.shard.bundle import ShardRecorder

        directory = runs[0].shard
        assert directory is not None  # a shard run's run is a shard
        self.config.pluginmanager.register(ShardRecorder(self.config, runs[0], directory), "promote-shard")

    def start_early(self, runs: tuple[PromoteRun, ...]) -> None:
        """Nothing: a shard runs no gate."""

    def runtestloop(self, session: pytest.Session, runs: tuple[PromoteRun, ...],
                    selected: list[str] | None) -> Generator[None, object, object]:
        """Only the tests: a shard runs no gate."""
        return (yield)

    def _decide(self, session: pytest.Session, runs: tuple[PromoteRun, ...]) -> None:
        """Nothing: the final job decides."""


class FinalUnion(Controller):
    """``--promote-only --promote-from``: the gates judge the union of the shards'
    bundles as one run of the whole suite."""

    def source(self) -> list[str]:
        """The bundles left the tests out, as their shards say."""
        from pytest_promote.runner.shard import union

        return [union.LEFT_OUT_BY]

    def results(self) -> Results:
        """The union of the bundles (a usage error for one that cannot be read)."""
        from pytest_promote.gates.coverage import sources
        from pytest_promote.runner.shard.union import read_union

        assert self.options.union is not None  # the final job is --promote-from's
        union = read_union(self.config, self.options.union)
        tests = TestLog()
        union.fill(tests)
        self.config.stash[sources.SOURCE_KEY] = union.gathered
        dirty = frozenset(p for b in union.bundles for p in b.dirty or ())
        return Results(tests, shards=union, dirty=dirty)


def choose_role(config: pytest.Config, options: PromoteOptions) -> Controller:
    """This process's role in the session."""
    if is_worker(config):
        return Worker(config, options)
    distributed = _distributed(config)
    if options.shard:
        return ShardRun(config, options, distributed)
    if options.union:
        return FinalUnion(config, options, distributed)
    return Controller(config, options, distributed)


def _distributed(config: pytest.Config) -> bool:
    """Whether pytest-xdist distributes this session's tests over workers: its
    ``DSession`` is registered (from its own ``pytest_configure``, which may run after
    this one) exactly when these options, settled by its ``pytest_cmdline_main``, say so."""
    option = config.option
    return (config.pluginmanager.hasplugin("xdist") and not option.collectonly
            and getattr(option, "dist", "no") != "no" and bool(getattr(option, "tx", None)))


def _kept(run: PromoteRun, selected: list[str] | None) -> list[str]:
    """The gate ids of ``run`` whose items were kept."""
    prefix = f"{run.node}::"
    return [n.removeprefix(prefix) for n in selected or [] if n.startswith(prefix)]


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
