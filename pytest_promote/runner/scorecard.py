"""Gate outcomes -> the scorecard's colour and whether the stage accepts it."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import TYPE_CHECKING

from pytest_promote.api import GateResult, Mode
from pytest_promote.policy.stage import COLOUR_RANK, Colour, Stage

if TYPE_CHECKING:
    from pytest_promote.policy.overrides import Override


@dataclasses.dataclass(frozen=True)
class GateOutcome:
    """A planned gate and what became of it (``result`` is None: it did not run)."""

    id: str
    mode: Mode
    result: GateResult | None
    duration: float = 0.0
    override: Override | None = None

    @property
    def overridden(self) -> bool:
        """Whether an override turned this gate's failure or error into a pass."""
        return self.override is not None and self.status in ("failed", "error")

    @property
    def status(self) -> str:
        """passed, failed, error or "not run"."""
        return self.result.status if self.result else "not run"

    @property
    def ok(self) -> bool:
        """Whether this gate counts as passed for the colour (overridden counts)."""
        return self.status == "passed" or self.overridden


@dataclasses.dataclass(frozen=True)
class Verdict:
    """The scorecard of one promotion run."""

    stage: str
    accept: Colour
    colour: Colour
    gates: tuple[GateOutcome, ...]
    reasons: tuple[str, ...]
    #: Why a colour the stage accepts still proves nothing (a partial run, a dirty
    #: tree, a moved clock): such a run is never accepted.
    caveats: tuple[str, ...] = ()

    @property
    def meets(self) -> bool:
        """Whether the colour is at least what the stage accepts (the exit status)."""
        return COLOUR_RANK[self.colour] >= COLOUR_RANK[self.accept]

    @property
    def refusals(self) -> tuple[str, ...]:
        """Why the stage does not accept this run (empty: it does): a colour below
        what the stage accepts, then every caveat."""
        why = f" ({'; '.join(self.reasons)})" if self.reasons else ""
        below = () if self.meets else (f"{self.headline}{why}, {self.stage} accepts {self.accept}",)
        return below + self.caveats

    @property
    def accepted(self) -> bool:
        """Whether the colour meets the stage and nothing makes it untrustworthy."""
        return not self.refusals

    @property
    def overridden(self) -> tuple[GateOutcome, ...]:
        """The gates that count as passed only because of an override."""
        return tuple(g for g in self.gates if g.overridden)

    @property
    def unused_overrides(self) -> tuple[Override, ...]:
        """Overrides of gates that passed (or did not run): they changed nothing."""
        return tuple(g.override for g in self.gates if g.override and not g.overridden)

    @property
    def bases(self) -> dict[str, str]:
        """Gate id -> the base its change was measured from, and what named it."""
        return {
            g.id: str(g.result.figures["base"]) for g in self.gates
            if g.result is not None and g.result.figures and "base" in g.result.figures
        }

    @property
    def headline(self) -> str:
        """``GREEN``, ``YELLOW``, ``RED``; ``GREEN with 1 override`` when one was used."""
        count = len(self.overridden)
        if not count:
            return self.colour.upper()
        return f"{self.colour.upper()} with {count} override{'s' if count > 1 else ''}"

    def describe(self) -> str:
        """One line: colour, reasons, and whether the stage accepts it."""
        verdict = "accepted" if self.accepted else "not accepted"
        if self.caveats:
            verdict += f" ({'; '.join(self.caveats)})"
        why = f" ({'; '.join(self.reasons)})" if self.reasons else ""
        return f"{self.headline}{why}: {verdict}, {self.stage} accepts {self.accept}"


def decide(
    stage: Stage, outcomes: Iterable[GateOutcome], caveats: Iterable[str] = (),
    terminated: str | None = None,
) -> Verdict:
    """The colour: RED if the run was ended by a signal (``terminated``), or a required
    gate failed, errored or did not run; YELLOW if only advisory gates did; GREEN
    when every gate passed."""
    outcomes = tuple(outcomes)
    red = [o for o in outcomes if o.mode == "required" and not o.ok]
    yellow = [o for o in outcomes if o.mode == "advisory" and not o.ok]
    colour: Colour = "red" if red or terminated else "yellow" if yellow else "green"
    reasons = tuple(f"{o.mode} gate {o.id} {o.status}" for o in red + yellow)
    if terminated:
        reasons = (f"run terminated by {terminated}", *reasons)
    return Verdict(stage.name, stage.accept, colour, outcomes, reasons, tuple(caveats))
