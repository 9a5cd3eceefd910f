"""The time pytest-promote judges by: now, unless ``PROMOTE_NOW`` says otherwise.

``PROMOTE_NOW`` (an ISO 8601 date-time, e.g. ``2025-12-24T10:00:00+01:00``) lets a
test or a rehearsal ask "would this run be frozen then?" without waiting. It is
refused in CI (``CI=true``); where it is set, the header, every report and the ledger
record say so, and the run is not accepted: its verdict is about another time.

An unusable setting is a :class:`ClockError`; a promotion run reports it as a usage
error, with its message.
"""

from __future__ import annotations

import datetime
import os

ENV = "PROMOTE_NOW"


class ClockError(Exception):
    """``PROMOTE_NOW`` cannot be used here; the message says why and what to do."""


def now() -> datetime.datetime:
    """The current time in UTC (``PROMOTE_NOW``'s, converted to UTC, when set)."""
    raw = setting()
    if not raw:
        return datetime.datetime.now(datetime.UTC)
    try:
        value = datetime.datetime.fromisoformat(raw)
    except ValueError:
        raise ClockError(
            f"{ENV}={raw!r}: not an ISO 8601 date-time; e.g. {ENV}=2025-12-24T10:00:00+00:00"
        ) from None
    return (value if value.tzinfo else value.replace(tzinfo=datetime.UTC)).astimezone(datetime.UTC)


def setting() -> str | None:
    """``PROMOTE_NOW`` if set; a :class:`ClockError` in CI, where the clock is never moved."""
    from pytest_promote._util.git import in_ci

    raw = os.environ.get(ENV)
    if raw and in_ci():
        raise ClockError(
            f"{ENV}={raw!r} is set, and CI=true: a CI run judges by the real clock; "
            f"unset {ENV} (it is for local rehearsals only)"
        )
    return raw or None


def note() -> str:
    """`` (clock set by PROMOTE_NOW=...)`` when the clock is not the real one, else ``""``."""
    raw = setting()
    return f" (clock set by {ENV}={raw})" if raw else ""
