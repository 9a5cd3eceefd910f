"""What one promotion session judges: the whole repository, one component
(``--promote-component=NAME``), or several components, each with its own policy,
gates and verdict (``all``: every component; ``auto``: those whose files changed
since the base).

A session judging several components collects the tests of each, records each
test's outcome for the components whose tests it is, and measures coverage per
component (see :mod:`pytest_promote.gates.coverage.contexts`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

import pytest

from pytest_promote._util import git
from pytest_promote.policy.components import RESERVED
from pytest_promote.runner.options import options

if TYPE_CHECKING:
    from pytest_promote.policy.components import Component
    from pytest_promote.policy.model import Policy

ALL, AUTO = RESERVED


@dataclasses.dataclass(frozen=True)
class Judged:
    """The policies a session judges: one per promotion run."""

    policies: tuple[Policy, ...]
    #: ``--promote-component=all|auto``: one run per component, in one session.
    several: bool = False
    #: How ``all``/``auto`` chose the components (a header line), else None.
    described: str | None = None


def choose(config: pytest.Config, policy: Policy) -> Judged:
    """The policies of the runs ``--promote-component`` asks for (a UsageError when
    it names no component of the policy)."""
    root = config.rootpath
    value = options(config).component
    if value is None:
        return Judged((policy,))
    if value not in RESERVED:
        return Judged((policy.only(value, root),))
    if not policy.components:
        raise pytest.UsageError(
            f"--promote-component={value}: the policy ({policy.source}) defines no component; "
            "add [tool.promote.components.NAME] tables, or promote the whole repository "
            "without --promote-component"
        )
    names = list(policy.components)
    described = f"--promote-component=all: every component ({', '.join(names)})"
    if value == AUTO:
        names, described = changed(config, policy)
    return Judged(tuple(policy.only(n, root) for n in names), True, described)


def changed(config: pytest.Config, policy: Policy) -> tuple[list[str], str]:
    """The components whose files differ between the base (found as the provenance
    gate finds it) and the working tree, and a line saying so."""
    from pytest_promote.gates.provenance import find_base

    root = config.rootpath
    base = find_base(config, root, None, "--promote-base")
    if isinstance(base, str):
        raise pytest.UsageError(
            f"--promote-component=auto judges the components changed since a base: {base}"
        )
    committed, uncommitted = git.changed_files(root, base.sha), git.changes(root)
    if committed is None or uncommitted is None:
        raise pytest.UsageError(
            f"--promote-component=auto: git cannot list what changed since {base}; "
            "name the components (--promote-component=all or NAME)"
        )
    paths = {*committed, *uncommitted}
    names = [n for n, c in policy.components.items() if any(c.owns(p) for p in paths)]
    unchanged = [n for n in policy.components if n not in names]
    described = f"--promote-component=auto: changed since {base}: {', '.join(names) or 'none'}"
    if unchanged:
        described += f"; unchanged: {', '.join(unchanged)}"
    return names, described


class Owners:
    """Which of the judged components a project path (relative, POSIX) is collected
    for: its test files and every directory above them."""

    def __init__(self, root: Path, components: Iterable[Component]) -> None:
        from pytest_promote._util.paths import walk

        files = [f.relative_to(root).as_posix() for f in walk(root)]
        self.kept: dict[str, set[str]] = {}
        for component in components:
            kept = {f for f in files if component.is_test(f)}
            kept.update(p.as_posix() for f in list(kept) for p in PurePosixPath(f).parents)
            self.kept[component.name] = kept

    def of(self, path: str) -> list[str]:
        """The components ``path`` is collected for."""
        return [name for name, kept in self.kept.items() if path in kept]
