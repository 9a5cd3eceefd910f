"""Reusing stored results between local runs (never in CI).

A gate that can say what its result depends on (``Gate.fingerprint``) has its result
stored in pytest's cache under its id and stage; the next run whose fingerprint is
the same reuses it instead of running the tool again, and says so.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

import pytest

from pytest_promote._util.digest import digest
from pytest_promote._util.paths import walk
from pytest_promote.api import Finding, GateResult
from pytest_promote.runner.options import options

#: Bumped when the stored form changes, so old entries are simply not found.
FORMAT = 1
#: Directory names no tool gate reads (ruff and pyright skip them by default).
#: Configuration files that change what ruff or pyright report.
CONFIG_FILES = ("pyproject.toml", "ruff.toml", ".ruff.toml", "pyrightconfig.json")


#: Environment variables no tool's result depends on: the state of the shell, the
#: terminal and the login session, and pytest's own. Every other variable of a tool's
#: environment is part of its fingerprint: a tool may read any (``PYTHONPATH``,
#: ``RUFF_*``, ``NODE_OPTIONS``, ``VIRTUAL_ENV``, ...), and a stale pass must never
#: stand in for a run under another value.
SHELL_STATE = (
    "PWD", "OLDPWD", "SHLVL", "_", "TERM", "TERM_*", "COLORTERM", "COLUMNS", "LINES",
    "PS1", "PS2", "PROMPT_COMMAND", "SSH_*", "DISPLAY", "WINDOWID", "TMUX", "TMUX_*",
    "STY", "HISTFILE", "HISTSIZE", "LS_COLORS", "PYTEST_*", "XDG_SESSION_*",
    "XDG_RUNTIME_DIR", "DBUS_SESSION_BUS_ADDRESS", "GPG_TTY", "MAIL", "PAGER", "LESS*",
    # What git and pre-commit set for the hooks they run (the index, the author and the
    # date of the commit being made, git's own programs, the hook's stage): so a hook
    # reuses what a run from the shell stored, and one commit's hook the last one's.
    "GIT_*", "PRE_COMMIT", "PRE_COMMIT_*",
)


def environment_digest(env: Mapping[str, str]) -> str:
    """A hash of every variable of ``env`` a tool may read (all but :data:`SHELL_STATE`);
    a hash, so that no value (a token, say) is kept in the cache. ``PATH`` counts
    without the directory of git's own programs that git puts first for its hooks
    (a gate may put its own before it)."""
    kept = sorted((k, v) for k, v in env.items() if not any(fnmatchcase(k, p) for p in SHELL_STATE))
    git_programs = env.get("GIT_EXEC_PATH")
    if git_programs:
        kept = [(k, _without(v, git_programs) if k == "PATH" else v) for k, v in kept]
    return digest(kept)


def _without(search_path: str, directory: str) -> str:
    """``search_path`` without the first occurrence of ``directory``, wherever it stands."""
    entries = search_path.split(os.pathsep)
    if directory in entries:
        entries.remove(directory)
    return os.pathsep.join(entries)


def reuse_allowed(config: pytest.Config) -> bool:
    """Whether a stored result may stand in for a fresh one.

    Not with ``--promote-no-cache``, not in CI (``CI=true``), not without pytest's
    cache plugin (``-p no:cacheprovider``).
    """
    if options(config).no_cache:
        return False
    from pytest_promote._util.git import in_ci

    if in_ci():
        return False
    return getattr(config, "cache", None) is not None


def _key(stage: str, gate_id: str) -> str:
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", f"{stage}/{gate_id}".replace("/", "__"))
    return f"promote/results/{safe}"


def load(config: pytest.Config, stage: str, gate_id: str, fingerprint: str) -> GateResult | None:
    """The stored result of ``gate_id`` at ``stage`` if its fingerprint matches."""
    cache = getattr(config, "cache", None)
    if cache is None:
        return None
    entry = cache.get(_key(stage, gate_id), None)
    if not isinstance(entry, dict) or entry.get("format") != FORMAT:
        return None
    if entry.get("fingerprint") != fingerprint:
        return None
    try:
        data = dict(entry["result"])
        findings = tuple(Finding(**f) for f in data.pop("findings"))
        result = GateResult(**data, findings=findings)
    except (KeyError, TypeError, ValueError):
        return None  # a damaged or foreign entry is a miss, never an error
    summary = result.summary.removeprefix(f"{gate_id}: ")
    return dataclasses.replace(
        result, cached=True, summary=f"{gate_id}: cached, inputs unchanged; {summary}"
    )


def store(
    config: pytest.Config, stage: str, gate_id: str, fingerprint: str, result: GateResult
) -> None:
    """Keep ``result`` for the next run; errors are not kept (they may be transient)."""
    cache = getattr(config, "cache", None)
    if cache is None or result.status == "error" or result.cached:
        return
    data: dict[str, Any] = dataclasses.asdict(result)
    data["findings"] = [dataclasses.asdict(f) for f in result.findings]
    cache.set(
        _key(stage, gate_id), {"format": FORMAT, "fingerprint": fingerprint, "result": data}
    )


def source_files(
    root: Path, paths: Sequence[str] | None, suffixes: Iterable[str], hidden: bool = False
) -> list[Path]:
    """The files a source tool may read under ``paths`` (default: ``root``).

    Files with one of ``suffixes``, plus the configuration files found on the way;
    VCS, caches and virtualenvs are skipped, hidden directories too unless ``hidden``.
    """
    wanted = tuple(suffixes)
    found: set[Path] = {root / name for name in CONFIG_FILES if (root / name).is_file()}
    for entry in paths or ["."]:
        start = root / entry
        if start.is_file():
            found.add(start)
            continue
        found.update(f for f in walk(start, hidden) if f.name.endswith(wanted) or f.name in CONFIG_FILES)
    return sorted(found)



def config_chain(path: Path, key: Sequence[str]) -> list[Path] | None:
    """``path`` and every file its ``key`` (``extend``, ``extends``) reaches, in turn;
    None when one of them cannot be read, so the inheritance cannot be followed."""
    chain: list[Path] = []
    while path not in chain:
        chain.append(path)
        try:
            text = path.read_text(encoding="utf-8")
            data: Any = json.loads(text) if path.suffix == ".json" else tomllib.loads(text)
        except (OSError, ValueError):
            return None
        for part in key:
            data = data.get(part) if isinstance(data, dict) else None
        if data is None:
            break
        if not isinstance(data, str):
            return None
        path = (path.parent / os.path.expanduser(data)).resolve()
    return chain


def files_digest(root: Path, files: Iterable[Path]) -> str:
    """A hash of the files' paths (relative to ``root``) and contents."""
    h = hashlib.sha256()
    for path in files:
        h.update(os.fsencode(os.path.relpath(path, root)) + b"\0")
        try:
            h.update(hashlib.sha256(path.read_bytes()).digest())
        except OSError:
            h.update(b"unreadable")
    return h.hexdigest()
