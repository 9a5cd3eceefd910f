"""Project-relative path globs with ``**``, as users write them in a policy.

``*`` and ``?`` stay inside one path segment, ``**`` spans any number of them. A
pattern without a ``/`` matches a file's name at any depth (``*.md``), as in
``.gitignore``; a pattern that matches a directory covers everything below it
(``docs`` or ``docs/**``).
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Iterable, Iterator
from pathlib import Path


@functools.lru_cache(maxsize=256)
def _compile(pattern: str) -> re.Pattern[str]:
    pat = pattern.strip().lstrip("/").removeprefix("./").rstrip("/")
    if "/" not in pat:
        pat = "**/" + pat
    out: list[str] = []
    i = 0
    while i < len(pat):
        if pat.startswith("**/", i):
            out.append("(?:[^/]*/)*")  # zero or more whole directories
            i += 3
        elif pat.startswith("**", i):
            out.append(".*")
            i += 2
        elif pat[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pat[i] == "?":
            out.append("[^/]")
            i += 1
        elif pat[i] == "[" and "]" in pat[i + 2 :]:
            end = pat.index("]", i + 2)
            body = pat[i + 1 : end]
            if body.startswith("!"):
                body = "^" + body[1:]
            out.append(f"[{body.replace(chr(92), chr(92) * 2)}]")
            i = end + 1
        else:
            out.append(re.escape(pat[i]))
            i += 1
    # A match of a directory covers what is below it.
    return re.compile("".join(out) + "(?:/.*)?")


def matches(path: str, pattern: str) -> bool:
    """Whether the project-relative POSIX ``path`` falls under ``pattern``."""
    return _compile(pattern).fullmatch(path.removeprefix("./")) is not None


def matches_any(path: str, patterns: Iterable[str]) -> bool:
    """Whether ``path`` falls under at least one of ``patterns``."""
    return any(matches(path, p) for p in patterns)


#: Directories no tree walk enters (besides .git, hidden ones and virtualenvs).
SKIPPED_DIRS = frozenset({"__pycache__", "node_modules", "site-packages"})


def walk(start: Path, hidden: bool = False) -> Iterator[Path]:
    """Every file below ``start``, in a stable order; VCS, caches and virtualenvs are
    skipped, hidden directories too unless ``hidden``."""
    for dirpath, dirnames, filenames in os.walk(start):
        here = Path(dirpath)
        dirnames[:] = sorted(
            d for d in dirnames
            if (hidden or not d.startswith(".")) and d not in SKIPPED_DIRS and d != ".git"
            and not (here / d / "pyvenv.cfg").exists()
        )
        yield from (here / f for f in sorted(filenames))
