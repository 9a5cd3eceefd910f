"""One worker process of the secrets scan: detect-secrets over a list of tasks.

It is started by path (``python worker.py``), not imported as part of
pytest_promote, so a worker does not pay for importing pytest. It reads a job as
JSON on stdin, works in the project root (detect-secrets resolves paths against
the current directory and silently drops any outside it), and writes JSON on
stdout. A secret's value never leaves this process: only its SHA-1, as in a
baseline.

Settings are made exactly as ``detect-secrets scan [--baseline FILE]`` makes them,
by detect-secrets' own argument parser; then the two line filters that backtrack
on long runs of spaces are swapped for their linear twins in ``filters.py``
through those same settings (``file://`` filter paths, as detect-secrets supports),
and the IBM Cloud IAM plugin, whose expression does the same, for its linear twin
in ``plugins.py`` (a ``file://`` plugin path). A twin stands in only where
the installed original is the one it was proven equal to; otherwise the original
runs, and the worker says which ones did.

A task is a whole file or a piece of a large one (a range of its lines, see
``scan_piece``). Either runs the line pass ``scan_file`` runs, through
detect-secrets' private ``_get_lines_from_file``, ``_scan_line`` and
``_is_filtered_out``, with one saving (``line_pass``): a regex plugin is asked
about a line only when one of its own expressions matches it. The differential
tests pin that against ``detect-secrets scan``; ``can_chunk`` gives the public
``SecretsCollection.scan_file`` on whole files when those functions are missing,
the detect-secrets version is not the one this was checked against, or custom
plugins or filters are configured.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import sys
from collections.abc import Iterator, Sequence
from typing import Any

# Lines of context detect-secrets gives each line (get_code_snippet's default);
# a piece reads this many more either side, and more would change nothing.
CONTEXT = 5
# The detect-secrets releases whose line pass (``_process_line_based_plugins``) and
# regex plugins (``RegexBasedDetector``) ``line_pass`` was checked against.
CHECKED_VERSIONS = ("1.5.",)


class JobError(Exception):
    """The job cannot be done as asked (bad baseline, no plugins, filter not loaded)."""


def configure(
    baseline: str | None, filter_file: str, plugins_file: str, verify: bool = True
) -> list[str]:
    """detect-secrets' global settings, as its ``scan`` command would set them
    (``scan --baseline BASELINE``; ``--no-verify`` unless ``verify``).

    Returns the filters and plugins that run as themselves although a twin exists:
    the installed original is not the one the twin was proven equal to.
    """
    from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class
    from detect_secrets.core.usage import ParserBuilder
    from detect_secrets.settings import cache_bust, get_filters, get_plugins, get_settings
    from detect_secrets.util.importlib import import_file_as_module

    cache_bust()
    argv = ["scan", *(["--baseline", baseline] if baseline else [])]
    argv += [] if verify else ["--no-verify"]
    err = io.StringIO()
    try:
        with contextlib.redirect_stderr(err):
            ParserBuilder().add_console_use_arguments().parse_args(argv)
    except SystemExit:
        raise JobError(f"detect-secrets rejected {baseline}: {err.getvalue().strip()}") from None
    settings = get_settings()
    swapped: list[str] = []
    kept: list[str] = []
    # Loaded by path, the way detect-secrets loads it (this script runs without the package).
    filters = import_file_as_module(filter_file)
    for original, twin in filters.FILTERS.items():
        if original in settings.filters and not filters.proven(original):
            kept.append(original)
        elif original in settings.filters:
            del settings.filters[original]
            swapped.append(f"file://{filter_file}::{twin}")
            settings.filters[swapped[-1]] = {}
    get_filters.cache_clear()
    loaded = {getattr(f, "path", "") for f in get_filters()}
    if not loaded.issuperset(swapped):
        raise JobError(f"detect-secrets did not load the filters of {filter_file}")
    twins = import_file_as_module(plugins_file)
    # A built-in plugin given a path is loaded from it, as any custom plugin; the
    # twin there has the same name and secret type, so it takes the original's place.
    # Built-in plugins that are on, not loaded from a path of the project's own.
    builtin = [name for name in twins.PLUGINS if "path" not in settings.plugins.get(name, {"path": ""})]
    named = builtin if twins.usable() else []
    kept += [name for name in builtin if name not in named]
    for name in named:
        settings.plugins[name] = {**settings.plugins[name], "path": f"file://{plugins_file}"}
    get_mapping_from_secret_type_to_class.cache_clear()
    get_plugins.cache_clear()
    plugins = get_plugins()
    if not plugins:
        raise JobError("detect-secrets has no plugin enabled: it would find nothing")
    if any(type(p).__name__ in named and not hasattr(type(p), "TWIN") for p in plugins):
        raise JobError(f"detect-secrets did not load the plugins of {plugins_file}")
    return kept


def file_status(path: str) -> tuple[str, str]:
    """Why detect-secrets looks at ``path`` or not: a status and a reason.

    Only for reporting: the findings always come from ``scan_file`` itself.
    """
    from detect_secrets.core.scan import get_filters_with_parameter
    from detect_secrets.util.inject import call_function_with_arguments

    for filter_fn in get_filters_with_parameter("filename"):
        try:
            if call_function_with_arguments(filter_fn, filename=path):
                return "excluded", str(getattr(filter_fn, "path", filter_fn))
        except TypeError:  # a filter that needs more than the file name
            continue
    try:
        with open(path) as f:  # the same decoding detect-secrets uses
            f.read()
    except UnicodeDecodeError:
        return "not-text", "not text in the locale's encoding (binary or non-UTF-8)"
    return "scanned", ""


def text_encoding(raw: bytes) -> str | None:
    """The encoding a file detect-secrets skips (it reads the locale's encoding and
    drops a file that does not decode) is read in here: UTF-8/16/32 with a byte-order
    mark, UTF-16 without one (every other byte NUL), and any other file without a NUL
    byte as Latin-1 (every byte decodes; a secret's characters are ASCII). None: a
    binary file, skipped as detect-secrets skips it."""
    import codecs

    for bom, name in ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
                      (codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
                      (codecs.BOM_UTF16_BE, "utf-16")):
        if raw.startswith(bom):
            return name
    if b"\0" not in raw:
        return "latin-1"
    if len(raw) % 2 == 0:
        even, odd = raw[0::2], raw[1::2]
        if odd.count(0) == len(odd) and even.count(0) == 0:
            return "utf-16-le"
        if even.count(0) == len(even) and odd.count(0) == 0:
            return "utf-16-be"
    return None


def scan_decoded(path: str) -> dict[str, Any]:
    """A file detect-secrets would skip as not text: read in :func:`text_encoding`'s
    encoding and scanned by detect-secrets as a UTF-8 copy of the same name (same
    lines); a binary file is reported as such, never as scanned."""
    import tempfile

    from detect_secrets.core.secrets_collection import SecretsCollection

    with open(path, "rb") as handle:
        raw = handle.read()
    encoding = text_encoding(raw)
    if encoding is None:
        return {"path": path, "status": "not-text", "reason": "binary (NUL bytes): not scanned, "
                "as detect-secrets does not scan it", "hits": []}
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError as exc:
        return {"path": path, "status": "error", "reason": f"cannot decode as {encoding}: {exc}"}
    found = SecretsCollection()
    with tempfile.TemporaryDirectory(prefix="promote-secrets-") as tmp:
        copy = os.path.join(tmp, os.path.basename(path))
        with open(copy, "w", encoding="utf-8", newline="") as out:
            out.write(text)
        found.scan_file(copy)
    return {"path": path, "status": "decoded", "reason": f"read as {encoding} (detect-secrets skips it)",
            "hits": sorted(_hit(s) for _, s in found)}


def scan_one(path: str) -> dict[str, Any]:
    """The findings of one file, without secret values."""
    from detect_secrets.core.secrets_collection import SecretsCollection

    unreadable = _unreadable(path)
    if unreadable is not None:
        return unreadable
    status, reason = file_status(path)
    if status == "not-text":
        return scan_decoded(path)
    # Collected as `detect-secrets scan` collects: one entry per (type, hash) and
    # file, at the first line it appears on.
    found = SecretsCollection()
    found.scan_file(path)
    hits = sorted(_hit(s) for _, s in found)
    if hits:
        status, reason = "scanned", ""
    return {"path": path, "status": status, "reason": reason, "hits": hits}


def _unreadable(path: str) -> dict[str, Any] | None:
    try:
        with open(path, "rb"):
            pass
    except OSError as exc:  # scan_file would swallow this and report nothing
        return {"path": path, "status": "error", "reason": f"cannot read: {exc.strerror or exc}"}
    return None


def _hit(secret: Any) -> tuple[int, str, str, bool]:
    return (secret.line_number, secret.type, secret.secret_hash, bool(secret.is_verified))


def can_chunk(filter_file: str, plugins_file: str) -> bool:
    """Whether a file may be scanned in line ranges: only with detect-secrets' own parts.

    Its plugins and filters look at one line and its context (five lines either
    side); a custom one (``file://``, besides this package's twins) could look
    further or keep state from line to line, so it gets whole files.
    """
    import inspect

    from detect_secrets.__version__ import VERSION
    from detect_secrets.core import scan
    from detect_secrets.settings import get_settings
    from detect_secrets.util.code_snippet import get_code_snippet

    settings = get_settings()
    ours = (f"file://{filter_file}::", f"file://{plugins_file}")
    custom = [
        name for name in [*settings.filters, *(c.get("path", "") for c in settings.plugins.values())]
        if name.startswith("file://") and not name.startswith(ours)
    ]
    needed = ("_get_lines_from_file", "_scan_line", "_is_filtered_out")
    context = inspect.signature(get_code_snippet).parameters.get("lines_of_context")
    return (
        not custom and all(hasattr(scan, name) for name in needed)
        and context is not None and context.default == CONTEXT
        and VERSION.startswith(CHECKED_VERSIONS)
    )


def screens(plugins: Sequence[Any]) -> list[tuple[Any, tuple[re.Pattern[str], ...] | None]]:
    """Each plugin, with the expressions a line must match for it to find anything
    there, or None: it is asked about every line.

    A ``RegexBasedDetector`` that keeps the base classes' ``analyze_line`` and
    ``analyze_string`` yields, for a line, the ``findall`` matches of each of its
    ``denylist`` expressions (then filters them): where no expression ``search``es
    successfully, ``findall`` finds nothing either, and the plugin yields nothing.
    Every other plugin (entropy, keyword, JWT, custom ones) is always asked.
    """
    from detect_secrets.plugins.base import BasePlugin, RegexBasedDetector

    made: list[tuple[Any, tuple[re.Pattern[str], ...] | None]] = []
    for plugin in plugins:
        kind = type(plugin)
        screen: tuple[re.Pattern[str], ...] | None = None
        if (
            isinstance(plugin, RegexBasedDetector)
            and kind.analyze_line is BasePlugin.analyze_line
            and kind.analyze_string is RegexBasedDetector.analyze_string
        ):
            denylist = tuple(plugin.denylist)
            if all(isinstance(expression, re.Pattern) for expression in denylist):
                screen = denylist
        made.append((plugin, screen))
    return made


def line_pass(lines: list[tuple[int, str]], filename: str) -> Iterator[Any]:
    """What detect-secrets' ``_process_line_based_plugins`` yields for ``lines``.

    The same steps in the same order (strip the line, its five lines of context,
    the line filters, each plugin in turn, the secret filters), except that a
    plugin whose screen (``screens``) the line does not pass is not asked: it would
    have yielded nothing. Most of a scan's time is regex plugins finding nothing.
    """
    from detect_secrets.core.scan import _is_filtered_out, _scan_line
    from detect_secrets.settings import get_plugins
    from detect_secrets.util.code_snippet import get_code_snippet

    content = [line for _, line in lines]
    plugins = screens(get_plugins())
    for number, raw in lines:
        line = raw.rstrip()
        snippet = get_code_snippet(lines=content, line_number=number)
        if _is_filtered_out(
            required_filter_parameters=["line"], filename=filename, line=line, context=snippet
        ):
            continue
        for plugin, screen in plugins:
            if screen is not None and not any(e.search(line) for e in screen):
                continue
            for secret in _scan_line(
                plugin=plugin, filename=filename, line=line, line_number=number, context=snippet
            ):
                if not _is_filtered_out(
                    required_filter_parameters=["context"], filename=secret.filename,
                    secret=secret.secret_value, plugin=plugin, line=line, context=snippet,
                ):
                    yield secret


def piece_bounds(lines: int, index: int, count: int) -> tuple[int, int]:
    """The 0-based half-open range of piece ``index`` of ``count`` over ``lines`` lines."""
    return index * lines // count, (index + 1) * lines // count


class _Passes:
    """The line lists ``_get_lines_from_file`` yields for one file, each made once.

    A worker doing several pieces of a file reads and transforms it once; a pass is
    made only when a piece asks for it, as ``scan_file`` asks for it.
    """

    def __init__(self) -> None:
        self.path: str | None = None
        self.made: list[list[str]] = []
        self.source: Iterator[list[str]] = iter(())

    def get(self, path: str, number: int) -> list[str] | None:
        from detect_secrets.core.scan import _get_lines_from_file

        if path != self.path:
            self.path, self.made, self.source = path, [], iter(_get_lines_from_file(path))
        while len(self.made) <= number:
            lines = next(self.source, None)
            if lines is None:
                return None
            self.made.append(lines)
        return self.made[number]


def scan_piece(
    path: str, index: int, count: int, chunkable: bool, passes: _Passes
) -> dict[str, Any]:
    """What ``scan_file`` yields for the lines of piece ``index`` of ``count``, pass by pass.

    ``scan_file`` runs its line pass over each line list in turn and stops after
    the first pass that yields a secret. A piece does the same over its own lines
    (each line seen with its real context): its first pass with a secret is the
    file's first such pass, or a later one nobody will use. The caller merges the
    pieces: the first pass in which any piece found something, in line order.
    Unless ``chunkable``, piece 0 scans the whole file and the others nothing.
    """
    from detect_secrets.core.scan import _is_filtered_out

    if not chunkable:
        return scan_one(path) if index == 0 else {"path": path, "skipped": True}
    unreadable = _unreadable(path)
    if unreadable is not None:
        return unreadable
    status, reason = file_status(path) if index == 0 else ("scanned", "")
    if status == "not-text":  # whole, in its own encoding; the other pieces find no line
        return scan_decoded(path)
    found: list[list[tuple[int, str, str, bool]]] = []
    if not _is_filtered_out(required_filter_parameters=["filename"], filename=path):
        while (lines := passes.get(path, len(found))) is not None:
            start, end = piece_bounds(len(lines), index, count)
            # Enough lines either side that every line of the piece gets the same
            # code snippet (its five neighbours) as in a whole-file pass.
            low = max(0, start - CONTEXT)
            window = list(enumerate(lines[low:end + CONTEXT], start=1))
            hits = [
                (low + s.line_number, s.type, s.secret_hash, bool(s.is_verified))
                for s in line_pass(window, path)
                if start < low + s.line_number <= end
            ]
            found.append(hits)
            if hits:
                break
    return {"path": path, "piece": [index, count], "status": status, "reason": reason,
            "passes": found}


def main() -> int:
    """Read the job, do its tasks in order, write the results."""
    job = json.load(sys.stdin)
    os.chdir(job["root"])
    try:
        kept = configure(job["baseline"], job["filter_file"], job["plugins_file"], job["verify"])
        chunkable = can_chunk(job["filter_file"], job["plugins_file"])
        passes = _Passes()
        results = [
            scan_piece(path, index, count, chunkable, passes)
            for path, index, count in job["tasks"]
        ]
    except JobError as exc:
        json.dump({"error": str(exc)}, sys.stdout)
        return 0
    json.dump({"files": results, "originals": kept}, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
