"""The time pytest-promote judges by: now, unless ``PROMOTE_NOW`` says otherwise.

``PROMOTE_NOW`` (an ISO 8601 date-time, e.g. ``2025-12-24T10:00:00+01:00``) lets a
test or a rehearsal ask "would this run be frozen then?" without waiting. Gates that
read the clock say in their summary when it was set, so it never passes unnoticed.
"""

from __future__ import annotations

import datetime
import os

import pytest

ENV = "PROMOTE_NOW"


def now() -> datetime.datetime:
    """The current time, time-zone aware (UTC unless ``PROMOTE_NOW`` names a zone)."""
    raw = os.environ.get(ENV)
    if not raw:
        return datetime.datetime.now(datetime.UTC)
    try:
        value = datetime.datetime.fromisoformat(raw)
    except ValueError:
        raise pytest.UsageError(
            f"{ENV}={raw!r}: not an ISO 8601 date-time; e.g. {ENV}=2025-12-24T10:00:00+00:00"
        ) from None
    return value if value.tzinfo else value.replace(tzinfo=datetime.UTC)


def note() -> str:
    """`` (clock set by PROMOTE_NOW=...)`` when the clock is not the real one, else ``""``."""
    raw = os.environ.get(ENV)
    return f" (clock set by {ENV}={raw})" if raw else ""
