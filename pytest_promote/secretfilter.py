"""A linear-time twin of detect-secrets' ``is_indirect_reference`` filter.

The original searches ``([^\\v=!:]*)\\s*(:=?|[!=]{1,3})\\s*([\\w.-]+[\\[\\(][^\\v]*[\\]\\)])``
and backtracks catastrophically over long runs of spaces: a 500-character table
row costs it about 40 ms, a 16,000-line reStructuredText table ten minutes. Only
whether a match exists matters (the filter returns a bool), and that is decided
by a much simpler condition:

* the leading ``([^\\v=!:]*)\\s*`` may match nothing, so it never decides;
* every longer operator ends in one of ``: ! =``, and ``\\s``, ``[\\w.-]``, the
  operator characters and the brackets are disjoint sets (checked in the tests
  over every code point), so a match exists exactly when some ``[:!=]`` is
  followed by whitespace, a run of ``[\\w.-]`` and ``[`` or ``(``, with a ``]``
  or ``)`` later on and no vertical tab in between.

The left part is matched with possessive quantifiers (no backtracking, and its
matches cannot overlap); the search for the closing bracket remembers where it
last ran into a vertical tab, so no character is looked at more than a few times.
The filter is installed through detect-secrets' own settings, under
:data:`FILTER_PATH`, in place of :data:`ORIGINAL_PATH`.
"""

from __future__ import annotations

import re

#: The detect-secrets filter this one replaces, by its settings path.
ORIGINAL_PATH = "detect_secrets.filters.heuristic.is_indirect_reference"
#: This filter's settings path (an importable module path, as detect-secrets expects).
FILTER_PATH = "pytest_promote.secretfilter.is_indirect_reference"
#: Bumped whenever the behaviour could change, so cached scan results are redone.
VERSION = "1"

# The original's cut-off: longer lines are never treated as indirect references.
_MAX_LINE = 1000
_LEFT = re.compile(r"[:!=]\s*+[\w.-]++[\[(]")
_CLOSE_OR_VT = re.compile(r"[\])\v]")


def is_indirect_reference(line: str) -> bool:
    """Exactly ``detect_secrets.filters.heuristic.is_indirect_reference(line)``, in linear time.

    The parameter is called ``line`` because detect-secrets injects a filter's
    arguments by name: this makes it a line filter, like the original.
    """
    if len(line) > _MAX_LINE:
        return False
    pos = 0
    blocked_until = -1  # no closing bracket before this vertical tab (a known dead end)
    while True:
        left = _LEFT.search(line, pos)
        if left is None:
            return False
        pos = left.end()
        if pos <= blocked_until:
            continue
        stop = _CLOSE_OR_VT.search(line, pos)
        if stop is None:
            return False  # no closing bracket anywhere further on
        if line[stop.start()] != "\v":
            return True
        blocked_until = stop.start()
