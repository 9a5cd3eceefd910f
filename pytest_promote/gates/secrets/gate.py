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

from pytest_promote._util import git
from pytest_promote._util.paths import check_inside, matcher, walk
from pytest_promote._util.process import project_environ
from pytest_promote.api import Finding, Gate, GateResult
from pytest_promote.gates.secrets.scan import Hit, ScanError, ScanReport, read_baseline, scan
from pytest_promote.policy.schema import bounded, timeout
from pytest_promote.runner.cache import reuse_allowed

DEFAULT_BASELINE = ".secrets.baseline"
#: The most worker processes a scan may be given.
MAX_WORKERS = 256
#: Seconds a cancelled scan gets to kill its workers when the session ends.
STOP_WAIT = 10.0
@dataclasses.dataclass(frozen=True)
class SecretsOptions:
    """``[tool.promote.gates.secrets]``."""

    #: Files or directories to scan (default: the policy's ``paths``, else every
    #: git-tracked file; outside git, every file under the root).
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

    def start(self) -> None:
        """List the files and begin scanning them in the background."""
        self._report: ScanReport | None = None
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
            self._files = files_to_scan(root, self.context.paths_for(opts.paths), opts.exclude)
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

    def secrets(self) -> list[str]:
        """The values of the secrets the scan found (known ones too), read back from
        their lines: the scan itself keeps only their hashes."""
        report = getattr(self, "_report", None)
        if report is None:
            return []
        return recover_values(self.context.rootpath, report.hits)

    def _judge(self, report: ScanReport) -> GateResult:
        new = [h for h in report.hits if (h.path, h.type, h.hashed_secret) not in self._known]
        known = len(report.hits) - len(new)
        files = f"{len(report.files)} file{'s' if len(report.files) != 1 else ''}"
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
        findings = [
            Finding(f"potential secret{absent}", file=h.path, line=h.line, rule=h.type)
            for h in new
        ]
        return GateResult.failed(summary, measured=len(new), threshold=0, findings=findings)


#: Where a secret's value may end on its line (quotes, separators, brackets, space).
_BOUNDARY = re.compile(r"[\s\"'`=:,;()\[\]{}<>@/\\]+")
_QUOTED = re.compile(r"\"([^\"]*)\"|'([^']*)'")
#: Lines longer than this are searched token by token only.
_LONG_LINE = 400


def recover_values(root: Path, hits: Iterable[Hit]) -> list[str]:
    """The values whose SHA-1 (detect-secrets' ``hashed_secret``) each hit records,
    found on the hit's line: its tokens first, then every substring of a short line."""
    wanted: dict[tuple[str, int], set[str]] = {}
    for hit in hits:
        wanted.setdefault((hit.path, hit.line), set()).add(hit.hashed_secret)
    found: list[str] = []
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
                found.append(candidate)
                hashes.discard(digest)
                if not hashes:
                    break
    return found


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


def files_to_scan(root: Path, paths: tuple[str, ...] | None, exclude: tuple[str, ...]) -> list[str]:
    """The regular files to hand to detect-secrets, relative to ``root``, sorted.

    Directories expand to their git-tracked files (every file, outside git); a named
    file is scanned even if untracked; a named path that does not exist, or a list
    that comes out empty, is an error: a scan of nothing must not pass.
    """
    named = paths or (".",)
    for path in named:
        if not (root / path).exists():
            raise ScanError(f"the configured path {path} does not exist")
    in_git = git.git(root, "rev-parse", "--is-inside-work-tree") == "true"
    found: set[str] = set()
    for path in named:
        if (root / path).is_file():
            found.add(PurePosixPath(Path(path).as_posix()).as_posix())
        elif in_git:
            listed = git.git(root, "ls-files", "-z", "--cached", "--", path)
            if listed is None:
                raise ScanError(f"`git ls-files {path}` failed")
            found.update(p for p in listed.split("\0") if p)
        else:
            found.update(f.relative_to(root).as_posix() for f in walk(root / path, hidden=True))
    excluded = matcher(exclude)
    files = sorted(
        p for p in found
        if (root / p).is_file() and not (root / p).is_symlink() and not excluded(p)
    )
    if not files:
        where = ", ".join(named)
        raise ScanError(
            f"no files to scan under {where}"
            + (" (none is tracked by git; `git add` them)" if in_git else "")
        )
    return files
