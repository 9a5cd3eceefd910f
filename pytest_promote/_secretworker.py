"""One worker process of the secrets scan: detect-secrets over a list of files.

It is started by path (``python _secretworker.py``), not imported as part of
pytest_promote, so a worker does not pay for importing pytest. It reads a job as
JSON on stdin, works in the project root (detect-secrets resolves paths against
the current directory and silently drops any outside it), and writes JSON on
stdout. A secret's value never leaves this process: only its SHA-1, as in a
baseline.

Settings are made exactly as ``detect-secrets scan [--baseline FILE]`` makes them,
by detect-secrets' own argument parser; then the two line filters that backtrack
on long runs of spaces are swapped for their linear twins in ``secretfilter.py``
through those same settings (``file://`` filter paths, as detect-secrets supports).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import sys
from typing import Any


class JobError(Exception):
    """The job cannot be done as asked (bad baseline, no plugins, filter not loaded)."""


def configure(baseline: str | None, filter_file: str) -> None:
    """detect-secrets' global settings, as its ``scan`` command would set them."""
    from detect_secrets.core.usage import ParserBuilder
    from detect_secrets.settings import cache_bust, get_filters, get_plugins, get_settings
    from detect_secrets.util.importlib import import_file_as_module

    cache_bust()
    argv = ["scan", *(["--baseline", baseline] if baseline else [])]
    err = io.StringIO()
    try:
        with contextlib.redirect_stderr(err):
            ParserBuilder().add_console_use_arguments().parse_args(argv)
    except SystemExit:
        raise JobError(f"detect-secrets rejected {baseline}: {err.getvalue().strip()}") from None
    settings = get_settings()
    swapped = []
    # Loaded by path, the way detect-secrets loads it (this script runs without the package).
    for original, twin in import_file_as_module(filter_file).FILTERS.items():
        if original in settings.filters:
            del settings.filters[original]
            swapped.append(f"file://{filter_file}::{twin}")
            settings.filters[swapped[-1]] = {}
    get_filters.cache_clear()
    loaded = {getattr(f, "path", "") for f in get_filters()}
    if not loaded.issuperset(swapped):
        raise JobError(f"detect-secrets did not load the filters of {filter_file}")
    if not get_plugins():
        raise JobError("detect-secrets has no plugin enabled: it would find nothing")


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


def scan_one(path: str) -> dict[str, Any]:
    """The findings of one file, without secret values."""
    from detect_secrets.core.secrets_collection import SecretsCollection

    try:
        with open(path, "rb"):
            pass
    except OSError as exc:  # scan_file would swallow this and report nothing
        return {"path": path, "status": "error", "reason": f"cannot read: {exc.strerror or exc}"}
    status, reason = file_status(path)
    # Collected as `detect-secrets scan` collects: one entry per (type, hash) and
    # file, at the first line it appears on.
    found = SecretsCollection()
    found.scan_file(path)
    hits = [(s.line_number, s.type, s.secret_hash, bool(s.is_verified)) for _, s in found]
    if hits:
        status, reason = "scanned", ""
    return {"path": path, "status": status, "reason": reason, "hits": hits}


def main() -> int:
    """Read the job, scan its files in order, write the results."""
    job = json.load(sys.stdin)
    os.chdir(job["root"])
    try:
        configure(job["baseline"], job["filter_file"])
        results = [scan_one(path) for path in job["files"]]
    except JobError as exc:
        json.dump({"error": str(exc)}, sys.stdout)
        return 0
    json.dump({"files": results}, sys.stdout)
    return 0


if __name__ == "__main__":
    # Run by path, this directory would come first on sys.path and its modules
    # (git.py, policy.py, ...) could shadow real ones: take it off.
    here = os.path.dirname(os.path.abspath(__file__))
    if sys.path and os.path.abspath(sys.path[0] or ".") == here:
        del sys.path[0]
    sys.exit(main())
