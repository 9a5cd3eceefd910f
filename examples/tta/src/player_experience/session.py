"""A player's session: its mood and what it shows."""

from __future__ import annotations


def greeting(name: str) -> str:
    """The first line a player reads."""
    return f"Welcome back, {name}."


def mood(scores: list[int]) -> str:
    """How the last scores felt."""
    if not scores:
        return "quiet"
    average = sum(scores) / len(scores)
    if average >= 8:
        return "bright"
    if average >= 5:
        return "steady"
    if average >= 2:
        return "heavy"
    return "dark"


def pace(turns: int, minutes: float) -> str:
    """Whether the session moves too fast for the player."""
    if minutes <= 0:
        raise ValueError("a session lasts some time")
    per_minute = turns / minutes
    if per_minute > 4:
        return "slow down"
    if per_minute < 0.5:
        return "nudge"
    return "keep going"
