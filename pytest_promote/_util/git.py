"""The few facts pytest-promote asks of git: commits, branches, changes and notes."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import random
import re
import socket
import subprocess
import time
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path


def run(
    root: Path, *args: str, timeout: float = 30, input: str | None = None,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """``git args`` in ``root``, its output captured as text; every git command
    pytest-promote runs goes through here. Raises OSError or TimeoutExpired.

    Text is UTF-8 both ways, and a byte that is not UTF-8 (in a note, a path, a
    name) stays itself as a lone surrogate (``surrogateescape``): what is read can
    be written back unchanged, and :func:`undecodable` finds it.
    """
    return subprocess.run(
        ["git", *args], cwd=root, capture_output=True, encoding="utf-8", errors="surrogateescape",
        check=False, timeout=timeout, input=input, env=env,
    )


def undecodable(text: str) -> str | None:
    """Where ``text`` (as git's output is decoded) holds a byte that is not UTF-8, or None."""
    for column, char in enumerate(text, 1):
        if "\udc80" <= char <= "\udcff":
            return f"byte 0x{ord(char) - 0xDC00:02x} at column {column} is not UTF-8"
    return None


def printable(text: str) -> str:
    """``text`` with each byte that is not UTF-8 shown as ``\\xNN``, safe to print or write."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def git(root: Path, *args: str, input: str | None = None) -> str | None:
    """``git args`` in ``root`` (``input`` on its stdin); stripped output, or None on failure."""
    try:
        done = run(root, *args, input=input)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def head(root: Path) -> str | None:
    """The commit sha of HEAD, or None outside a repository (or before a commit)."""
    return git(root, "rev-parse", "--verify", "-q", "HEAD")


def branch(root: Path) -> str | None:
    """The current branch name, or None when HEAD is detached."""
    return git(root, "symbolic-ref", "--short", "-q", "HEAD")


def note(root: Path, ref: str, commit: str) -> str | None:
    """The git note under ``ref`` (e.g. ``refs/notes/promote``) on ``commit``, if any."""
    return git(root, "notes", f"--ref={ref}", "show", commit)


def add_note(root: Path, ref: str, commit: str, text: str) -> None:
    """Append ``text`` as a line to the note under ``ref`` on ``commit``.

    Appending keeps every record: a commit promoted twice carries both outcomes.
    Safe against concurrent writers: the new notes commit is made on a private ref
    from the notes ref's current value, then moved onto ``ref`` only if ``ref`` still
    has that value (compare-and-swap); when another writer came first, the append is
    redone on top of theirs, with a growing random pause, until ``CAS_DEADLINE``.
    (Read and rewritten rather than ``git notes append --no-separator``, which needs
    git 2.42; ``append`` without it puts a blank line between records.)
    """
    drop_stale_refs(root)
    deadline = time.monotonic() + CAS_DEADLINE
    pause = 0.01
    while True:
        problem = _append_once(root, ref, commit, text)
        if problem is None:
            return
        if time.monotonic() + pause > deadline:
            raise RuntimeError(f"git notes append to {ref} failed: {problem}")
        time.sleep(pause * (1 + random.random()))
        pause = min(pause * 2, 0.5)


#: How long an append (or a ledger sync) keeps retrying against concurrent writers.
CAS_DEADLINE = 60.0


def _append_once(root: Path, ref: str, commit: str, text: str) -> str | None:
    """One compare-and-swap attempt; None when it landed, else why not (the notes
    ref moved meanwhile). A failure that a retry cannot mend raises RuntimeError."""
    old = git(root, "rev-parse", "--verify", "-q", ref)
    with private_ref(root, old) as private:
        before = note(root, private, commit) if old else None
        lines = f"{before}\n{text}\n" if before else f"{text}\n"
        done = notes_command(root, private, "add", "-f", "-F", "-", commit, input=lines)
        if done.returncode != 0:
            raise RuntimeError(f"git notes append failed: {_said(done)}")
        return compare_and_swap(root, ref, private, old)


#: Where the private refs of notes writers live (see :func:`private_ref`).
PRIVATE_REFS = "refs/notes/promote-tmp/"
#: This host's name as a ref name may hold it.
_HOST = re.sub(r"[^A-Za-z0-9.]+", ".", socket.gethostname()).strip(".") or "host"
#: A private ref older than this is stale whoever made it: no writer holds one as long
#: (its git commands time out well before).
STALE_AFTER = 3600.0


def drop_stale_refs(root: Path) -> list[str]:
    """Delete the private refs whose writer is gone (killed before it could delete
    its own): made on this host by a process that no longer runs, or older than
    ``STALE_AFTER``. Those of live writers are left alone. The refs deleted."""
    listing = git(root, "for-each-ref", "--format=%(refname)", PRIVATE_REFS)
    dropped = []
    for ref in (listing or "").splitlines():
        host, pid, start = _private_name(ref.removeprefix(PRIVATE_REFS))
        gone = host == _HOST and pid is not None and not _alive(pid)
        old = start is not None and time.time() - start > STALE_AFTER
        if (gone or old) and git(root, "update-ref", "-d", ref) is not None:
            dropped.append(ref)
    return dropped


def _private_name(name: str) -> tuple[str | None, int | None, float | None]:
    """``host-pid-start-uuid`` -> (host, pid, start); None for what is not there."""
    parts = name.rsplit("-", 3)
    if len(parts) != 4 or not (parts[1].isdigit() and parts[2].isdigit()):
        return None, None, None
    return parts[0], int(parts[1]), float(parts[2])


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # another user's process: alive
    return True


def _said(done: subprocess.CompletedProcess[str]) -> str:
    """What a failed git command said (its last lines), or its exit status."""
    return printable(done.stderr.strip() or done.stdout.strip()) or f"git exited {done.returncode}"


@contextlib.contextmanager
def private_ref(root: Path, start: str | None) -> Iterator[str]:
    """A notes ref of this process alone, at ``start`` (None: absent); deleted after."""
    # Under refs/notes/, where `git notes --ref` looks; never pushed by the ledger.
    # Named by host, process and start, so that a later writer can tell when the one
    # that made it is gone (killed before it could delete it): see drop_stale_refs.
    private = f"{PRIVATE_REFS}{_HOST}-{os.getpid()}-{int(time.time())}-{uuid.uuid4().hex}"
    if start:
        done = run(root, "update-ref", private, start)
        if done.returncode != 0:
            raise RuntimeError(f"cannot make the private ref {private}: {_said(done)}")
    try:
        yield private
    finally:
        git(root, "update-ref", "-d", private)


def compare_and_swap(root: Path, ref: str, source: str, old: str | None) -> str | None:
    """Point ``ref`` at what ``source`` names if ``ref`` still is ``old`` (None: absent).

    None when it moved; else why not (another writer moved ``ref`` first). When git
    refuses although ``ref`` did not move (a full disk, a read-only repository, a
    broken ref), no retry can mend it: RuntimeError with git's reason.
    """
    new = git(root, "rev-parse", "--verify", "-q", source)
    if new is None:
        raise RuntimeError(f"{source} names no commit")
    done = run(root, "update-ref", "-m", "pytest-promote", ref, new, old or "")  # "": must not exist
    if done.returncode == 0:
        return None
    if git(root, "rev-parse", "--verify", "-q", ref) == old:
        raise RuntimeError(f"git update-ref {ref} failed: {_said(done)}")
    return _said(done)


def notes_command(root: Path, ref: str, *args: str, input: str | None = None) -> subprocess.CompletedProcess[str]:
    """``git notes --ref=REF ARGS`` with an identity to commit the notes as."""
    return run(root, "notes", f"--ref={ref}", *args, input=input, env=_note_env(root))


def _note_env(root: Path) -> dict[str, str]:
    # A note is a commit on the notes ref; CI runners often have no git identity.
    env = dict(os.environ)
    if not git(root, "config", "user.email"):
        env.setdefault("GIT_COMMITTER_NAME", "pytest-promote")
        env.setdefault("GIT_COMMITTER_EMAIL", "pytest-promote@localhost")
        env.setdefault("GIT_AUTHOR_NAME", env["GIT_COMMITTER_NAME"])
        env.setdefault("GIT_AUTHOR_EMAIL", env["GIT_COMMITTER_EMAIL"])
    return env


def noted_commits(root: Path, ref: str) -> list[str]:
    """Every commit that carries a note under ``ref``."""
    out = git(root, "notes", f"--ref={ref}", "list")
    return [line.split()[1] for line in (out or "").splitlines() if len(line.split()) == 2]


def resolve(root: Path, ref: str) -> str | None:
    """The commit sha ``ref`` names, or None when it names no commit."""
    return git(root, "rev-parse", "--verify", "-q", "--end-of-options", f"{ref}^{{commit}}")


def merge_base(root: Path, ref: str, commit: str = "HEAD") -> str | None:
    """The best common ancestor of ``ref`` and ``commit``, or None."""
    return git(root, "merge-base", "--end-of-options", ref, commit)


def changed_files(root: Path, base: str, commit: str = "HEAD") -> list[str] | None:
    """Paths (relative to ``root``, POSIX) that differ between ``base`` and ``commit``.

    Renames count as a deletion plus an addition, so both paths are judged; paths
    outside ``root`` are left out. None when git fails.
    """
    out = git(root, "diff", "--name-only", "--no-renames", "--relative", "-z", base, commit)
    if out is None:
        return None
    return sorted({p for p in out.split("\0") if p})


@dataclasses.dataclass(frozen=True)
class Commit:
    """A commit's identity as approvals need it."""

    sha: str
    tree: str
    author_name: str
    author_email: str


def commits(root: Path, shas: Iterable[str]) -> list[Commit]:
    """The commits ``shas`` name (those git knows), read in one call."""
    wanted = "\n".join(shas)
    if not wanted:
        return []
    out = git(root, "log", "--no-walk=unsorted", "--stdin", "--format=%H%x00%T%x00%an%x00%ae",
              input=wanted + "\n")
    found = []
    for line in (out or "").splitlines():
        parts = line.split("\0")
        if len(parts) == 4:
            found.append(Commit(*parts))
    return found


def tree(root: Path, rev: str = "HEAD") -> str | None:
    """The tree sha of ``rev``: two commits with the same tree hold the same files."""
    return git(root, "rev-parse", "--verify", "-q", f"{rev}^{{tree}}")

def blobs(root: Path, rev: str = "HEAD") -> dict[str, str] | None:
    """Every file of ``rev`` under ``root`` (path relative to ``root``, POSIX) -> its
    blob id: two commits whose files have the same ids hold the same content there.
    None when git cannot tell."""
    out = git(root, "ls-tree", "-r", "-z", "--end-of-options", rev, "--", ".")
    if out is None:
        return None
    found = {}
    for entry in out.split("\0"):
        meta, _, path = entry.partition("\t")
        parts = meta.split()
        if path and len(parts) == 3:
            found[path] = parts[2]
    return found


#: What pytest itself writes before a plugin can look (conftests' bytecode): never
#: source, so never what makes a tree differ from its commit.
WRITTEN_BY_PYTEST = "__pycache__"


def changes(root: Path) -> list[str] | None:
    """What under ``root`` differs from HEAD: tracked files changed (staged or not),
    untracked files git does not ignore, and submodules whose checkout differs from
    HEAD's or holds changes of its own (whatever their ``ignore`` setting says), as
    paths relative to ``root``; None when git cannot tell (not a repository, no commit)."""
    tracked = git(root, "diff", "HEAD", "--name-only", "--relative", "--ignore-submodules=none",
                  "-z", "--", ".")
    untracked = git(root, "ls-files", "--others", "--exclude-standard", "-z", "--", ".")
    if tracked is None or untracked is None:
        return None
    found = {p for p in (tracked + "\0" + untracked).split("\0") if p}
    return sorted(p for p in found if WRITTEN_BY_PYTEST not in p.split("/"))


def tracked(root: Path) -> set[str] | None:
    """The files under ``root`` that git tracks (in the index, submodules' files
    included), relative to ``root``; None when git cannot tell."""
    out = git(root, "ls-files", "-z", "--recurse-submodules", "--", ".")
    return None if out is None else {p for p in out.split("\0") if p}


def tags_at(root: Path, rev: str = "HEAD") -> list[str]:
    """The tags pointing at ``rev``."""
    out = git(root, "tag", "--points-at", rev)
    return [line for line in (out or "").splitlines() if line]


def all_notes(root: Path, ref: str) -> dict[str, str]:
    """Every note under ``ref`` by commit sha, read with one ``git cat-file --batch``."""
    listing = git(root, "notes", f"--ref={ref}", "list")
    pairs = [line.split() for line in (listing or "").splitlines() if len(line.split()) == 2]
    if not pairs:
        return {}
    try:
        done = subprocess.run(
            ["git", "cat-file", "--batch"], cwd=root, capture_output=True, check=False,
            timeout=60, input="".join(f"{blob}\n" for blob, _ in pairs).encode(),
        )
    except (OSError, subprocess.TimeoutExpired):
        return {}
    out, pos, notes = done.stdout, 0, {}
    for _, commit in pairs:
        header_end = out.find(b"\n", pos)
        header = out[pos:header_end].split()  # "<sha> blob <size>", or "<sha> missing"
        if header_end >= 0 and header[1:] == [b"missing"]:
            pos = header_end + 1
            continue
        if header_end < 0 or len(header) != 3 or not header[2].isdigit():
            break  # git stopped short: the notes read so far are all there is
        size = int(header[2])
        notes[commit] = out[header_end + 1 : header_end + 1 + size].decode("utf-8", "surrogateescape")
        pos = header_end + 1 + size + 1
    return notes


#: Where CI systems name the user a run is for.
CI_ACTOR_VARIABLES = ("GITHUB_ACTOR", "GITLAB_USER_LOGIN")


def in_ci() -> bool:
    """Whether a CI system runs this (``CI=true``, as GitHub, GitLab and others set)."""
    return os.environ.get("CI", "").lower() in ("true", "1", "yes")


def ci_actor() -> str | None:
    """The user the CI system runs for (GitHub, GitLab), if any."""
    return next((os.environ[v] for v in CI_ACTOR_VARIABLES if os.environ.get(v)), None)


def actor(root: Path) -> str | None:
    """Who is running: the CI's user (GitHub, GitLab), else git's ``user.name <user.email>``."""
    from_ci = ci_actor()
    if from_ci:
        return from_ci
    name, email = git(root, "config", "user.name"), git(root, "config", "user.email")
    if name and email:
        return f"{name} <{email}>"
    return name or email or None
