"""Break glass: an override lets a failed gate count as passed, on the record.

An override names a gate, a reason, who and (optionally) until when. It comes from
the command line (``--promote-override=GATE[@UNTIL]:REASON``, the actor taken from
the CI or git) or is committed in the policy (``[[tool.promote.override]]``). A gate
or a stage can forbid overrides; the last stage (production) by default requires
``until``; an expired override is an error.
"""

from __future__ import annotations

import dataclasses
import datetime
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from pytest_promote.policy.schema import build, did_you_mean, policy_error

if TYPE_CHECKING:
    from pytest_promote.policy.stage import GateSpec, Stage

OPTION = "--promote-override"


class Overridable(Protocol):
    """What :func:`resolve` reads of a policy (a :class:`~pytest_promote.policy.model.Policy`,
    which holds its overrides, so this module does not import it)."""

    @property
    def source(self) -> str: ...
    @property
    def gates(self) -> Mapping[str, GateSpec]: ...
    @property
    def overrides(self) -> tuple[Override, ...]: ...


@dataclasses.dataclass(frozen=True)
class Override:
    """One override: which gate, why, who, until when (inclusive), where it came from."""

    gate: str
    reason: str
    by: str
    until: datetime.date | None = None
    stage: str | None = None  # None: any stage that runs the gate
    origin: str = OPTION  # "--promote-override" or "override[N]" of the policy
    #: The principal who signed its break-glass authorisation (stages whose records
    #: must be signed accept no other override).
    signed_by: str | None = None

    def describe(self) -> str:
        """``by alice until 2025-07-01: hotfix for INC-42``."""
        until = f" until {self.until.isoformat()}" if self.until else ""
        signed = f" (authorised by {self.signed_by}, signed)" if self.signed_by else ""
        return f"by {self.by}{signed}{until}: {self.reason}"

    def as_dict(self) -> dict[str, Any]:
        """The override as reports record it."""
        return {
            "gate": self.gate, "by": self.by, "reason": self.reason,
            "until": self.until.isoformat() if self.until else None,
            "stage": self.stage, "origin": self.origin, "signed_by": self.signed_by,
        }


@dataclasses.dataclass(frozen=True)
class _Entry:
    """One ``[[tool.promote.override]]`` table."""

    gate: str = ""
    reason: str = ""
    by: str = ""
    stage: str | None = None
    until: datetime.date | str | None = None

    def __post_init__(self) -> None:
        missing = [k for k in ("gate", "reason", "by") if not getattr(self, k).strip()]
        if missing:
            raise ValueError(f"an override needs `gate`, `reason` and `by`; missing {missing}")


def _date(value: object, source: str, where: str) -> datetime.date | None:
    if value is None or isinstance(value, datetime.date):
        # A TOML date-time is a datetime (a date subclass): its day is what counts.
        return value.date() if isinstance(value, datetime.datetime) else value
    try:
        return datetime.date.fromisoformat(str(value))
    except ValueError:
        raise policy_error(source, where, value, "expected a date, e.g. 2025-07-01") from None


def parse_policy(
    raw: object, source: str, stage_names: Sequence[str], specs: Mapping[str, GateSpec]
) -> tuple[Override, ...]:
    """The ``[[tool.promote.override]]`` entries, each checked against the policy."""
    if not isinstance(raw, list):
        raise policy_error(source, "override", raw, "expected [[tool.promote.override]] tables")
    found = []
    for index, table in enumerate(raw):
        key = f"override[{index}]"
        if not isinstance(table, dict):
            raise policy_error(source, key, table, "expected a table")
        entry: _Entry = build(_Entry, table, source, key)
        if entry.gate not in specs:
            problem = f"unknown gate id; {did_you_mean(entry.gate, specs)}"
            raise policy_error(source, f"{key}.gate", entry.gate, problem)
        if entry.stage is not None and entry.stage not in stage_names:
            problem = f"not a stage; {did_you_mean(entry.stage, stage_names)}"
            raise policy_error(source, f"{key}.stage", entry.stage, problem)
        until = _date(entry.until, source, f"{key}.until")
        found.append(Override(entry.gate, entry.reason, entry.by, until, entry.stage, key))
    return tuple(found)


_OPTION_RE = re.compile(r"^(?P<gate>[^:@]+)(?:@(?P<until>[^:]+))?:(?P<reason>.*\S.*)$")


def parse_option(value: str, actor: str | None) -> Override:
    """``GATE[@UNTIL]:REASON`` from the command line; the actor is who runs it."""
    match = _OPTION_RE.match(value)
    if not match:
        raise policy_error(
            OPTION, "GATE[@UNTIL]:REASON", value,
            "expected e.g. --promote-override=coverage@2025-07-01:'hotfix for INC-42'",
        )
    if not actor:
        raise policy_error(
            OPTION, "GATE[@UNTIL]:REASON", value,
            "cannot tell who overrides: set git's user.name/user.email "
            "(or GITHUB_ACTOR / GITLAB_USER_LOGIN in CI)",
        )
    until = _date(match["until"], OPTION, "UNTIL")
    return Override(match["gate"].strip(), match["reason"].strip(), actor, until)


def resolve(
    policy: Overridable, stage: Stage, options: Sequence[str], actor: str | None, today: datetime.date
) -> dict[str, Override]:
    """The overrides that apply to ``stage`` by gate id; a UsageError for any bad one."""
    candidates = [parse_option(v, actor) for v in options]
    candidates += [o for o in policy.overrides if o.stage in (None, stage.name)]
    chosen: dict[str, Override] = {}
    for override in candidates:
        source = OPTION if override.origin == OPTION else policy.source
        where = "GATE" if override.origin == OPTION else f"{override.origin}.gate"
        if override.gate not in stage.gates:
            if override.origin != OPTION and override.stage is None:
                continue  # a committed override for a gate this stage does not run
            valid = did_you_mean(override.gate, stage.gates)
            problem = f"not a gate of stage {stage.name}; {valid}"
            raise policy_error(source, where, override.gate, problem)
        problem = _forbidden(policy, stage, override, today)
        if problem:
            raise policy_error(source, where, override.gate, problem)
        if override.gate in chosen:
            other = chosen[override.gate]
            problem = f"overridden twice ({other.origin} and {override.origin}); keep one"
            raise policy_error(source, where, override.gate, problem)
        chosen[override.gate] = override
    return chosen


def _forbidden(policy: Overridable, stage: Stage, override: Override, today: datetime.date) -> str:
    if not stage.overridable:
        return f"stage {stage.name} forbids overrides (overridable = false)"
    if not policy.gates[override.gate].overridable:
        table = f"[tool.promote.gates.{override.gate}]"
        return f"gate {override.gate} forbids overrides ({table} overridable = false)"
    if override.until is not None and override.until < today:
        return f"override expired on {override.until.isoformat()} ({override.describe()})"
    if override.until is None and stage.override_requires_until:
        return (
            f"an override at {stage.name} needs an expiry date: "
            "`until = YYYY-MM-DD` in the policy, or GATE@YYYY-MM-DD:REASON"
        )
    return ""
