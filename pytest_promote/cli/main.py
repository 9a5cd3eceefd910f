"""``python -m pytest_promote COMMAND``: the commands that live outside a pytest run."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from pytest_promote import __version__
from pytest_promote.cli import approve, baseline, hook, report, sign, sync, verify

AddArguments = Callable[[argparse.ArgumentParser], None]
Run = Callable[[argparse.Namespace], int]
#: name -> (what it does, in one line; add its arguments; run it and return the exit status)
COMMANDS: dict[str, tuple[str, AddArguments, Run]] = {
    "approve": (
        "record your sign-off of HEAD for a stage (a git note the approval gate reads)",
        approve.add_arguments, approve.run,
    ),
    "verify": (
        "check that a JSON report or its attestation (signed as the trust policy asks) "
        "accepts a commit for a stage",
        verify.add_arguments, verify.run,
    ),
    "baseline": (
        "record today's lint and type findings as the baseline, so those gates fail "
        "only on new ones",
        baseline.add_arguments, baseline.run,
    ),
    "sign": (
        "sign a report's attestation with a key kept out of the test run (a separate CI step)",
        sign.add_arguments, sign.run,
    ),
    "report": (
        "draw the promotion from the ledger alone: report html --out DIR writes one "
        "self-contained page (scorecard, history, trends)",
        report.add_report_arguments, report.run_report,
    ),
    "badge": (
        "write a stage's badge (SVG) from the ledger: the colour of its newest accepted commit",
        report.add_badge_arguments, report.run_badge,
    ),
    "hook": (
        "promote HEAD before git pushes it: hook install writes a git hook that refuses "
        "a push the target's stage would not accept; hook pre-commit FILE... pre-checks "
        "the files of a commit (the pre-commit hook)",
        hook.add_arguments, hook.run,
    ),
    "ledger": (
        "share the ledger (refs/notes/promote) with a remote, losing nothing: ledger sync",
        sync.add_arguments, sync.run,
    ),
}


def parser() -> argparse.ArgumentParser:
    """The command line: ``--version`` and one subcommand, each listed with what it does."""
    top = argparse.ArgumentParser(
        prog="python -m pytest_promote",
        description="pytest-promote's commands outside a test run "
        "(a promotion itself runs as: pytest --promote-to=STAGE).",
    )
    top.add_argument("--version", action="version", version=f"pytest-promote {__version__}")
    sub = top.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (summary, add_arguments, _) in COMMANDS.items():
        add_arguments(sub.add_parser(name, help=summary, description=summary))
    return top


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line and run one command."""
    args = parser().parse_args(argv)
    return COMMANDS[args.command][2](args)


if __name__ == "__main__":
    sys.exit(main())
