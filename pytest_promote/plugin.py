"""The pytest entry point (``-p no:promote`` turns it off).

Inert unless ``--promote-to`` is given: it adds options, hook specs and two markers,
and imports nothing else until a promotion run is asked for.
"""

from __future__ import annotations

import os
from collections.abc import Generator

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    """The ``promote`` option group."""
    group = parser.getgroup("promote", "promotion gates (pytest-promote)")
    group.addoption(
        "--promote-to", metavar="STAGE", default=None,
        help="run the tests and every gate of STAGE (a stage of the policy, or 'auto')",
    )
    group.addoption(
        "--promote-precheck", metavar="STAGE", default=None,
        help="pre-check the files given as arguments (what the pre-commit hook runs): only "
        "the gates of STAGE that judge files (lint, types, secrets), over those files; no "
        "tests, nothing recorded; STAGE 'auto': the one the branch matches, else the first",
    )
    group.addoption(
        "--promote-component", metavar="NAME", default=None,
        help="promote one component of the repository ([tool.promote.components.NAME]): "
        "only its tests, gates over its files, records of its own",
    )
    group.addoption(
        "--promote-only", action="store_true", default=False,
        help="run the gates only, not the project's tests",
    )
    group.addoption(
        "--promote-config", metavar="PATH", default=None,
        help="read the policy from this TOML file instead of [tool.promote] in pyproject.toml",
    )
    group.addoption(
        "--promote-report", metavar="PATH", default=None, help="write the JSON report here",
    )
    group.addoption(
        "--promote-summary", metavar="PATH", default=None,
        help="write the Markdown summary here (also appended to $GITHUB_STEP_SUMMARY)",
    )
    group.addoption(
        "--promote-html", metavar="DIR", default=None,
        help="draw the run's scorecard, the ledger's history and the figures' trends as one "
        "self-contained page, DIR/index.html (needs the [html] extra)",
    )
    group.addoption(
        "--promote-sarif", metavar="PATH", default=None,
        help="write the findings as SARIF 2.1.0 here (for code scanning)",
    )
    group.addoption(
        "--promote-codequality", metavar="PATH", default=None,
        help="write the findings as a GitLab Code Quality report here",
    )
    group.addoption(
        "--promote-junit", metavar="PATH", default=None,
        help="with --promote-only: the JUnit XML of the earlier test run the gates judge",
    )
    group.addoption(
        "--promote-shard", metavar="DIR", default=None,
        help="run this shard's tests, no gate, and leave a bundle in DIR (the suite, "
        "outcomes, coverage data) for a final --promote-only --promote-from job",
    )
    group.addoption(
        "--promote-from", metavar="GLOB", default=None,
        help="with --promote-only: judge the union of the shard bundles in the "
        "directories GLOB matches (e.g. 'shards/*') as one run of the whole suite",
    )
    group.addoption(
        "--promote-no-cache", action="store_true", default=False,
        help="never reuse a gate result stored by an earlier run (CI=true implies it)",
    )
    group.addoption(
        "--promote-base", metavar="REF", default=None,
        help="the change to judge is HEAD since its merge base with REF (provenance gate)",
    )
    group.addoption(
        "--promote-dry-run", action="store_true", default=False,
        help="evaluate and report everything, exit 0, record nothing",
    )
    group.addoption(
        "--promote-exit", metavar="RULE", default=None,
        help="what decides the exit status: 'accepted' (a run the stage does not accept "
        "fails: dirty tree, partial run, ...; the default with CI=true) or 'colour' "
        "(the colour decides; the default without CI)",
    )
    group.addoption(
        "--promote-no-ledger", action="store_true", default=False,
        help="write no git note (refs/notes/promote) for this run; exit status as usual",
    )
    group.addoption(
        "--promote-override", metavar="GATE[@UNTIL]:REASON", action="append", default=[],
        help="break glass: let GATE's failure count as passed, on the record (repeatable); "
        "UNTIL is a date (YYYY-MM-DD), required at the last stage by default",
    )
    group.addoption(
        "--promote-sign-key", metavar="KEY", default=None,
        help="sign the run's attestation with this Ed25519 key: a file (PKCS#8 PEM or "
        "OpenSSH) or env:NAME, a variable holding the key (needs the [sign] extra)",
    )
    group.addoption(
        "--promote-status", action="store_true", default=False,
        help="print each stage's last accepted and last failed commit and where HEAD "
        "stands (from the ledger, refs/notes/promote); runs no tests and no gates",
    )
    group.addoption(
        "--promote-json", action="store_true", default=False,
        help="with --promote-status: print it as JSON",
    )


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    """Add the ``pytest_promote_*`` hook specifications."""
    from pytest_promote import hookspecs

    pluginmanager.add_hookspecs(hookspecs)


@pytest.hookimpl(tryfirst=True)
def pytest_cmdline_main(config: pytest.Config) -> int | None:
    """Read the ``--promote-*`` options once (a UsageError for flags that contradict
    each other); ``--promote-status``: print the ledger's view of the stages instead
    of testing; with ``--promote-to``, register the loop that runs the gates after the
    tests."""
    if not asked(config):
        return None
    from pytest_promote.runner.options import options

    chosen = options(config)
    if chosen.precheck is not None:
        if getattr(config.option, "numprocesses", None):  # a pre-check runs no test: no workers
            config.option.numprocesses = None
            config.option.dist = "no"
            config.option.tx = []
        return None
    if chosen.status:
        from pytest_promote.report.status import main

        return main(config)
    if chosen.to is not None:
        from pytest_promote.runner.session import GateLoop

        config.pluginmanager.register(GateLoop(config), "promote-loop")
    return None


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_load_initial_conftests(
    early_config: pytest.Config, parser: pytest.Parser, args: list[str]
) -> Generator[None, None, None]:
    """In a promotion run, before the conftests are imported (and before pytest
    captures output, so that a restart from coverage's first line keeps the
    terminal): keep the environment the gates' tools will run in, and start
    measuring coverage (unless ``--promote-only``), as ``coverage run`` would."""
    namespace = early_config.known_args_namespace
    precheck = getattr(namespace, "promote_precheck", None) is not None
    promotion = not precheck and getattr(namespace, "promote_to", None) is not None
    if precheck or promotion:
        from pytest_promote.gates.environ import remember_environ

        remember_environ(early_config)
    if promotion and not getattr(namespace, "promote_only", False):
        from pytest_promote.gates.coverage import start

        start.start_early(early_config)
    return (yield)


@pytest.hookimpl(trylast=True)
def pytest_configure(config: pytest.Config) -> None:
    """Register the markers; activate the promotion run only when asked for."""
    config.addinivalue_line("markers", "promote: a promotion gate item (pytest-promote)")
    config.addinivalue_line(
        "markers", "invariant: an invariant the 'invariants' promotion gate counts"
    )
    if not asked(config):
        return
    from pytest_promote.runner.options import options

    chosen = options(config)
    if chosen.precheck is not None:
        from pytest_promote.runner.precheck import PreCheck

        config.pluginmanager.register(PreCheck(config), "promote-precheck")
        return
    if chosen.to is None:
        return
    if not posix():
        raise pytest.UsageError(
            f"--promote-to: pytest-promote runs on POSIX systems only (Linux, macOS), not on "
            f"{os.name!r}: its gates run tools in process groups; run it in WSL or a container"
        )
    if chosen.html:
        from pytest_promote.report.page.render import require_jinja

        require_jinja("--promote-html")
    from pytest_promote.gates.coverage.start import paused
    from pytest_promote.runner.session import activate

    with paused(config):  # the plugin's own work is no coverage of the project
        activate(config)


def asked(config: pytest.Config) -> bool:
    """Whether any ``--promote-*`` option is given: else the plugin stays inert and
    imports nothing."""
    return any(
        value is not None and value is not False and value != []
        for dest, value in vars(config.option).items() if dest.startswith("promote_")
    )


def posix() -> bool:
    """Whether this is a POSIX system (process groups, ``killpg``, priorities)."""
    return os.name == "posix"
