"""``secrets``: detect-secrets finds nothing that is not in the project's baseline.

The scan (``pytest_promote.gates.secrets.scan``) starts in the background when the session
knows its gates and runs while the tests do. Findings name the file, the line and
the kind of secret; a secret's value is never read back from the scan at all.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path, PurePosixPath

import pytest

from pytest_promote._util import git
from pytest_promote._util.paths import check_inside, matcher, walk
from pytest_promote._util.redact import MASK
from pytest_promote.api import Finding, Gate, GateResult, Secret
from pytest_promote.gates.cache import reuse_allowed
from pytest_promote.gates.environ import project_environ
from pytest_promote.gates.secrets.scan import Hit, ScanError, ScanReport, read_baseline, scan
from pytest_promote.policy.schema import bounded, timeout

DEFAULT_BASELINE = ".secrets.baseline"
#: The untracked files, relative to the root, that earlier runs wrote and that still
#: hold what they wrote: no change, and nothing of the project's to scan (the run's
#: worktree check, :mod:`pytest_promote.runner.worktree`, sets it before the gates run).
OUTPUTS_KEY = pytest.StashKey[frozenset[str]]()
#: The most worker processes a scan may be given.
MAX_WORKERS = 256
#: Seconds a cancelled scan gets to kill its workers when the session ends.
STOP_WAIT = 10.0
@dataclasses.dataclass(frozen=True)
class SecretsOptions:
    """``[tool.promote.gates.secrets]``."""

    #: Files or directories to scan (default: the policy's ``paths``, else every
    #: file git tracks or would add (untracked, not ignored); outside git, every file
    #: under the root).
    paths: tuple[str, ...] | None = None
    #: The detect-secrets baseline (default: ``.secrets.baseline`` when present).
    baseline: str | None = None
    #: Globs (relative POSIX paths) never handed to detect-secrets.
    exclude: tuple[str, ...] = ()
    #: Ask the services of the tokens found whether they are live, and drop those
    #: they say are not, as ``detect-secrets scan`` does (false: its ``--no-verify``).
    #: Off counts every finding, so a later stage may turn it off, never back on.
    verify: bool = dataclasses.field(default=True, metadata={"tighten": "down"})
    #: Worker processes (0: one per available core).
    workers: int = bounded(0, 0, MAX_WORKERS)
    timeout: float = timeout(600.0)

    def __post_init__(self) -> None:
        for path in self.paths or ():
            check_inside("paths", path)
        if self.baseline:
            check_inside("baseline", self.baseline)
        for pattern in self.exclude:
            check_inside("exclude", pattern, glob=True)


class SecretsGate(Gate):
    """No potential secret that the baseline does not already hold (or mark as audited)."""

    Options = SecretsOptions
    title = "detect-secrets"
    requires = ("detect_secrets",)
    extra = "secrets"
    per_file = True

    def judged_files(self) -> tuple[str, ...]:
        """In a pre-check: the files given under its paths that ``exclude`` keeps (links
        are never scanned)."""
        excluded = matcher(self.options.exclude)
        root = self.context.rootpath
        return tuple(f for f in super().judged_files() if not excluded(f) and not (root / f).is_symlink())

    def start(self) -> None:
        """List the files and begin scanning them in the background."""
        self._report: ScanReport | None = None
        self._untracked: frozenset[str] = frozenset()
        self._error: str | None = None
        self._cancel = threading.Event()
        self._thread = threading.Thread(target=self._work, name="promote-secrets", daemon=True)
        self.context.config.add_cleanup(self._stop)
        self._thread.start()

    def _stop(self) -> None:
        # The session ends (maybe early: Ctrl-C, SIGTERM): the scan stops and its
        # workers are killed before pytest exits (the thread is a daemon).
        self._cancel.set()
        self._thread.join(STOP_WAIT)

    def _work(self) -> None:
        opts: SecretsOptions = self.options
        root = self.context.rootpath
        try:
            self._baseline = baseline_path(root, opts.baseline)
            self._known = known_secrets(root, self._baseline)
            self._files, self._untracked = files_to_scan(
                root, self.context.paths_for(opts.paths), opts.exclude,
                leave_out=self.context.config.stash.get(OUTPUTS_KEY, frozenset()),
            )
            config = self.context.config
            self._report = scan(
                root, self._files, baseline=self._baseline, verify=opts.verify,
                store=getattr(config, "cache", None),
                reuse=reuse_allowed(config), workers=opts.workers, timeout=opts.timeout,
                cancel=self._cancel, env=project_environ(config),
            )
        except ScanError as exc:
            self._error = str(exc)
        except Exception as exc:  # fail closed, with what went wrong
            self._error = f"{type(exc).__name__}: {exc}"

    def evaluate(self) -> GateResult:
        """Wait for the scan; fail on any potential secret the baseline does not hold."""
        self._thread.join(self.options.timeout + 30)
        if self._thread.is_alive():
            self._cancel.set()
            took = f"{self.options.timeout:g}s"
            return GateResult.error(f"{self.id}: the scan did not finish in {took}")
        if self._error is not None or self._report is None:
            return GateResult.error(f"{self.id}: cannot scan for secrets: {self._error}")
        return self._judge(self._report)

    def secrets(self) -> list[Secret]:
        """The secrets the scan found (known ones too), each read back from its line:
        the scan itself keeps only their hashes."""
        report = getattr(self, "_report", None)
        if report is None:
            return []
        if getattr(self, "_recovered", None) is None:
            self._recovered = recover_values(self.context.rootpath, report.hits)
        return self._recovered

    def _judge(self, report: ScanReport) -> GateResult:
        new = [h for h in report.hits if (h.path, h.type, h.hashed_secret) not in self._known]
        known = len(report.hits) - len(new)
        files = f"{len(report.files)} file{'s' if len(report.files) != 1 else ''}"
        if self._untracked:
            files += f" ({len(self._untracked)} untracked)"
        counts = f"{files}{_skipped(report)}{_reuse(report)}{_originals(report)}"
        if not new:
            held = f"{known} known in {self._baseline}" if self._baseline else "no baseline"
            summary = f"{self.id}: no new secret in {counts} ({held})"
            cached = report.scanned == 0 and report.reused > 0
            return GateResult.passed(summary, measured=0, threshold=0, cached=cached)
        hint = (
            "; audit them, or record accepted ones with "
            f"`detect-secrets scan --baseline {self._baseline}`"
            if self._baseline
            else "; record accepted ones with `detect-secrets scan > .secrets.baseline`"
        )
        plural = "s" if len(new) != 1 else ""
        found = (
            f"{len(new)} new potential secret{plural} not in {self._baseline}"
            if self._baseline
            else f"{len(new)} potential secret{plural} and no baseline"
        )
        summary = f"{self.id}: {found} (0 allowed for {self.context.stage}); {counts}{hint}"
        absent = " not in the baseline" if self._baseline else ""
        shown = excerpts(self.context.rootpath, report.hits, self.secrets())
        untracked = " (in a file git does not track yet: commit it and CI scans it too)"
        findings = [
            Finding(f"potential secret{absent}{untracked if h.path in self._untracked else ''}"
                    f"{shown.get((h.path, h.line), '')}",
                    file=h.path, line=h.line, rule=h.type)
            for h in new
        ]
        return GateResult.failed(summary, measured=len(new), threshold=0, findings=findings)


#: Where a secret's value may end on its line (quotes, separators, brackets, space).
_BOUNDARY = re.compile(r"[\s\"'`=:,;()\[\]{}<>@/\\]+")
_QUOTED = re.compile(r"\"([^\"]*)\"|'([^']*)'")
#: Lines longer than this are searched token by token only.
_LONG_LINE = 400
#: A finding quotes its line when the line is no longer than this (stripped).
EXCERPT = 160


def recover_values(root: Path, hits: Iterable[Hit]) -> list[Secret]:
    """The values whose SHA-1 (detect-secrets' ``hashed_secret``) each hit records,
    found on the hit's line (its tokens first, then every substring of a short line),
    each with that line."""
    wanted: dict[tuple[str, int], set[str]] = {}
    for hit in hits:
        wanted.setdefault((hit.path, hit.line), set()).add(hit.hashed_secret)
    found: list[Secret] = []
    lines: dict[str, list[str]] = {}
    for (path, number), hashes in wanted.items():
        if path not in lines:
            try:
                lines[path] = (root / path).read_text(encoding="utf-8", errors="replace").splitlines()
            except OSError:
                lines[path] = []
        if not 0 < number <= len(lines[path]):
            continue
        line = lines[path][number - 1]
        for candidate in _candidates(line):
            digest = hashlib.sha1(candidate.encode("utf-8")).hexdigest()  # as detect-secrets hashes
            if digest in hashes:
                found.append(Secret(candidate, path, number))
                hashes.discard(digest)
                if not hashes:
                    break
    return found


def excerpts(root: Path, hits: Iterable[Hit], found: Iterable[Secret]) -> dict[tuple[str, int], str]:
    """``: <the line>`` for each line of ``hits`` whose every secret was read back
    (``found``), each of them masked wherever it stands on the line; a line holding a
    secret that was not read back, or longer than :data:`EXCERPT`, is not quoted."""
    hashes: dict[tuple[str, int], set[str]] = {}
    for hit in hits:
        hashes.setdefault((hit.path, hit.line), set()).add(hit.hashed_secret)
    values: dict[tuple[str, int], set[str]] = {}
    for secret in found:
        if secret.file is not None and secret.line is not None:
            where = (secret.file, secret.line)
            hashes.get(where, set()).discard(hashlib.sha1(secret.value.encode("utf-8")).hexdigest())
            values.setdefault(where, set()).add(secret.value)
    shown: dict[tuple[str, int], str] = {}
    for (path, number), left in hashes.items():
        if left:
            continue
        try:
            lines = (root / path).read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError):
            continue
        text = lines[number - 1].strip() if 0 < number <= len(lines) else ""
        if not text or len(text) > EXCERPT:
            continue
        for value in sorted(values.get((path, number), ()), key=len, reverse=True):
            text = text.replace(value, MASK)
        shown[(path, number)] = f": {text}"
    return shown


def _candidates(line: str) -> Iterator[str]:
    yield from (token for token in _BOUNDARY.split(line) if token)
    for double, single in _QUOTED.findall(line):
        yield double or single
    if len(line) <= _LONG_LINE:
        yield from (line[i:j] for i in range(len(line)) for j in range(i + 1, len(line) + 1))


def _skipped(report: ScanReport) -> str:
    excluded = sum(f.status == "excluded" for f in report.files)
    not_text = sum(f.status == "not-text" for f in report.files)
    decoded = sum(f.status == "decoded" for f in report.files)
    parts = [f"{excluded} excluded by detect-secrets' filters"] if excluded else []
    parts += [f"{decoded} not UTF-8, scanned in their encoding"] if decoded else []
    parts += [f"{not_text} binary, not scanned"] if not_text else []
    return f" ({', '.join(parts)})" if parts else ""


def _originals(report: ScanReport) -> str:
    if not report.originals:
        return ""
    names = ", ".join(name.rpartition(".")[2] for name in report.originals)
    return (
        f"; detect-secrets' own {names} ran, not the linear twin: the installed original "
        "is not the one the twin was proven equal to (same findings, slower on wide lines)"
    )


def _reuse(report: ScanReport) -> str:
    if not report.reused:
        return ""
    if not report.scanned:
        return ", cached, inputs unchanged"
    return f", {report.scanned} scanned, {report.reused} unchanged since the last run"


def baseline_path(root: Path, option: str | None) -> str | None:
    """The baseline to use (relative to ``root``), or None; an explicit one must exist."""
    if option is None:
        return DEFAULT_BASELINE if (root / DEFAULT_BASELINE).is_file() else None
    if not (root / option).is_file():
        raise ScanError(f"the configured baseline {option} does not exist")
    return option


def known_secrets(root: Path, baseline: str | None) -> frozenset[tuple[str, str, str]]:
    """(file, type, hashed secret) of every baseline entry, audited or not."""
    if baseline is None:
        return frozenset()
    results = read_baseline(root / baseline)["results"]
    return frozenset(
        (str(path), str(entry.get("type")), str(entry.get("hashed_secret")))
        for path, entries in results.items()
        for entry in entries
    )


def files_to_scan(
    root: Path, paths: tuple[str, ...] | None, exclude: tuple[str, ...],
    leave_out: Iterable[str] = (),
) -> tuple[list[str], frozenset[str]]:
    """The regular files to hand to detect-secrets, relative to ``root``, sorted, and
    which of them git does not track.

    Directories expand to the files git tracks or would add (untracked and not
    ignored: what a commit before a push would take), less ``leave_out`` (the
    untracked outputs earlier promotion runs left); outside git, every file. A named
    file is scanned even if untracked or ignored; a named path that does not exist, or
    a list that comes out empty, is an error: a scan of nothing must not pass.
    """
    named = paths or (".",)
    for path in named:
        if not (root / path).exists():
            raise ScanError(f"the configured path {path} does not exist")
    in_git = git.git(root, "rev-parse", "--is-inside-work-tree") == "true"
    found: set[str] = set()
    untracked: set[str] = set()
    for path in named:
        if (root / path).is_file():
            found.add(PurePosixPath(Path(path).as_posix()).as_posix())
        elif in_git:
            listed = git.git(root, "ls-files", "-z", "--cached", "--", path)
            others = git.git(root, "ls-files", "-z", "--others", "--exclude-standard", "--", path)
            if listed is None or others is None:
                raise ScanError(f"`git ls-files {path}` failed")
            found.update(p for p in listed.split("\0") if p)
            untracked.update(
                p for p in others.split("\0")
                if p and p not in leave_out and git.WRITTEN_BY_PYTEST not in p.split("/")
            )
        else:
            found.update(f.relative_to(root).as_posix() for f in walk(root / path, hidden=True))
    found |= untracked
    excluded = matcher(exclude)
    files = sorted(
        p for p in found
        if (root / p).is_file() and not (root / p).is_symlink() and not excluded(p)
    )
    if not files:
        where = ", ".join(named)
        raise ScanError(
            f"no files to scan under {where}"
            + (" (git tracks none and ignores the others)" if in_git else "")
        )
    return files, frozenset(untracked.intersection(files))
