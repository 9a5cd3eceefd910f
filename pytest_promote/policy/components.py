"""Components: parts of one repository, each promoted through the stages on its own.

``[tool.promote.components.<name>]`` names a component's ``source`` and ``tests``
(gitignore-style globs, relative to the project root) and, under ``stage.<stage>``,
how it tightens the repository's stages. ``--promote-component=NAME`` judges only its
tests and its files; its ledger records carry its name, and a record of it still
holds for a later commit whose files under its paths are identical.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pytest_promote._util import git
from pytest_promote._util.paths import check_inside, matcher, walk
from pytest_promote.policy.schema import coerce, did_you_mean, policy_error

if TYPE_CHECKING:
    from pytest_promote.policy.stage import Stage

#: The keys of ``[tool.promote.components.<name>]``.
KEYS = ("source", "tests", "stage")
#: What a component name may be made of (it names records, report rows, JUnit properties).
NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")
#: ``--promote-component`` values that are not component names.
RESERVED = ("all", "auto")


def globs(value: object, source: str, where: str) -> tuple[str, ...]:
    """A non-empty list of globs that stay inside the project root, or a UsageError."""
    found = coerce(tuple[str, ...], value, source, where)
    if not [p for p in found if p.strip() and not p.startswith(("#", "!"))]:
        problem = 'name at least one path, e.g. ["src/billing/"]'
        raise policy_error(source, where, list(found), problem)
    try:
        for pattern in found:
            if pattern.strip() and not pattern.startswith("#"):
                check_inside(where.rpartition(".")[2], pattern, glob=True)
    except ValueError as exc:
        raise policy_error(source, where, list(found), str(exc)) from None
    try:
        matcher(found)
    except (ValueError, TypeError) as exc:  # pathspec's verdict on a malformed pattern
        raise policy_error(source, where, list(found), f"not a gitignore-style pattern: {exc}") from None
    return found


def check_name(name: str, source: str) -> None:
    """A UsageError unless ``name`` may name a component."""
    where = f"components.{name}"
    if not NAME.fullmatch(name):
        problem = "a component name is letters, digits, '_', '-' and '.' only; rename it"
        raise policy_error(source, where, name, problem)
    if name in RESERVED:
        problem = f"reserved (--promote-component={name} judges several components); rename it"
        raise policy_error(source, where, name, problem)


def check_keys(name: str, table: Mapping[str, Any], source: str) -> None:
    """A UsageError for an unknown key or a missing ``source``/``tests``."""
    for key, value in table.items():
        if key not in KEYS:
            raise policy_error(source, f"components.{name}.{key}", value,
                               f"unknown key; {did_you_mean(key, KEYS)}")
    for key in ("source", "tests"):
        if key not in table:
            problem = f'a component names its {key}: {key} = ["{key if key == "tests" else "src"}/{name}/"]'
            raise policy_error(source, f"components.{name}", dict(table), problem)


@dataclasses.dataclass(frozen=True)
class Component:
    """One component: its globs, its stages (the repository's, tightened) and, once a
    run resolved it against the tree, the paths its tools are given."""

    name: str
    source: tuple[str, ...]
    tests: tuple[str, ...]
    stages: tuple[Stage, ...]
    #: The fewest project paths (directories wholly its own, else files) holding its
    #: source and tests: what ruff, pyright and detect-secrets look at.
    paths: tuple[str, ...] = ()

    def is_source(self, path: str) -> bool:
        """Whether the project-relative ``path`` is part of its source."""
        return matcher(self.source)(path)

    def is_test(self, path: str) -> bool:
        """Whether the project-relative ``path`` is one of its test files."""
        return matcher(self.tests)(path)

    def owns(self, path: str) -> bool:
        """Whether ``path`` is one of its files (source or tests)."""
        return matcher((*self.source, *self.tests))(path)

    def resolve(self, root: Path, source: str) -> Component:
        """This component with :attr:`paths` found under ``root``; a UsageError (naming
        the policy ``source``) when its source or its tests match no file: it would
        judge nothing."""
        files = [f.relative_to(root).as_posix() for f in walk(root)]
        for key, wanted in (("source", self.is_source), ("tests", self.is_test)):
            if not any(wanted(f) for f in files):
                problem = f"matches no file under {root}; correct the globs"
                raise policy_error(source, f"components.{self.name}.{key}",
                                   list(getattr(self, key)), problem)
        return dataclasses.replace(self, paths=covering(files, self.owns))

    def content(self, files: Mapping[str, str]) -> str:
        """A digest of its files among ``files`` (path -> blob id, as :func:`git.blobs`
        reads a commit): equal digests, identical source and tests."""
        mine = sorted((p, blob) for p, blob in files.items() if self.owns(p))
        return hashlib.sha256(repr(mine).encode()).hexdigest()


def covering(files: list[str], wanted: Callable[[str], bool]) -> tuple[str, ...]:
    """The fewest paths naming exactly the ``wanted`` ones of ``files``: a directory
    when every file walked below it is wanted, else the files themselves."""
    unwanted: set[str] = set()  # directories holding a file that is not wanted
    chosen = []
    for path in files:
        if wanted(path):
            chosen.append(path)
        else:
            unwanted.update(_parents(path))
    found: dict[str, None] = {}
    for path in chosen:
        whole = (d for d in _parents(path) if d not in unwanted)
        found[next(whole, path)] = None
    return tuple(found)


def _parents(path: str) -> list[str]:
    """``a/b/c.py`` -> ``["a", "a/b"]``, outermost first."""
    parts = path.split("/")
    return ["/".join(parts[:depth]) for depth in range(1, len(parts))]


class Contents:
    """Each commit's digest of one component's files, read from git once per commit."""

    def __init__(self, root: Path, component: Component) -> None:
        self.root = root
        self.component = component
        self._seen: dict[str, str | None] = {}

    def of(self, commit: str) -> str | None:
        """The component's content digest at ``commit``; None when git cannot read it."""
        if commit not in self._seen:
            files = git.blobs(self.root, commit)
            self._seen[commit] = None if files is None else self.component.content(files)
        return self._seen[commit]
