"""``pytest-promote hook``: promote before ``git push``.

``hook install`` writes a git pre-push hook (in the directory git reads hooks from,
``core.hooksPath`` included) that runs ``hook pre-push``. For each branch or tag
pushed, that takes the stage the push target needs (the stage whose ``match`` pattern
fits the target's name best, as ``--promote-to=auto`` chooses; ``--stage`` names one
for every push), promotes HEAD to it with ``pytest --promote-to=STAGE``, and refuses
the push with the verdict line unless the run is accepted. A target no stage matches
is pushed unchecked, saying so; other refs (the ledger's notes) and deletions are
never checked.

``hook pre-commit [--stage STAGE] FILE...`` is what the pre-commit hook runs: a
pre-check of the files being committed (``pytest --promote-precheck``, see
:mod:`pytest_promote.runner.precheck`); it fails the commit when a required gate of
the stage that judges files fails on them.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from pytest_promote._util import git
from pytest_promote._util.files import write_atomic

#: The line that marks a hook as this command's (and so safe to replace).
MARK = "# pytest-promote pre-push hook"
ZERO = "0" * 40


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``install [--stage STAGE] [--force]`` and ``pre-push REMOTE URL``."""
    sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    install = sub.add_parser("install", help="install the git pre-push hook in this repository")
    install.add_argument("--stage", default=None,
                         help="the stage every push must pass (default: the one the target matches)")
    install.add_argument("--force", action="store_true", help="replace a pre-push hook of another tool")
    push = sub.add_parser("pre-push", help="what the hook runs (git passes REMOTE URL and the refs on stdin)")
    push.add_argument("--stage", default=None)
    push.add_argument("remote", nargs="?", default="")
    push.add_argument("url", nargs="?", default="")
    commit = sub.add_parser(
        "pre-commit", help="pre-check the files given (what the pre-commit hook runs): the "
        "gates of the stage that judge files, over those files")
    commit.add_argument("--stage", default=None,
                        help="the stage whose gates judge the files (default: the one the "
                        "branch matches, else the first)")
    commit.add_argument("--promote-config", default=None, metavar="PATH",
                        help="read the policy from this TOML file")
    commit.add_argument("files", nargs="*", metavar="FILE")


def run(args: argparse.Namespace) -> int:
    """Install the hook, judge a push, or pre-check a commit's files."""
    if args.action == "pre-commit":
        return pre_commit(args)
    return install(args) if args.action == "install" else pre_push(args)


def pre_commit(args: argparse.Namespace) -> int:
    """``pytest --promote-precheck=STAGE FILE...`` in the working directory; its exit
    status (1: a required gate failed on the files)."""
    from pytest_promote.runner.precheck import arguments

    config = [f"--promote-config={args.promote_config}"] if args.promote_config else []
    done = subprocess.run([*pytest_command(), *config, *arguments(args.stage, args.files)],
                          stdin=subprocess.DEVNULL, check=False, env=os.environ)
    return done.returncode


def install(args: argparse.Namespace) -> int:
    """Write the hook; 1 when another tool's hook is there (``--force`` replaces it)."""
    root = Path.cwd()
    hooks = git.git(root, "rev-parse", "--git-path", "hooks")
    if hooks is None:
        print("pytest-promote hook install: not a git repository", file=sys.stderr)
        return 1
    path = (root / hooks / "pre-push").resolve()
    if path.exists() and MARK not in path.read_text(encoding="utf-8", errors="replace") and not args.force:
        print(f"pytest-promote hook install: {path} is another tool's hook; add "
              f"`{shlex.join(command(args.stage))} \"$@\"` to it, or pass --force to replace it",
              file=sys.stderr)
        return 1
    write_atomic(path, f"#!/bin/sh\n{MARK}: promote HEAD before it is pushed\n"
                       f"exec {shlex.join(command(args.stage))} \"$@\"\n")
    mode = path.stat().st_mode
    path.chmod(mode | (mode & 0o444) >> 2)  # executable for whoever may read it
    print(f"pytest-promote hook install: wrote {path}; `git push --no-verify` skips it")
    return 0


def command(stage: str | None) -> list[str]:
    """The hook's command line (this interpreter, so the hook runs in this environment)."""
    return [sys.executable, "-m", "pytest_promote", "hook", "pre-push",
            *([f"--stage={stage}"] if stage else [])]


def pre_push(args: argparse.Namespace) -> int:
    """Promote HEAD to each stage the pushed refs need; 1 to refuse the push."""
    root = Path.cwd()
    head = git.head(root)
    stages: list[str] = []
    for line in sys.stdin.read().splitlines():
        parts = line.split()
        if len(parts) != 4 or parts[1] == ZERO or not parts[2].startswith(("refs/heads/", "refs/tags/")):
            continue  # a deletion, or no branch or tag (the ledger's notes): nothing to promote
        local_sha, target = parts[1], parts[2]
        try:
            stage = args.stage or target_stage(root, target)
        except pytest.UsageError as exc:
            print(f"promote: {exc}", file=sys.stderr)
            return 1
        if stage is None:
            print(f"promote: {target} matches no stage's `match` pattern: pushed unchecked",
                  file=sys.stderr)
            continue
        if local_sha != head:
            print(f"promote: the push of {local_sha[:12]} to {target} needs {stage}, but only HEAD "
                  f"({(head or 'none')[:12]}) can be promoted here: check it out first", file=sys.stderr)
            return 1
        if stage not in stages:
            stages.append(stage)
    return max((promote(root, stage) for stage in stages), default=0)


def target_stage(root: Path, target: str) -> str | None:
    """The stage whose ``match`` fits the pushed branch or tag best, or None."""
    from pytest_promote.cli.verify import gate_kinds
    from pytest_promote.policy import stages
    from pytest_promote.policy.loader import find_table, load

    kind, _, name = target.removeprefix("refs/").partition("/")
    table, source = find_table(root, None)
    policy = load(table, source, gate_kinds())
    ref = stages.Ref(name, "tag" if kind == "tags" else "branch", "the push target")
    found = stages.best(policy, [ref])
    return None if found is None else found.stage


def promote(root: Path, stage: str) -> int:
    """``pytest --promote-to=STAGE`` on the working tree; 0 when it is accepted."""
    runner = pytest_command()
    with tempfile.TemporaryDirectory(prefix="promote-hook-") as tmp:
        report = Path(tmp, "report.json")
        done = subprocess.run([*runner, f"--promote-to={stage}", f"--promote-report={report}"],
                              cwd=root, stdin=subprocess.DEVNULL, check=False, env=os.environ)
        try:
            data = json.loads(report.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            print(f"promote: pytest --promote-to={stage} wrote no report (exit status "
                  f"{done.returncode}): push refused", file=sys.stderr)
            return 1
    verdict = f"promote: stage {stage}: {str(data.get('colour')).upper()}"
    if data.get("accepted") is True:
        print(f"{verdict}: accepted, push goes ahead", file=sys.stderr)
        return 0
    why = "; ".join(data.get("caveats") or []) or "the verdict is below what the stage accepts"
    print(f"{verdict}: not accepted ({why}): push refused (`git push --no-verify` skips the check)",
          file=sys.stderr)
    return 1


def pytest_command() -> list[str]:
    """pytest of this environment: its console script, else ``python -m pytest``."""
    script = Path(sys.executable).with_name("pytest")
    return [str(script)] if script.exists() else [sys.executable, "-m", "pytest"]
