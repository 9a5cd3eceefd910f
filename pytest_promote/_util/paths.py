"""Paths users write in a policy: one glob dialect, one "inside the root" check, one
tree walker.

Every glob a policy names (components' ``source`` and ``tests``, ``artifacts.paths``,
``secrets.exclude``, the ``provenance`` gate's ``exempt`` and its tasks' ``scope``)
is read as the lines of a ``.gitignore``, by pathspec: paths are relative to the
project root, in POSIX form; ``*`` and ``?`` stay inside one path segment, ``**``
spans any number of them; a pattern without a ``/`` (other than a trailing one)
matches at any depth (``*.md``), one with a ``/`` is anchored at the root
(``/docs`` or ``docs/api``); a pattern matching a directory covers everything below
it (``docs/`` or ``docs/**``); ``!pattern`` excludes again what an earlier pattern
matched. A leading ``./`` is dropped.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path, PurePosixPath
from typing import Any

#: Directories no tree walk enters, besides hidden ones (unless asked) and
#: virtualenvs (any directory holding a ``pyvenv.cfg``).
SKIPPED_DIRS = frozenset({
    ".git", ".hg", ".svn", ".tox", ".nox", ".eggs", ".pytest_cache", ".mypy_cache", ".ruff_cache",
    "__pycache__", "node_modules", "site-packages",
})
#: Where a pattern stops being a literal path.
_WILD = re.compile(r"[*?\[\\]")


def _normal(pattern: str) -> str:
    negated = pattern.startswith("!")
    bare = pattern.removeprefix("!").removeprefix("./")
    return "!" + bare if negated else bare


@functools.lru_cache(maxsize=256)
def _spec(patterns: tuple[str, ...]) -> Any:
    import pathspec

    return pathspec.GitIgnoreSpec.from_lines([_normal(p) for p in patterns])


def matcher(patterns: Iterable[str]) -> Callable[[str], bool]:
    """Whether a project-relative POSIX path matches ``patterns`` (see above).

    Raises ValueError (or TypeError) for a pattern pathspec cannot read."""
    spec = _spec(tuple(patterns))
    return lambda path: bool(spec.match_file(path.removeprefix("./")))


def matches_any(path: str, patterns: Iterable[str]) -> bool:
    """Whether the project-relative POSIX ``path`` matches ``patterns``."""
    return matcher(patterns)(path)


def check_inside(key: str, value: str, *, glob: bool = False) -> str:
    """``value`` if it stays inside the project root: a relative path, or with ``glob``
    a pattern (whose leading ``/`` anchors it at the root); otherwise a ValueError
    naming ``key``, which the policy loader reports with the file and the fix."""
    bare = _normal(value).removeprefix("!").lstrip("/") if glob else value
    pure = PurePosixPath(bare)
    if not bare.strip() or pure.is_absolute() or ".." in pure.parts or Path(bare).is_absolute():
        what = "a glob relative to the project root" if glob else "a relative path inside the project root"
        raise ValueError(f"`{key}` = {value!r} leaves the project root; it must be {what}")
    return value


def walk(start: Path, hidden: bool = False) -> Iterator[Path]:
    """Every file below ``start``, in a stable order; VCS, caches and virtualenvs are
    skipped, hidden directories too unless ``hidden``."""
    for dirpath, dirnames, filenames in os.walk(start):
        here = Path(dirpath)
        dirnames[:] = sorted(
            d for d in dirnames
            if (hidden or not d.startswith(".")) and d not in SKIPPED_DIRS
            and not (here / d / "pyvenv.cfg").exists()
        )
        yield from (here / f for f in sorted(filenames))


def find(root: Path, pattern: str) -> list[Path]:
    """The files under ``root`` that ``pattern`` matches, hidden ones included, in a
    stable order. An anchored pattern is looked for only below its literal leading
    directories (``dist/*.whl``: in ``dist``)."""
    bare = _normal(pattern).lstrip("/")
    start = root
    if "/" in bare.rstrip("/"):
        literal = [part for part in _WILD.split(bare, maxsplit=1)[0].split("/")[:-1] if part]
        start = root.joinpath(*literal)
    wanted = matcher([pattern])
    return [f for f in walk(start, hidden=True) if wanted(f.relative_to(root).as_posix())]
