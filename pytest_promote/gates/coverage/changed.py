"""Coverage of the change: the lines added or modified since the base, as measured
by the session's coverage data.

The changed lines come from ``git diff --unified=0`` between the base (the merge base
the ``provenance`` gate uses too) and the working tree the tests ran on; of them, the
lines coverage.py counts as statements (with the project's exclusions) are the
change's measurable lines, and those it did not see run are its uncovered lines.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from pytest_promote._util import git
from pytest_promote.api import relative

if TYPE_CHECKING:
    from pytest_promote.gates.coverage.sources import Gathered

_HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@")


def changed_lines(root: Path, base: str) -> dict[str, set[int]] | None:
    """Paths (relative to ``root``, POSIX) -> the line numbers added or modified in
    them since ``base``, in the working tree; None when git fails. A renamed file
    counts only the lines its move changed."""
    out = git.git(root, "diff", "--unified=0", "--no-color", "--no-ext-diff", "-M",
                  "--relative", "--diff-filter=AMRC", base, "--")
    if out is None:
        return None
    return parse_diff(out)


def parse_diff(text: str) -> dict[str, set[int]]:
    """The new side of a unified diff: path -> added or modified line numbers."""
    found: dict[str, set[int]] = {}
    current: set[int] | None = None
    for line in text.splitlines():
        if line.startswith("+++ "):
            name = line[4:]
            current = None if name == "/dev/null" else found.setdefault(_unquote(name[2:]), set())
            continue
        match = _HUNK.match(line)
        if match and current is not None:
            start, count = int(match[1]), int(match[2] if match[2] is not None else 1)
            current.update(range(start, start + count))
    return {path: lines for path, lines in found.items() if lines}


def _unquote(name: str) -> str:
    """git quotes paths with unusual characters (``"a\\tb.py"``)."""
    if name.startswith('"') and name.endswith('"'):
        return name[1:-1].encode("latin-1", "backslashreplace").decode("unicode_escape").encode(
            "latin-1").decode("utf-8", "replace")
    return name


@dataclasses.dataclass(frozen=True)
class ChangedFile:
    """One changed file's measurable changed lines and those not covered."""

    path: str
    lines: tuple[int, ...]
    missing: tuple[int, ...]


@dataclasses.dataclass(frozen=True)
class Change:
    """The coverage of the changed lines of every measured changed file."""

    files: tuple[ChangedFile, ...]
    #: Changed Python files coverage.py reported nothing on (not measured, or omitted).
    unmeasured: tuple[str, ...]
    #: The base the change is measured from, as messages name it.
    base: str = ""

    @property
    def statements(self) -> int:
        """How many changed lines are measurable."""
        return sum(len(f.lines) for f in self.files)

    @property
    def missing(self) -> int:
        """How many of them no test ran."""
        return sum(len(f.missing) for f in self.files)

    def percent(self) -> float:
        """Covered share of the measurable changed lines (100 when there are none)."""
        return 100.0 * (self.statements - self.missing) / self.statements if self.statements else 100.0


def measure(
    gathered: Gathered, root: Path, changed: Mapping[str, set[int]], reported: Iterable[str]
) -> Change:
    """The changed lines of the files coverage.py reports on (``reported``, paths from
    ``root``), judged with the same data and settings as the coverage gate."""
    import coverage

    reported = set(reported)
    analyser = coverage.Coverage(data_file=None, config_file=gathered.config_file)
    analyser.get_data().update(gathered.data)
    by_path = {relative(Path(name), root): name for name in gathered.data.measured_files()}
    files: list[ChangedFile] = []
    for path in sorted(changed):
        if path not in reported:
            continue
        _, statements, _, missing, _ = analyser.analysis2(by_path.get(path, str(root / path)))
        lines = sorted(changed[path] & set(statements))
        if lines:
            files.append(ChangedFile(path, tuple(lines), tuple(sorted(changed[path] & set(missing)))))
    unmeasured = tuple(p for p in sorted(changed) if p.endswith(".py") and p not in reported)
    return Change(tuple(files), unmeasured)


def ranges(lines: Iterable[int]) -> str:
    """``3-5, 9`` for lines 3, 4, 5 and 9."""
    out: list[str] = []
    ordered = sorted(lines)
    start = prev = ordered[0] if ordered else 0
    for line in ordered[1:]:
        if line != prev + 1:
            out.append(f"{start}-{prev}" if prev > start else str(start))
            start = line
        prev = line
    if ordered:
        out.append(f"{start}-{prev}" if prev > start else str(start))
    return ", ".join(out)
