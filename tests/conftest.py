"""Shared fixtures: small projects with a promotion policy, made with pytester."""

from __future__ import annotations

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


@pytest.fixture
def project(pytester: pytest.Pytester):
    """A project with a passing test, an invariant and ``BASIC_POLICY``."""

    def make(policy: str = BASIC_POLICY, **files: str) -> pytest.Pytester:
        pytester.makepyprojecttoml(textwrap.dedent(policy))
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
