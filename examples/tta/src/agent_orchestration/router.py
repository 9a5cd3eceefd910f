"""Which agent answers which request."""

from __future__ import annotations

AGENTS = {"narrate": "narrator", "remember": "archivist", "check": "guardian"}


def route(request: str) -> str:
    """The agent for ``request`` (its first word); the narrator for anything else."""
    verb = request.split(maxsplit=1)[0].lower() if request.strip() else ""
    return AGENTS.get(verb, "narrator")


def plan(requests: list[str]) -> dict[str, list[str]]:
    """The requests each agent receives, in order."""
    work: dict[str, list[str]] = {}
    for request in requests:
        work.setdefault(route(request), []).append(request)
    return work
