"""Linear-time twins of two detect-secrets line filters that backtrack on spaces.

Both run on every line scanned, and both are installed through detect-secrets'
own settings (``FILTERS``: the original's path -> the twin here), never by
patching detect-secrets. Each decides exactly as its original does; the tests
check that against the originals on random lines.

``is_indirect_reference`` searches
``([^\\v=!:]*)\\s*(:=?|[!=]{1,3})\\s*([\\w.-]+[\\[\\(][^\\v]*[\\]\\)])``, which
backtracks catastrophically over long runs of spaces: a 500-character table row
costs it about 40 ms, a 16,000-line reStructuredText table ten minutes. Only
whether a match exists matters, and that is decided by a simpler condition: the
leading ``([^\\v=!:]*)\\s*`` may match nothing, so it never decides; every longer
operator ends in one of ``: ! =``; and ``\\s``, ``[\\w.-]``, the operator
characters and the brackets are disjoint sets (checked over every code point).
So a match exists exactly when some ``[:!=]`` is followed by whitespace, a run of
``[\\w.-]`` and ``[`` or ``(``, then a ``]`` or ``)`` with no vertical tab between.

``is_line_allowlisted`` searches, unanchored, patterns such as
``[ \\t]*# *pragma: ?(allow|white)list[ -]secret.*?[ \\t]*$``: in a run of n
spaces every start position matches the whole run before failing, n*n steps
(about 2 ms for a wide table row). The leading ``[ \\t]*`` may match nothing, so
it never decides; runs are made possessive where what follows cannot be in them;
``.*?[ \\t]*$`` becomes "no newline before the end, but a final one".

That reasoning is about the originals of detect-secrets 1.5: a twin stands in only
while the installed original's code (the filter and the helpers that build its
expressions) is that code, character for character (``proven``); otherwise the
original runs.
"""

from __future__ import annotations

import hashlib
import os
import re
from typing import Any

#: detect-secrets filters (by settings path) -> their twins in this module.
FILTERS = {
    "detect_secrets.filters.heuristic.is_indirect_reference": "is_indirect_reference",
    "detect_secrets.filters.allowlist.is_line_allowlisted": "is_line_allowlisted",
}
#: Each original's source (the filter, then the helpers that build its regular
#: expressions, in this order) as the twin was proven equal to: its SHA-256.
ORIGINALS = {
    "detect_secrets.filters.heuristic.is_indirect_reference": (
        ("is_indirect_reference", "_get_indirect_reference_regex"),
        "d61e41e775f5dab34272bccba2c48d66a4a001b02cc4f85a557659607f6736b0",  # pragma: allowlist secret
    ),
    "detect_secrets.filters.allowlist.is_line_allowlisted": (
        ("is_line_allowlisted", "_get_file_to_index_dict", "_get_comment_tuples",
         "_get_allowlist_regexes_for_file", "get_allowlist_regexes"),
        "4909aa93e333027ada2ed5e3fe79a1ce1b8c8778d20379cc5981126434dc628b",  # pragma: allowlist secret
    ),
}


def original_digest(path: str) -> str | None:
    """The SHA-256 of the installed original's source (see ``ORIGINALS``), or None
    when it cannot be read. Imports detect-secrets: for the scan's workers."""
    import importlib
    import inspect

    names, _ = ORIGINALS[path]
    try:
        module = importlib.import_module(path.rpartition(".")[0])
        text = "".join(inspect.getsource(getattr(module, name)) for name in names)
    except (ImportError, AttributeError, OSError, TypeError):
        return None
    return hashlib.sha256(text.encode()).hexdigest()


def proven(path: str) -> bool:
    """Whether the installed original filter ``path`` is the one its twin was proven equal to."""
    return original_digest(path) == ORIGINALS[path][1]

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


# detect-secrets' comment syntaxes (filters.allowlist._get_comment_tuples), in its order:
# (start, end) of the same-line pattern; a start never begins with a space or tab.
_COMMENTS = (
    ("#", ""), ("//", ""), (r"/\*", r"\*/"), ("'", ""), ("--", ""), (r"<!--[# \t]*+", "-->"),
)
_TAIL = r"[^\n]*+\n?\Z"  # ``.*?[ \t]*$``: no newline before the end, but a final one


def _allowlist_regex(start: str, end: str, nextline: bool) -> re.Pattern[str]:
    anchor = r"^[ \t]*+" if nextline else ""
    kind = r"allowlist[ -]nextline" if nextline else r"(?:allow|white)list"
    tail = rf"[^\n]*?{end}[ \t]*+\n?\Z" if end else _TAIL
    return re.compile(rf"{anchor}{start} *+pragma: ?{kind}[ -]secret{tail}")


_SAME_LINE = tuple(_allowlist_regex(s, e, nextline=False) for s, e in _COMMENTS)
_NEXT_LINE = tuple(_allowlist_regex(s, e, nextline=True) for s, e in _COMMENTS)


def is_line_allowlisted(filename: str, line: str, context: Any) -> bool:
    """Exactly ``detect_secrets.filters.allowlist.is_line_allowlisted``, in linear time.

    The parameter names are the original's: detect-secrets injects by name, and
    calls it in the same phases (line and context) as the original.
    """
    same, nextline = _SAME_LINE, _NEXT_LINE
    if os.path.splitext(filename)[1] == ".yaml":  # only ``#`` comments there, as upstream
        same, nextline = same[:1], nextline[:1]
    return any(r.search(line) for r in same) or any(
        r.search(context.previous_line) for r in nextline
    )
