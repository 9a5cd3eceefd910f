"""The one recipe for fingerprints and cache keys: a stable hash of values."""

from __future__ import annotations

import hashlib


def digest(*parts: object) -> str:
    """A stable hash of ``parts`` (their reprs), for fingerprints."""
    h = hashlib.sha256()
    for part in parts:
        h.update(repr(part).encode() + b"\0")
    return h.hexdigest()
