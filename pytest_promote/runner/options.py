"""pytest-promote's options, read once: the ``--promote-*`` flags (declared in
:mod:`pytest_promote.plugin`) and the options of pytest and its plugins a promotion
reads, as one frozen value on ``config.stash``.

Every rule between flags lives here, in the constructor: which flags need, exclude or
imply others is checked once, as pytest parses the command line, with a
``pytest.UsageError`` that names the fix. Rules that need the policy (a component it
does not define) stay with the policy.
"""

from __future__ import annotations

import dataclasses

import pytest

from pytest_promote.policy.components import RESERVED

#: Options that mean nothing without ``--promote-to`` (field -> flag), in the order
#: their errors are said.
NEED_STAGE = {
    "only": "--promote-only", "dry_run": "--promote-dry-run", "no_ledger": "--promote-no-ledger",
    "overrides": "--promote-override", "component": "--promote-component",
    "shard": "--promote-shard", "union": "--promote-from", "sign_key": "--promote-sign-key",
    "html": "--promote-html", "exit": "--promote-exit",
}
#: What a shard leaves to the final job: options that make no sense in a shard run.
FINAL_JOB_ONLY = {
    "report": "--promote-report", "summary": "--promote-summary", "sarif": "--promote-sarif",
    "codequality": "--promote-codequality", "overrides": "--promote-override",
    "junit": "--promote-junit",
}
#: Outputs that hold one verdict: with several components, a usage error.
ONE_VERDICT = {
    "sarif": "--promote-sarif", "codequality": "--promote-codequality",
    "shard": "--promote-shard", "union": "--promote-from",
}
OPTIONS_KEY = pytest.StashKey["PromoteOptions"]()


@dataclasses.dataclass(frozen=True)
class PromoteOptions:
    """What the command line (and the configuration's ``addopts``) asks of a promotion."""

    #: ``--promote-to``: the stage to promote to (or ``auto``).
    to: str | None = None
    #: ``--promote-precheck``: the stage whose file-judging gates pre-check the files given.
    precheck: str | None = None
    #: ``--promote-status`` and ``--promote-json``: print the ledger's view instead of testing.
    status: bool = False
    json: bool = False
    #: ``--promote-component``: a component's name, ``all`` or ``auto``.
    component: str | None = None
    #: ``--promote-only``: the gates only, none of the project's tests.
    only: bool = False
    #: ``--promote-config``: the policy's TOML file instead of pyproject.toml.
    policy: str | None = None
    #: The outputs: ``--promote-report``, ``-summary``, ``-html``, ``-sarif``, ``-codequality``.
    report: str | None = None
    summary: str | None = None
    html: str | None = None
    sarif: str | None = None
    codequality: str | None = None
    #: ``--promote-junit``: the JUnit XML of an earlier test run the gates judge.
    junit: str | None = None
    #: ``--promote-shard``: the directory of this shard's bundle.
    shard: str | None = None
    #: ``--promote-from``: the glob of the shard bundles the final job judges.
    union: str | None = None
    no_cache: bool = False
    #: ``--promote-base``: the change judged is HEAD since its merge base with this ref.
    base: str | None = None
    dry_run: bool = False
    #: ``--promote-exit``: what decides the exit status (checked with the run's rule).
    exit: str | None = None
    no_ledger: bool = False
    #: ``--promote-override``, in the order given.
    overrides: tuple[str, ...] = ()
    sign_key: str | None = None
    #: pytest's ``--junitxml``: where pytest writes its JUnit XML.
    xmlpath: str | None = None

    def __post_init__(self) -> None:
        if self.json and not self.status:
            raise pytest.UsageError("--promote-json needs --promote-status")
        if self.precheck is not None:
            for given, flag in ((self.to, "--promote-to"), (self.status, "--promote-status")):
                if given:
                    raise pytest.UsageError(
                        f"--promote-precheck judges files, no promotion: drop {flag} (or run "
                        "pytest --promote-to=STAGE without --promote-precheck)")
            return
        if self.status:
            if self.to is not None:
                raise pytest.UsageError("--promote-status runs no gates; drop --promote-to")
        elif self.to is None:
            for field, flag in NEED_STAGE.items():
                if getattr(self, field):
                    raise pytest.UsageError(f"{flag} needs --promote-to=STAGE")
            return
        else:
            self._check_shards()
        self._check_component()

    def _check_shards(self) -> None:
        """``--promote-shard`` and ``--promote-from`` against the rest."""
        if self.shard and self.only:
            raise pytest.UsageError(
                "--promote-shard runs this shard's tests and --promote-only runs none: a shard job "
                "gives --promote-shard=DIR, the final job --promote-only --promote-from=GLOB"
            )
        if self.shard:
            for field, flag in FINAL_JOB_ONLY.items():
                if getattr(self, field):
                    raise pytest.UsageError(
                        f"{flag} with --promote-shard: a shard runs no gate and writes only its "
                        f"bundle; give {flag} to the final --promote-only --promote-from job"
                    )
        if self.union and not self.only:
            raise pytest.UsageError(
                f"--promote-from={self.union!r} needs --promote-only: the final job judges the "
                "shards' tests and runs none of its own"
            )
        if self.union and self.junit:
            raise pytest.UsageError(
                "--promote-from and --promote-junit both name the test results to judge; give one"
            )

    def _check_component(self) -> None:
        """``--promote-component`` against the options that judge one verdict's tests."""
        if self.component is None:
            return
        if self.junit:
            raise pytest.UsageError(
                "--promote-junit with --promote-component: a JUnit XML names tests by class, "
                "not by file, so the component's tests cannot be told from the others; "
                "promote the component with its tests (without --promote-only)"
            )
        if self.component not in RESERVED:  # one component's run
            return
        for field, flag in ONE_VERDICT.items():
            if getattr(self, field):
                raise pytest.UsageError(
                    f"{flag} with --promote-component={self.component}: it holds the verdict of "
                    "one component; promote each component in a run of its own "
                    f"(--promote-component=NAME) to use {flag}"
                )

    @classmethod
    def from_config(cls, config: pytest.Config) -> PromoteOptions:
        """The options of ``config``'s command line (a UsageError for flags that
        contradict each other)."""
        option = config.option
        return cls(
            to=option.promote_to, precheck=option.promote_precheck, status=option.promote_status,
            json=option.promote_json, component=option.promote_component, only=option.promote_only,
            policy=option.promote_config, report=option.promote_report,
            summary=option.promote_summary, html=option.promote_html, sarif=option.promote_sarif,
            codequality=option.promote_codequality, junit=option.promote_junit,
            shard=option.promote_shard, union=option.promote_from, no_cache=option.promote_no_cache,
            base=option.promote_base, dry_run=option.promote_dry_run, exit=option.promote_exit,
            no_ledger=option.promote_no_ledger, overrides=tuple(option.promote_override or ()),
            sign_key=option.promote_sign_key, xmlpath=getattr(option, "xmlpath", None),
        )


def options(config: pytest.Config) -> PromoteOptions:
    """The session's options, read from ``config`` once and kept on its stash."""
    found = config.stash.get(OPTIONS_KEY, None)
    if found is None:
        found = config.stash[OPTIONS_KEY] = PromoteOptions.from_config(config)
    return found
