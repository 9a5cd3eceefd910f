"""Freeze windows: the ``[[tool.promote.freeze]]`` entries of the policy.

Entries are weekly (``days`` and ``from``/``to`` times in
a ``timezone``) or dated (``start``/``end``: dates, inclusive, or date-times). The
clock is :func:`pytest_promote._util.clock.now` (``PROMOTE_NOW`` sets it); the ``freeze``
gate (:mod:`pytest_promote.gates.freeze`) fails while one of a stage's windows is open.
"""

from __future__ import annotations

import dataclasses
import datetime
import re
import zoneinfo
from collections.abc import Sequence
from typing import Any

from pytest_promote.policy.schema import coerce, did_you_mean, policy_error

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
KEYS = {"name", "reason", "stages", "days", "from", "to", "timezone", "start", "end"}
_TIME = re.compile(r"^([01]?\d|2[0-4]):([0-5]\d)$")
_MOMENT = "expected a date or date-time, e.g. 2025-12-20"


@dataclasses.dataclass(frozen=True)
class FreezeWindow:
    """One freeze window: weekly (``days``, minutes ``begin``-``end``) or dated."""

    name: str
    reason: str
    stages: tuple[str, ...]
    zone: datetime.tzinfo
    days: tuple[int, ...] = ()  # weekdays, Monday = 0
    begin: int = 0  # minutes after midnight
    end: int = 0  # minutes after midnight; <= begin: the window runs past midnight
    start_at: datetime.datetime | None = None
    end_at: datetime.datetime | None = None  # exclusive

    def open_until(self, now: datetime.datetime) -> datetime.datetime | None:
        """When the window closes, if it is open at ``now``; None when it is not."""
        if self.start_at is not None and self.end_at is not None:
            return self.end_at if self.start_at <= now < self.end_at else None
        local = now.astimezone(self.zone)
        for back in (0, 1):  # a window that began yesterday may still run past midnight
            day = local.date() - datetime.timedelta(days=back)
            if day.weekday() not in self.days:
                continue
            midnight = datetime.datetime.combine(day, datetime.time(), tzinfo=self.zone)
            opens = midnight + datetime.timedelta(minutes=self.begin)
            length = (self.end - self.begin) % 1440 or 1440
            closes = opens + datetime.timedelta(minutes=length)
            if opens <= local < closes:
                return closes
        return None


def frozen(windows: Sequence[FreezeWindow], stage: str, now: datetime.datetime) -> str | None:
    """``frozen by 'holidays' until 2026-01-05 00:00 UTC: year-end freeze`` when a
    window of ``stage`` is open at ``now`` (the one closing last); None when none is."""
    open_ = [(w, until) for w in windows if stage in w.stages and (until := w.open_until(now))]
    if not open_:
        return None
    window, until = max(open_, key=lambda pair: pair[1])
    why = f": {window.reason}" if window.reason and window.reason != window.name else ""
    return f"frozen by {window.name!r} until {until.strftime('%Y-%m-%d %H:%M %Z')}{why}"


def parse_windows(raw: object, source: str, stage_names: Sequence[str]) -> tuple[FreezeWindow, ...]:
    """The ``[[tool.promote.freeze]]`` entries; a usage error names any bad key."""
    if not isinstance(raw, list):
        raise policy_error(source, "freeze", raw, "expected [[tool.promote.freeze]] tables")
    return tuple(_window(t, f"freeze[{i}]", source, stage_names) for i, t in enumerate(raw))


def _window(table: Any, key: str, source: str, stage_names: Sequence[str]) -> FreezeWindow:
    if not isinstance(table, dict):
        raise policy_error(source, key, table, "expected a table")
    for name, value in table.items():
        if name not in KEYS:
            problem = f"unknown key; {did_you_mean(name, KEYS)}"
            raise policy_error(source, f"{key}.{name}", value, problem)
    reason = coerce(str, table.get("reason", ""), source, f"{key}.reason")
    name = coerce(str, table.get("name", reason or key), source, f"{key}.name")
    stages = table.get("stages", list(stage_names))
    stages = coerce(tuple[str, ...], stages, source, f"{key}.stages")
    for stage in stages:
        if stage not in stage_names:
            problem = f"{stage!r} is not a stage; {did_you_mean(stage, stage_names)}"
            raise policy_error(source, f"{key}.stages", list(stages), problem)
    zone_name = coerce(str, table.get("timezone", "UTC"), source, f"{key}.timezone")
    try:
        zone = zoneinfo.ZoneInfo(zone_name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        problem = "not an IANA time zone, e.g. 'Europe/Berlin'"
        raise policy_error(source, f"{key}.timezone", zone_name, problem) from None
    weekly = {"days", "from", "to"} & set(table)
    dated = {"start", "end"} & set(table)
    if bool(weekly) == bool(dated):
        problem = "give either weekly `days`/`from`/`to` or dated `start`/`end`"
        raise policy_error(source, key, table, problem)
    base = FreezeWindow(name, reason, stages, zone)
    if dated:
        if dated != {"start", "end"}:
            raise policy_error(source, key, table, "a dated window needs both `start` and `end`")
        start = _moment(table["start"], zone, source, f"{key}.start", end=False)
        end = _moment(table["end"], zone, source, f"{key}.end", end=True)
        if end <= start:
            raise policy_error(source, f"{key}.end", table["end"], "ends before it starts")
        return dataclasses.replace(base, start_at=start, end_at=end)
    days = coerce(tuple[str, ...], table.get("days", list(DAYS)), source, f"{key}.days")
    numbers = []
    for day in days:
        short = day.lower()[:3]
        if short not in DAYS:
            problem = f"{day!r}: {did_you_mean(day, DAYS)}"
            raise policy_error(source, f"{key}.days", list(days), problem)
        numbers.append(DAYS.index(short))
    begin = _minutes(table.get("from", "00:00"), source, f"{key}.from")
    end = _minutes(table.get("to", "24:00"), source, f"{key}.to")
    return dataclasses.replace(base, days=tuple(numbers), begin=begin, end=end)


def _minutes(value: Any, source: str, where: str) -> int:
    text = str(value)[:5] if isinstance(value, datetime.time) else value
    match = _TIME.match(text) if isinstance(text, str) else None
    if not match or int(match[1]) * 60 + int(match[2]) > 1440:
        raise policy_error(source, where, value, "expected a time \"HH:MM\" (00:00 to 24:00)")
    return int(match[1]) * 60 + int(match[2])


def _moment(
    value: Any, zone: datetime.tzinfo, source: str, where: str, end: bool
) -> datetime.datetime:
    if isinstance(value, str):
        try:
            value = (
                datetime.datetime.fromisoformat(value) if "T" in value or " " in value
                else datetime.date.fromisoformat(value)
            )
        except ValueError:
            raise policy_error(source, where, value, _MOMENT) from None
    if isinstance(value, datetime.datetime):
        return value if value.tzinfo else value.replace(tzinfo=zone)
    if isinstance(value, datetime.date):
        day = value + datetime.timedelta(days=1) if end else value  # an end date is inclusive
        return datetime.datetime.combine(day, datetime.time(), tzinfo=zone)
    raise policy_error(source, where, value, _MOMENT)
