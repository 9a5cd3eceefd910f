"""The built-in gate kinds, registered through the same hook a third party uses."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from pytest_promote.gate import Gate


@pytest.hookimpl(trylast=True)
def pytest_promote_gate_kinds() -> Mapping[str, type[Gate]]:
    """tests, secrets, invariants, artifacts and user-named command gates."""
    from pytest_promote.gates.artifacts import ArtifactsGate
    from pytest_promote.gates.command import CommandGate
    from pytest_promote.gates.invariants import InvariantsGate
    from pytest_promote.gates.secrets import SecretsGate
    from pytest_promote.gates.tests import TestsGate

    return {
        "tests": TestsGate,
        "secrets": SecretsGate,
        "invariants": InvariantsGate,
        "artifacts": ArtifactsGate,
        "command": CommandGate,
    }
