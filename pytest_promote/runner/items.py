"""The gate items and the scorecard item, as pytest sees them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pytest_promote.api import findings_text
from pytest_promote.runner.run import PromoteRun
from pytest_promote.runner.scorecard import GateOutcome

SCORECARD = "scorecard"


class Promotion(pytest.Collector):
    """The parent of the gate items, so their node ids read ``promote::<gate-id>``
    (``promote::<component>::<gate-id>`` when a session judges several components)."""

    def collect(self) -> list[Any]:
        """Gate items are made by the plugin, not collected from files."""
        return []


class GateItem(pytest.Item):
    """One gate of the stage; its outcome is the gate's verdict."""

    def __init__(self, *, gate_id: str, run: PromoteRun, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.gate_id = gate_id
        #: The promotion run this item belongs to.
        self.run = run
        self.add_marker("promote")

    def runtest(self) -> None:
        """Evaluate the gate; fail if required, xfail if advisory."""
        outcome = self.run.evaluate(self.gate_id)
        self._record(outcome)
        result = outcome.result
        assert result is not None
        if result.status == "passed":
            return
        text = gate_text(outcome)  # of a result whose free text the run masked
        if outcome.overridden and outcome.override:
            pytest.xfail(f"overridden {outcome.override.describe()} | {text.splitlines()[0]}")
        if outcome.mode == "advisory":
            pytest.xfail(f"advisory: {text}")  # -rx lists the findings too
        pytest.fail(text, pytrace=False)

    def _record(self, outcome: GateOutcome) -> None:
        # Per-testcase JUnit properties are valid only in the xunit1 family.
        if self.config.getini("junit_family") == "xunit1" and outcome.result:
            for name, value in (
                ("mode", outcome.mode),
                ("status", outcome.status),
                ("measured", outcome.result.measured),
                ("threshold", outcome.result.threshold),
            ):
                self.user_properties.append((f"promote.{self.gate_id}.{name}", str(value)))

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> Any:
        """Expected gate failures show their message, not a traceback."""
        if isinstance(excinfo.value, pytest.fail.Exception):
            return str(excinfo.value)
        return super().repr_failure(excinfo)

    def reportinfo(self) -> tuple[Path, int | None, str]:
        """Where the gate shows in reports: its node id."""
        return self.path, None, f"{self.run.node}::{self.gate_id}"


class ScorecardItem(GateItem):
    """The last item: the stage's verdict over every gate."""

    def runtest(self) -> None:
        """The run's decision: fail when it fails the run (a colour below the stage;
        with ``CI=true``, any run not accepted), xfail when the run is not accepted
        but the colour decides the exit status."""
        verdict = self.run.decide()
        decision = self.run.decision
        assert decision is not None
        text = f"scorecard {verdict.headline}, {decision.line}"
        if decision.fails:
            note = f" ({decision.note})" if decision.note else ""
            pytest.fail(f"{text}{note}", pytrace=False)
        if not decision.accepted:
            pytest.xfail(text)


def gate_text(outcome: GateOutcome) -> str:
    """A gate's failure message: its summary, then its findings."""
    assert outcome.result is not None
    result = outcome.result
    lines = [result.summary]
    if result.findings:
        lines.append(findings_text(result.findings))
    return "\n".join(lines)


def make_items(session: pytest.Session, run: PromoteRun, gate_ids: list[str]) -> list[GateItem]:
    """The gate items of ``run`` for ``gate_ids`` and its scorecard, under the node
    ``run.node`` names."""
    root = session.config.rootpath
    top, *below = run.node.split("::")
    parent = Promotion.from_parent(session, name=top, nodeid=top, path=root)
    for name in below:
        parent = Promotion.from_parent(parent, name=name, path=root)
    items = [GateItem.from_parent(parent, name=gid, gate_id=gid, run=run) for gid in gate_ids]
    items.append(ScorecardItem.from_parent(parent, name=SCORECARD, gate_id=SCORECARD, run=run))
    return items
