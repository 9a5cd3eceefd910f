"""``pytest-promote report html`` and ``pytest-promote badge``: the promotion drawn
from the ledger alone (no test and no gate runs)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pytest

from pytest_promote.policy.model import Policy


def add_report_arguments(parser: argparse.ArgumentParser) -> None:
    """``report html --out DIR [--last N] [--config PATH]``."""
    sub = parser.add_subparsers(dest="format", required=True, metavar="FORMAT")
    html = sub.add_parser("html", help="one self-contained page: scorecard, history, trends")
    html.add_argument("--out", required=True, metavar="DIR", help="write DIR/index.html")
    html.add_argument("--last", type=_positive, default=None, metavar="N",
                      help="show the newest N commits (default 50)")
    _config(html)


def add_badge_arguments(parser: argparse.ArgumentParser) -> None:
    """``badge --stage STAGE --out FILE [--config PATH]``."""
    parser.add_argument("--stage", required=True, help="the stage the badge shows")
    parser.add_argument("--out", required=True, metavar="FILE", help="write the SVG here")
    _config(parser)


def _config(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config", default=None, metavar="PATH",
        help="the policy file, as --promote-config (default: [tool.promote] in pyproject.toml)",
    )


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of commits, 1 or more")
    return int(text)


def run_report(args: argparse.Namespace) -> int:
    """Draw the page from the ledger of the repository at the working directory."""
    from pytest_promote.report.page import make
    from pytest_promote.report.page.render import require_jinja

    root = Path.cwd()
    try:
        require_jinja("report html")
        policy = _policy(root, args.config)
        target = make.page(root, policy, Path(args.out), args.last or make.LAST)
    except pytest.UsageError as exc:
        return _fail(str(exc))
    except OSError as exc:
        return _fail(f"report html: --out {args.out!r} cannot be written ({exc.strerror or exc}); "
                     "give a writable directory")
    print(f"report html: wrote {target}")
    return 0


def run_badge(args: argparse.Namespace) -> int:
    """Write the badge of one stage from the ledger."""
    from pytest_promote._util.files import write_atomic
    from pytest_promote.policy.schema import did_you_mean
    from pytest_promote.report.page import make

    root = Path.cwd()
    try:
        policy = _policy(root, args.config)
    except pytest.UsageError as exc:
        return _fail(str(exc))
    names = [s.name for s in policy.stages]
    if args.stage not in names:
        return _fail(f"badge: --stage {args.stage!r} is not a stage of {policy.source}; "
                     f"{did_you_mean(args.stage, names)}")
    try:
        write_atomic(Path(args.out), make.badge(root, policy, args.stage))
    except OSError as exc:
        return _fail(f"badge: --out {args.out!r} cannot be written ({exc.strerror or exc}); "
                     "give a writable file path")
    print(f"badge: wrote {args.out}")
    return 0


def _policy(root: Path, config: str | None) -> Policy:
    """The policy at ``root``, read as ``verify`` reads it (a UsageError if it is bad)."""
    from pytest_promote.cli.verify import Rejected, read_policy

    try:
        return read_policy(root, config)
    except Rejected as exc:
        raise pytest.UsageError(str(exc)) from None


def _fail(message: str) -> int:
    print(message, file=sys.stderr)
    return 4
