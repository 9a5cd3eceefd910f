"""OpenSSH's patterns and pattern-lists (``ssh_config(5)``/``sshd(8)`` PATTERNS), as
OpenSSH's ``match.c`` decides them.

A pattern matches a whole string: ``*`` any run of bytes, ``?`` exactly one byte,
every other byte itself (case-sensitive). A pattern-list is comma-separated
patterns, each may start with ``!``: the list matches when some plain pattern
matches and no negated one does; a negated match rejects the string outright
(``*@example.com,!release@example.com`` does not match ``release@example.com``).
The allowed-signers file's principals and ``namespaces`` are pattern-lists.
"""

from __future__ import annotations

import functools

#: match.c keeps each sub-pattern in a 1024-byte buffer; a longer one matches nothing.
LONGEST = 1023


def match_pattern(string: str | bytes, pattern: str | bytes) -> bool:
    """Whether ``pattern`` (``*`` and ``?`` wildcards) matches all of ``string``."""
    s, p = _bytes(string), _bytes(pattern)

    @functools.cache
    def at(i: int, j: int) -> bool:
        while j < len(p):
            if p[j] == ord("*"):
                while j < len(p) and p[j] == ord("*"):
                    j += 1
                return j == len(p) or any(at(k, j) for k in range(i, len(s)))
            if i == len(s) or (p[j] != ord("?") and p[j] != s[i]):
                return False
            i, j = i + 1, j + 1
        return i == len(s)

    return at(0, 0)


def match_pattern_list(string: str | bytes, patterns: str | bytes, lower: bool = False) -> int:
    """1 when ``string`` matches the pattern-list, -1 when a negated pattern matches
    it, 0 when nothing matches (``match_pattern_list`` of OpenSSH). With ``lower``,
    the patterns' ASCII capitals are lowered first (the string is not)."""
    s, text = _bytes(string), _bytes(patterns)
    positive = 0
    i = 0
    while i < len(text):
        negated = text[i] == ord("!")
        i += negated
        end = text.find(b",", i)
        end = len(text) if end < 0 else end
        sub = text[i:end]
        if len(sub) >= LONGEST:
            return 0
        i = end + 1
        if match_pattern(s, sub.lower() if lower else sub):
            if negated:
                return -1
            positive = 1
    return positive


def literal_names(patterns: str) -> list[str]:
    """The plain (not negated, wildcard-free) names of a pattern-list."""
    return [p for p in patterns.split(",") if p and not p.startswith("!") and not set(p) & {"*", "?"}]


def _bytes(text: str | bytes) -> bytes:
    return text.encode("utf-8", "surrogateescape") if isinstance(text, str) else text
