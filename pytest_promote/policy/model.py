"""The promotion policy of a project: its stages, gates, overrides, freeze windows,
components and trust, as one frozen value (read by :mod:`pytest_promote.policy.loader`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from pytest_promote.policy.schema import did_you_mean, policy_error

if TYPE_CHECKING:
    from pytest_promote.policy.components import Component
    from pytest_promote.policy.freeze import FreezeWindow
    from pytest_promote.policy.overrides import Override
    from pytest_promote.policy.stage import GateSpec, Stage
    from pytest_promote.policy.trust import Trust


@dataclasses.dataclass(frozen=True)
class Policy:
    """The promotion policy of a project."""

    source: str
    stages: tuple[Stage, ...]
    paths: tuple[str, ...] | None
    gates: Mapping[str, GateSpec]
    overrides: tuple[Override, ...] = ()
    freezes: tuple[FreezeWindow, ...] = ()
    #: ``[tool.promote.components]``: the parts of the repository promoted on their own.
    components: Mapping[str, Component] = dataclasses.field(default_factory=dict)
    #: The component this policy judges (see :meth:`only`); None: the whole repository.
    component: Component | None = None
    #: ``[tool.promote.trust]``; None: records are unsigned and nobody's signature is needed.
    trust: Trust | None = None

    def only(self, name: str, root: Path) -> Policy:
        """The policy of one component: its stages, and its files (found under ``root``)
        as the paths its tools look at. A UsageError naming the components otherwise."""
        if name not in self.components:
            known = did_you_mean(name, self.components) if self.components else (
                "the policy defines no component; add [tool.promote.components."
                f"{name}] with its source and tests globs"
            )
            raise policy_error("--promote-component", "NAME", name, f"not a component of {self.source}; {known}")
        component = self.components[name].resolve(root, self.source)
        return dataclasses.replace(
            self, stages=component.stages, paths=component.paths, component=component
        )

    def stage(self, name: str) -> Stage:
        """The stage called ``name``; a UsageError naming the valid ones otherwise."""
        for stage in self.stages:
            if stage.name == name:
                return stage
        names = [s.name for s in self.stages]
        raise policy_error(
            "--promote-to", "STAGE", name, f"not a stage of {self.source}; {did_you_mean(name, names)}"
        )

    def previous(self, name: str) -> Stage | None:
        """The stage before ``name`` on the promotion path."""
        names = [s.name for s in self.stages]
        index = names.index(name)
        return self.stages[index - 1] if index else None
