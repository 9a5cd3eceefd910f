"""``python -m pytest_promote COMMAND``: the commands that live outside a pytest run."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from pytest_promote import approve, ledgersync, verify

AddArguments = Callable[[argparse.ArgumentParser], None]
Run = Callable[[argparse.Namespace], int]
#: name -> (add its arguments, run it and return the exit status)
COMMANDS: dict[str, tuple[AddArguments, Run]] = {
    "approve": (approve.add_arguments, approve.run),
}
COMMANDS["verify"] = (verify.add_arguments, verify.run)
COMMANDS["ledger"] = (ledgersync.add_arguments, ledgersync.run)


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line and run one command."""
    parser = argparse.ArgumentParser(prog="python -m pytest_promote")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, (add_arguments, _) in COMMANDS.items():
        add_arguments(sub.add_parser(name))
    args = parser.parse_args(argv)
    return COMMANDS[args.command][1](args)


if __name__ == "__main__":
    sys.exit(main())
