"""Whether a promotion run is accepted, why not, and what that makes of the exit status.

A run is accepted when its colour meets what its stage accepts and nothing makes
that colour prove less than it says (the verdict's caveats: a partial run, a dirty
tree, a policy from outside the committed tree, a moved clock, ...). Every output
that tells a reader whether a run passed reads the one :class:`Decision` made here:
the exit status, the scorecard item (and so JUnit), the terminal's last line, the
GitHub annotation, the GitLab Code Quality entry, the Markdown summary's heading and
the JSON report.

A new reason a run may not be accepted is one more caveat of the run; every output
then states it, and it fails the run wherever a run that is not accepted fails
(``CI=true``, ``--promote-exit=accepted``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal, Protocol, cast

import pytest

from pytest_promote.runner.scorecard import Verdict

if TYPE_CHECKING:
    from pytest_promote.policy.proof import PolicyProof

#: What decides the exit status: whether the run is accepted, or only its colour.
ExitMode = Literal["accepted", "colour"]
#: ``--promote-exit`` values, and what each means (for the help and the errors).
EXIT_MODES: dict[str, str] = {
    "accepted": "a run that is not accepted fails (the default with CI=true)",
    "colour": "the colour decides, as a local pre-check wants (the default without CI)",
}
OPTION = "--promote-exit"
#: What chose the rule of a run outside CI without the option.
LOCAL = "outside CI"


@dataclasses.dataclass(frozen=True)
class ExitRule:
    """What decides the exit status, and what chose that (``CI=true``, the option)."""

    mode: ExitMode
    by: str

    @property
    def said(self) -> bool:
        """Whether the rule differs from a local run's default, so the header says it."""
        return self.by != LOCAL


def exit_rule(value: str | None) -> ExitRule:
    """``--promote-exit`` (``value``), else ``accepted`` with ``CI=true`` and
    ``colour`` without; a usage error for a value that is neither."""
    from pytest_promote._util.git import in_ci

    if value is None:
        return ExitRule("accepted", "CI=true") if in_ci() else ExitRule("colour", LOCAL)
    if value not in EXIT_MODES:
        from pytest_promote.policy.schema import did_you_mean

        valid = "; ".join(f"{name}: {means}" for name, means in EXIT_MODES.items())
        raise pytest.UsageError(
            f"{OPTION}={value}: not a valid value ({did_you_mean(str(value), EXIT_MODES)}); "
            f"valid values: {valid}"
        )
    return ExitRule(cast("ExitMode", value), f"{OPTION}={value}")


@dataclasses.dataclass(frozen=True)
class Decision:
    """Whether one run is accepted, why not, and whether that fails the run."""

    verdict: Verdict
    rule: ExitRule
    dry_run: bool = False

    @property
    def reasons(self) -> tuple[str, ...]:
        """Why the run is not accepted (empty: accepted)."""
        return self.verdict.refusals

    @property
    def accepted(self) -> bool:
        """Whether the stage accepts the run."""
        return self.verdict.accepted

    @property
    def fails(self) -> bool:
        """Whether the scorecard item fails and the exit status is non-zero (but a dry
        run exits 0): a colour below the stage always; a run not accepted when the
        rule is ``accepted``."""
        return not self.verdict.meets or (self.rule.mode == "accepted" and not self.accepted)

    @property
    def exits_non_zero(self) -> bool:
        """Whether this decision makes the session's exit status 1 (never in a dry run)."""
        return self.fails and not self.dry_run

    def as_dict(self) -> dict[str, object]:
        """The decision as the JSON report holds it."""
        return {
            "accepted": self.accepted, "line": self.line, "reasons": list(self.reasons),
            "exit": self.rule.mode, "exit_by": self.rule.by, "fails": self.exits_non_zero,
        }

    @property
    def line(self) -> str:
        """``accepted`` or ``not accepted: REASON; REASON``: the same words in every output."""
        return "accepted" if self.accepted else f"not accepted: {'; '.join(self.reasons)}"

    @property
    def note(self) -> str:
        """What the decision makes of the exit status, when that is not plain."""
        if self.dry_run:
            return "dry run: exit status 0"
        if self.accepted or not self.verdict.meets:
            return ""
        if self.fails:
            return f"{self.rule.by}: a run that is not accepted fails"
        local = self.rule.by == LOCAL
        return f"{self.rule.by}: the colour decides the exit status{'; with CI=true it fails' * local}"

    @property
    def statement(self) -> str:
        """:attr:`line`, and for an accepted run what was accepted."""
        v = self.verdict
        return f"accepted: {v.headline}, {v.stage} accepts {v.accept}" if self.accepted else self.line

    @property
    def last_line(self) -> str:
        """The terminal's last line: the decision, with what it means for the exit."""
        return f"{self.statement} ({self.note})" if self.note else self.statement


class RunOutcome(Protocol):
    """What the header and the exit status read of a run (a
    :class:`~pytest_promote.runner.run.PromoteRun`, which holds its decision, so this
    module does not import it)."""

    @property
    def dirty(self) -> Sequence[str] | None: ...
    @property
    def policy_proof(self) -> PolicyProof | None: ...
    @property
    def exit_rule(self) -> ExitRule: ...
    @property
    def decision(self) -> Decision | None: ...
    @property
    def dry_run(self) -> bool: ...
    @property
    def failed_outputs(self) -> Sequence[str]: ...
    def shown_environment(self) -> dict[str, str]: ...


def header(run: RunOutcome) -> list[str]:
    """The header's lines on what will keep the run from being accepted, whatever its
    colour, and on what decides its exit status when that is not a local run's default."""
    lines = [f"{dirty_text(run.dirty)}: judged, never accepted"] if run.dirty else []
    policy = run.policy_proof.caveat() if run.policy_proof else None
    if policy:
        lines.append(f"{policy}: judged, never accepted")
    lines += [f"{name}={value} changes how this run judges: judged, never accepted"
              for name, value in run.shown_environment().items()]
    rule = run.exit_rule
    if rule.said:
        lines.append(f"exit status ({rule.by}): " + (
            "a run that is not accepted fails" if rule.mode == "accepted"
            else "the colour decides; a run that is not accepted passes when its colour does"))
    return [f"promote: {line}" for line in lines]


def dirty_text(paths: Sequence[str], shown: int = 3) -> str:
    """``working tree dirty: 2 paths differ from HEAD (a.py, b.py)``."""
    names = ", ".join(paths[:shown]) + (", ..." if len(paths) > shown else "")
    count = len(paths)
    return f"working tree dirty: {count} path{'s' * (count != 1)} differ{'s' * (count == 1)} from HEAD ({names})"


def exit_status(runs: Sequence[RunOutcome], status: int) -> int:
    """The session's exit status from its runs' decisions: 4 when an output could not
    be written, 0 for a dry run, 1 when a run's decision fails and nothing else has."""
    if any(run.failed_outputs for run in runs):
        return pytest.ExitCode.USAGE_ERROR
    if any(run.dry_run for run in runs):
        return pytest.ExitCode.OK
    if status == pytest.ExitCode.OK and any(run.decision and run.decision.exits_non_zero for run in runs):
        return pytest.ExitCode.TESTS_FAILED
    return status
