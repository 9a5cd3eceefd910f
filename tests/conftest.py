"""Shared fixtures: small projects with a promotion policy, made with pytester."""

from __future__ import annotations

import functools
import os
import textwrap

import pytest

BASIC_POLICY = """
[tool.promote]
stages = ["development", "staging", "production"]
enforce_path = false  # these projects are no git repositories: no ledger, no `path` gate

[tool.promote.gates]
invariants = { count = 1 }

[tool.promote.stage.development]
required = ["tests"]
advisory = ["invariants"]

[tool.promote.stage.staging]
required = ["tests", "invariants"]

[tool.promote.stage.production]
required = ["tests", "invariants"]
"""


#: Variables a CI runner sets that change what pytest-promote does; each test that
#: needs one sets it itself, so the suite behaves alike on a laptop and in CI.
CI_VARIABLES = (
    "CI", "GITHUB_ACTIONS", "GITHUB_STEP_SUMMARY", "GITHUB_REF_NAME", "GITHUB_REF_TYPE",
    "GITHUB_BASE_REF", "GITHUB_ACTOR", "GITLAB_USER_LOGIN", "CI_COMMIT_TAG",
    "CI_COMMIT_REF_NAME", "CI_MERGE_REQUEST_TARGET_BRANCH_NAME", "PROMOTE_NOW",
)


#: The user's caches, read before pytester points ``HOME`` at a test's project: a tool
#: that downloads itself on first use (older pyright releases fetch their node package
#: with npm) keeps its download there, as it would for a user, instead of in every
#: test's working tree, where it would make the tree dirty.
USER_CACHES = {
    "XDG_CACHE_HOME": os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"),
    "NPM_CONFIG_CACHE": os.environ.get("NPM_CONFIG_CACHE") or os.path.expanduser("~/.npm"),
}


@pytest.fixture(autouse=True)
def _no_ci_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in CI_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    for name, value in USER_CACHES.items():
        monkeypatch.setenv(name, value)


@pytest.fixture
def project(pytester: pytest.Pytester):
    """A project with a passing test, an invariant and ``BASIC_POLICY`` (and
    ``children.PYTEST_INI``, unless the policy given has a pytest table of its own)."""

    def make(policy: str = BASIC_POLICY, **files: str) -> pytest.Pytester:
        from children import PYTEST_INI

        text = textwrap.dedent(policy)
        if "[tool.pytest.ini_options]" not in text:
            text += PYTEST_INI  # pytest started in a separate process loads less
        pytester.makepyprojecttoml(text)
        tests = files or {
            "test_app": """
                import pytest

                def test_works():
                    assert 1 + 1 == 2

                @pytest.mark.invariant
                def test_invariant_holds():
                    assert True
            """
        }
        pytester.makepyfile(**{k: textwrap.dedent(v) for k, v in tests.items()})
        return pytester

    return make


@pytest.fixture
def git(pytester: pytest.Pytester):
    """Run git in the pytester project (the CI's variables are cleared for every test)."""
    from gitrepo import run_git

    return functools.partial(run_git, pytester.path)


@pytest.fixture
def git_project(project, git):
    """``project`` made a git repository on ``main`` with one commit."""

    def make(policy: str = BASIC_POLICY, **files: str) -> pytest.Pytester:
        pytester = project(policy, **files)
        git("init", "-q", "-b", "main")
        from gitrepo import WRITTEN_BY_RUNS

        (pytester.path / ".gitignore").write_text("\n".join(WRITTEN_BY_RUNS) + "\n")
        git("config", "user.name", "Tess Ter")
        git("config", "user.email", "tess@example.com")
        git("add", "-A")
        git("commit", "-q", "-m", "first")
        return pytester

    return make
