"""A stage of the promotion path: what it accepts, its gates and their options.

:class:`GateSpec` is a gate the policy can name; :class:`Stage` holds one stage with
everything it inherited (see :mod:`pytest_promote.policy.loader`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, Literal

#: How a stage holds a gate: a required gate's failure makes the run RED, an advisory
#: one's only YELLOW.
Mode = Literal["required", "advisory"]
Colour = Literal["green", "yellow", "red"]
COLOUR_RANK = {"red": 0, "yellow": 1, "green": 2}


@dataclasses.dataclass(frozen=True)
class GateSpec:
    """A gate the policy can name: its id and the kind that evaluates it."""

    id: str
    kind: str
    overridable: bool = True


@dataclasses.dataclass(frozen=True)
class Stage:
    """One stage of the promotion path, with everything it inherited."""

    name: str
    accept: Colour
    required: tuple[str, ...]
    advisory: tuple[str, ...]
    match: tuple[str, ...]
    options: Mapping[str, Any]  # gate id -> the kind's Options instance
    overridable: bool = True
    override_requires_until: bool = False

    @property
    def gates(self) -> tuple[str, ...]:
        """The stage's gate ids in their stable order."""
        return self.required + self.advisory

    def mode(self, gate_id: str) -> Mode:
        """Whether ``gate_id`` blocks (required) or only reports (advisory)."""
        return "required" if gate_id in self.required else "advisory"

