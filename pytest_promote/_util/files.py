"""Files the run writes: whole or not at all, with the modes the process umask gives
(as git and pytest write theirs; ``tempfile``'s are private to the user)."""

from __future__ import annotations

import os
import secrets
from pathlib import Path


def _new_name(directory: Path, prefix: str, suffix: str) -> Path:
    return directory / f"{prefix}{secrets.token_hex(8)}{suffix}"


def new_file(directory: Path, prefix: str, suffix: str = ".tmp") -> tuple[int, Path]:
    """Create a file no one else has in ``directory`` and open it for writing: its
    descriptor and path. Its mode is 0666 less the umask, as ``open()`` gives."""
    while True:
        path = _new_name(directory, prefix, suffix)
        try:
            return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666), path
        except FileExistsError:
            continue


def new_directory(directory: Path, prefix: str) -> Path:
    """Create a directory no one else has in ``directory``; its mode is 0777 less the
    umask, as ``mkdir`` gives."""
    while True:
        path = _new_name(directory, prefix, "")
        try:
            path.mkdir(mode=0o777)
        except FileExistsError:
            continue
        return path


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` whole or not at all (temp file + rename); a failure
    (full disk, read-only directory) raises OSError and leaves ``path`` as it was.

    A lone surrogate (a byte that was not UTF-8 where the text came from) is written
    as its ``\\udcXX`` escape, never an error: what is written stays valid UTF-8.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = new_file(path.parent, f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", errors="backslashreplace") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
