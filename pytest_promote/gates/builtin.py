"""The built-in gate kinds, registered through the same hook a third party uses."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from pytest_promote.api import Gate


@pytest.hookimpl(trylast=True)
def pytest_promote_gate_kinds() -> Mapping[str, type[Gate]]:
    """The built-in gate kinds (command gates are any id with a `command`).

    ``drift``, ``deps``, ``health`` and ``metrics`` need a table under ``[tool.promote.gates.<id>]``
    before a stage can name them.
    """
    from pytest_promote.gates.approval import ApprovalGate
    from pytest_promote.gates.artifacts import ArtifactsGate
    from pytest_promote.gates.command import CommandGate
    from pytest_promote.gates.coverage.gate import CoverageGate
    from pytest_promote.gates.deps import DepsGate
    from pytest_promote.gates.drift import DriftGate
    from pytest_promote.gates.freeze import FreezeGate
    from pytest_promote.gates.health import HealthGate
    from pytest_promote.gates.invariants import InvariantsGate
    from pytest_promote.gates.lint import LintGate
    from pytest_promote.gates.metrics import MetricsGate
    from pytest_promote.gates.path import PathGate
    from pytest_promote.gates.provenance import ProvenanceGate
    from pytest_promote.gates.secrets.gate import SecretsGate
    from pytest_promote.gates.tests import TestsGate
    from pytest_promote.gates.types import TypesGate

    return {
        "tests": TestsGate,
        "coverage": CoverageGate,
        "secrets": SecretsGate,
        "invariants": InvariantsGate,
        "artifacts": ArtifactsGate,
        "lint": LintGate,
        "types": TypesGate,
        "command": CommandGate,
        "provenance": ProvenanceGate,
        "approval": ApprovalGate,
        "drift": DriftGate,
        "deps": DepsGate,
        "health": HealthGate,
        "metrics": MetricsGate,
        "path": PathGate,
        "freeze": FreezeGate,
    }
