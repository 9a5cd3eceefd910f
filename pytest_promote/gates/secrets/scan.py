"""The secrets scan at scale: detect-secrets over many files, in parallel, cached.

Files are shared out to worker processes (one per core, fewer for a small project;
the largest files first, each to the least-loaded worker), each running ``worker.py`` in the project
root; a file much larger than the rest is cut into line ranges that different
workers scan, merged back as detect-secrets' ``scan_file`` would have found them
(``plan_pieces``, ``merge_pieces``). Results are merged in path order. A file's result is kept in pytest's cache
under its content hash and a key of everything else that decides it (the
baseline's settings and any file they name; the code of detect-secrets and of the
optional packages that switch its filters on, as the workers' Python finds them;
the twins' and the worker's code; Python and the locale's encoding); a later local run reuses it
without reading the file when its size, mtime and inode are unchanged, and after
re-hashing it when only the mtime moved. Nothing here imports detect-secrets: a
warm run that scans nothing never starts a worker (only a probe of where the
packages are, see ``code_key``).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import locale
import os
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any, Protocol

from pytest_promote._util.jsonpath import mismatch
from pytest_promote._util.process import (
    BACKGROUND_NICE,
    BackgroundTool,
    Cancelled,
    TimedOut,
    ToolError,
    tail,
)
from pytest_promote._util.workers import cores, share_out, worker_argv
from pytest_promote.gates.cache import files_digest
from pytest_promote.gates.secrets import filters

CACHE_KEY = "promote/secrets"
CACHE_FORMAT = 1
WORKER = Path(__file__).with_name("worker.py")
# Loaded by path in the workers only: it imports detect-secrets.
PLUGINS = Path(__file__).with_name("plugins.py").resolve()
#: Packages that change what detect-secrets finds by being importable, with no
#: setting: its gibberish filter turns on when gibberish-detector imports, a word
#: list needs pyahocorasick.
OPTIONAL_PACKAGES = ("gibberish_detector", "ahocorasick")
# Where a Python finds packages, without importing them (a top-level find_spec).
PROBE = (
    "import importlib.util as u, json, sys\n"
    "specs = [u.find_spec(n) for n in sys.argv[1:]]\n"
    "print(json.dumps([s and [s.origin, list(s.submodule_search_locations or ())] "
    "for s in specs]))"
)
# A file modified this soon before it was read may change again within the same
# mtime tick; such an entry is re-hashed, never trusted on its stat alone (as git does).
RACY_NS = 2_000_000_000
# A file is cut into line ranges ("pieces") scanned by different workers when it
# is larger than this and than an eighth of a worker's fair share: one wide table
# would otherwise keep one core busy long after the other has finished the rest.
PIECE_BYTES = 256 * 1024
MAX_PIECES = 64
# A worker's start (importing detect-secrets) costs about as much CPU as scanning this
# many bytes: with one worker per share of this size (up to the cores), a small
# project's scan starts one worker instead of paying that start twice for nothing.
WORKER_BYTES = 64 * 1024


Task = tuple[str, int, int]  # path, piece index, piece count


#: What the scan reads of a worker's output (each file: its hits, or each pass's).
WORKER_SHAPE = {"files": [{"path": str, "status": str, "reason": str}]}


class ScanError(RuntimeError):
    """The scan could not be done; the gate fails closed with this message."""


class Store(Protocol):
    """What the scan needs of pytest's cache (``config.cache``)."""

    def get(self, key: str, default: Any) -> Any:
        """The stored value, or ``default``."""
        ...

    def set(self, key: str, value: Any) -> None:
        """Store a JSON-able value."""
        ...


@dataclasses.dataclass(frozen=True)
class Hit:
    """A potential secret as a baseline records it: never its value."""

    path: str
    line: int
    type: str
    hashed_secret: str
    is_verified: bool = False


@dataclasses.dataclass(frozen=True)
class FileScan:
    """One file's outcome: ``scanned``, ``excluded`` (by a filter), ``decoded`` (not
    UTF-8: scanned in its own encoding), ``not-text`` (binary)."""

    path: str
    status: str
    reason: str
    hits: tuple[Hit, ...]


@dataclasses.dataclass(frozen=True)
class ScanReport:
    """Every file handed over, in path order, and how many were scanned afresh."""

    files: tuple[FileScan, ...]
    scanned: int
    reused: int
    workers: int
    #: detect-secrets filters and plugins that ran as themselves, not as this
    #: package's twins: the installed original is not the one the twin was proven on.
    originals: tuple[str, ...] = ()

    @property
    def hits(self) -> tuple[Hit, ...]:
        """All potential secrets, in path then line order."""
        return tuple(hit for f in self.files for hit in f.hits)


def settings_key(
    root: Path, baseline: str | None, verify: bool = True, env: Mapping[str, str] | None = None
) -> str:
    """Everything besides a file's content that decides its scan result, with the
    workers' environment ``env`` (None: this process's)."""
    parts: dict[str, Any] = {
        "verify": verify,
        "format": CACHE_FORMAT,
        "detect-secrets": metadata.version("detect-secrets"),
        "code": code_key(root, env),
        "python": sys.version_info[:2],
        "encoding": locale.getpreferredencoding(False),
        "baseline": None,
    }
    if baseline is not None:
        data = read_baseline(root / baseline)
        settings = {k: v for k, v in data.items() if k not in ("results", "generated_at")}
        named = {
            v: _digest_or_none(root / v.removeprefix("file://")) for v in _named_files(settings)
        }
        parts["baseline"] = [os.path.basename(baseline), settings, named]
    text = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def code_key(root: Path, env: Mapping[str, str] | None) -> list[Any]:
    """The code that decides what the workers find: detect-secrets and each optional
    package where the workers' Python finds them (in ``root`` with ``env``: an
    editable install, a copy on ``PYTHONPATH``), digests of their files, and this
    package's worker and twins. Every plugin and filter that can be in effect is
    in there, whichever of them the settings turn on."""
    names = ("detect_secrets", *OPTIONAL_PACKAGES)
    probe = BackgroundTool("a detect-secrets probe", [sys.executable, "-P", "-c", PROBE, *names], root,
                           120, env=env)
    try:
        code, out, err = probe.wait()
        found = json.loads(out)
    except (ToolError, ValueError) as exc:
        raise ScanError(f"cannot tell where detect-secrets is installed: {exc}") from None
    if code != 0 or not isinstance(found, list) or len(found) != len(names):
        raise ScanError(f"cannot tell where detect-secrets is installed: {tail(err) or '(no output)'}")
    ours = [WORKER, PLUGINS, Path(filters.__file__).resolve()]
    return [
        *([name, spec and _package_digest(*spec)] for name, spec in zip(names, found, strict=True)),
        files_digest(WORKER.parent, ours),
    ]


def _package_digest(origin: str | None, locations: list[str]) -> list[str | None]:
    """Where a package is, and a digest of its files (a module: its one file)."""
    files: list[Path] = [Path(origin)] if origin and not locations else []
    for location in locations:
        files += sorted(
            p for p in Path(location).rglob("*") if p.is_file() and "__pycache__" not in p.parts
        )
    return [origin, files_digest(Path(locations[0] if locations else "/"), files)]


def read_baseline(path: Path) -> dict[str, Any]:
    """The baseline's JSON; a ScanError saying what is wrong with it."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ScanError(f"cannot read the baseline {path.name}: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise ScanError(f"the baseline {path.name} is not valid JSON: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("results"), dict):
        raise ScanError(
            f"the baseline {path.name} has no `results` table; "
            "make one with `detect-secrets scan > .secrets.baseline`"
        )
    return data


def _named_files(value: Any, key: str = "") -> set[str]:
    # Custom plugins and filters (``file://``), a wordlist, a gibberish model: their
    # contents decide findings too.
    if isinstance(value, str):
        return {value} if value.startswith("file://") or key in ("file_name", "model") else set()
    if isinstance(value, Mapping):
        return {n for k, v in value.items() for n in _named_files(v, str(k))}
    if isinstance(value, list):
        return {n for v in value for n in _named_files(v)}
    return set()


def _digest_or_none(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else None
    except OSError:
        return None


def scan(
    root: Path,
    files: Sequence[str],
    *,
    baseline: str | None,
    verify: bool = True,
    store: Store | None = None,
    reuse: bool = False,
    workers: int = 0,
    timeout: float = 600.0,
    cancel: threading.Event | None = None,
    piece_bytes: int = PIECE_BYTES,
    env: Mapping[str, str] | None = None,
) -> ScanReport:
    """Scan ``files`` (POSIX paths relative to ``root``) with detect-secrets.

    ``verify``: ask the services of the tokens found whether they are live, as
    ``detect-secrets scan`` does unless given ``--no-verify``. ``store``: where
    results are kept; ``reuse``: whether kept results may stand in for a scan (never
    in CI). Raises ScanError when any file handed over could not be
    scanned, a worker failed, or the ``timeout`` passed. A file larger than
    ``piece_bytes`` may be scanned in pieces (see ``plan_pieces``). ``env``: the
    workers' environment (None: this process's).
    """
    root = root.resolve()
    deadline = time.monotonic() + timeout
    key = settings_key(root, baseline, verify, env)
    stored = store.get(CACHE_KEY, None) if store is not None else None
    old: dict[str, list[Any]] = {}
    originals: list[str] = []
    if reuse and isinstance(stored, dict) and stored.get("key") == key:
        old = stored.get("files") or {}
        originals = list(stored.get("originals") or [])
    entries: dict[str, list[Any]] = {}
    todo: dict[str, tuple[int, list[Any]]] = {}
    for path in files:
        stat, entry = _stat(root, path), old.get(path)
        if entry is not None and entry[:3] == stat and entry[3] - stat[1] > RACY_NS:
            entries[path] = entry
            continue
        began = time.time_ns()
        digest = _digest(root, path)
        if entry is not None and entry[4] == digest:
            entries[path] = [*stat, began, *entry[4:]]
            continue
        todo[path] = (stat[0], [*stat, began, digest])
    reused = len(entries)
    sizes = {p: size for p, (size, _) in todo.items()}
    results, started, ran = _run_workers(
        root, sizes, (baseline, verify), workers, piece_bytes, deadline,
        cancel or threading.Event(), env,
    )
    originals = sorted({*originals, *ran})
    for path, (_, head) in todo.items():
        done = results[path]
        entries[path] = [*head, done["status"], done["reason"], done["hits"]]
    if store is not None:
        keep = {p: e for p, e in entries.items() if _cacheable(root, p, e)}
        store.set(CACHE_KEY, {"key": key, "files": keep, "originals": originals})
    report = tuple(_file_scan(path, entries[path]) for path in sorted(files))
    return ScanReport(
        report, scanned=len(todo), reused=reused, workers=started, originals=tuple(originals)
    )


def _stat(root: Path, path: str) -> list[int]:
    try:
        st = os.stat(root / path)
    except OSError as exc:
        raise ScanError(f"{path}: handed over but cannot be read: {exc.strerror or exc}") from None
    return [st.st_size, st.st_mtime_ns, st.st_ino]


def _digest(root: Path, path: str) -> str:
    try:
        return hashlib.sha256((root / path).read_bytes()).hexdigest()
    except OSError as exc:
        raise ScanError(f"{path}: handed over but cannot be read: {exc.strerror or exc}") from None


def _cacheable(root: Path, path: str, entry: list[Any]) -> bool:
    # A file changed while it was scanned may not match the stored hash: do not keep it.
    try:
        return _stat(root, path) == entry[:3]
    except ScanError:
        return False


def _file_scan(path: str, entry: list[Any]) -> FileScan:
    hits = tuple(Hit(path, int(h[0]), str(h[1]), str(h[2]), bool(h[3])) for h in entry[7])
    return FileScan(path, str(entry[5]), str(entry[6]), hits)


def _count(workers: int, tasks: int, total_bytes: int) -> int:
    """How many workers scan ``tasks`` of ``total_bytes`` together: ``workers``, or
    when that is 0, one per available core and per :data:`WORKER_BYTES` of text."""
    wanted = workers or min(cores(), max(1, -(-total_bytes // WORKER_BYTES)))
    return max(0, min(wanted, tasks))


def plan_pieces(sizes: Mapping[str, int], workers: int, piece_bytes: int) -> dict[str, int]:
    """How many pieces each file is scanned in: 1, or more for a file that is large.

    Large means over ``piece_bytes`` and over an eighth of a worker's fair share of
    all the bytes, so a corpus of small files is never cut up.
    """
    target = max(piece_bytes, sum(sizes.values()) // max(1, workers * 8), 1)
    return {
        path: 1 if workers < 2 or size <= target else min(MAX_PIECES, -(-size // target))
        for path, size in sizes.items()
    }


def _run_workers(
    root: Path,
    sizes: Mapping[str, int],
    settings: tuple[str | None, bool],
    workers: int,
    piece_bytes: int,
    deadline: float,
    cancel: threading.Event,
    env: Mapping[str, str] | None,
) -> tuple[dict[str, dict[str, Any]], int, set[str]]:
    """Each file's merged result, how many workers were started, and the originals
    that ran instead of their twins (see ``ScanReport.originals``).

    ``settings``: the baseline (or None) and whether to verify, for every worker.
    """
    if not sizes:
        return {}, 0, set()
    total = sum(sizes.values())
    pieces = plan_pieces(sizes, _count(workers, MAX_PIECES, total), piece_bytes)
    weights = {
        (path, index, n): sizes[path] // n for path, n in pieces.items() for index in range(n)
    }
    shares = share_out(weights, _count(workers, len(weights), total))
    timeout = max(deadline - time.monotonic(), 0.01)
    runs = [_launch(root, share, settings, env, timeout) for share in shares]
    parts: dict[Task, dict[str, Any]] = {}
    originals: set[str] = set()
    try:
        for run, share in zip(runs, shares, strict=True):
            try:
                code, out, err = run.wait(cancel)
            except Cancelled:
                raise ScanError("the secrets scan was cancelled") from None
            except TimedOut:
                raise ScanError(
                    f"detect-secrets did not finish within the timeout ({len(sizes)} files)"
                ) from None
            except ToolError as exc:
                raise ScanError(f"cannot start a detect-secrets worker: {exc}") from None
            got, ran = _collect(code, out, err, share)
            parts.update(got)
            originals.update(ran)
    finally:
        for run in runs:
            run.stop()
    merged = {path: merge_pieces([parts[path, i, n] for i in range(n)]) for path, n in pieces.items()}
    return merged, len(shares), originals


def merge_pieces(parts: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """One file's result from its pieces' results (a whole file is one piece).

    As ``scan_file``: the findings of the first pass in which any piece found a
    secret, in line order; as ``SecretsCollection``: one per (type, hash), at the
    first line it appears on.
    """
    first = parts[0]
    if "passes" not in first:  # scanned whole
        return dict(first)
    passes = [part["passes"] for part in parts]
    found: list[list[Any]] = []
    for number in range(max(map(len, passes))):
        found = [hit for made in passes if number < len(made) for hit in made[number]]
        if found:
            break
    hits: dict[tuple[str, str], list[Any]] = {}
    for hit in found:
        hits.setdefault((hit[1], hit[2]), hit)
    status, reason = (first["status"], first["reason"]) if not hits else ("scanned", "")
    return {"path": first["path"], "status": status, "reason": reason,
            "hits": sorted(hits.values())}


def _launch(
    root: Path,
    share: list[Task],
    settings: tuple[str | None, bool],
    env: Mapping[str, str] | None,
    timeout: float,
) -> BackgroundTool:
    baseline, verify = settings
    job = {"root": str(root), "baseline": baseline, "verify": verify, "tasks": share,
           "filter_file": str(Path(filters.__file__).resolve()), "plugins_file": str(PLUGINS)}
    run = BackgroundTool(
        "a detect-secrets worker", worker_argv(WORKER), root, timeout, env=env,
        nice=BACKGROUND_NICE,  # yield the CPU to the test run, like the tool gates
        stdin=json.dumps(job).encode(),
    )
    run.start()
    return run


def _collect(
    code: int, text: str, err: str, share: list[Task]
) -> tuple[dict[Task, dict[str, Any]], list[str]]:
    said = tail(err)
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    if code != 0 or not isinstance(data, dict):
        raise ScanError(f"detect-secrets worker failed (exit {code}):\n{said or '(no output)'}")
    if "error" in data:
        raise ScanError(str(data["error"]))
    wrong = mismatch(data, WORKER_SHAPE)
    if wrong:
        raise ScanError(f"the detect-secrets worker printed output of an unexpected shape: "
                        f"{wrong}; it began: {text.strip()[:200]}")
    items = data["files"]
    if len(items) != len(share) or any(i["path"] != t[0] for i, t in zip(items, share, strict=True)):
        done = {item["path"] for item in items}
        missing = [path for path, _, _ in share if path not in done] or [share[0][0]]
        raise ScanError(f"{len(missing)} files handed over but not scanned, e.g. {missing[0]}")
    got = dict(zip(share, items, strict=True))
    failed = [item for item in items if item.get("status") == "error"]
    if failed:
        raise ScanError("; ".join(f"{i['path']}: {i['reason']}" for i in failed[:5]))
    return got, [str(name) for name in data.get("originals") or ()]
