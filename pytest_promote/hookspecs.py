"""Hook specifications through which plugins and conftests extend pytest-promote."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from pytest_promote.api import Gate
    from pytest_promote.ledger.signing.dsse import Signer
    from pytest_promote.runner.run import PromoteRun
    from pytest_promote.runner.scorecard import Verdict


@pytest.hookspec
def pytest_promote_gate_kinds() -> Mapping[str, type[Gate]] | None:
    """Return gate kinds by name; the policy then names gates of these kinds.

    A kind whose name is used as a gate id directly (``coverage``) needs no entry
    under ``[tool.promote.gates]``; other ids pick a kind with ``kind = "..."``.
    """


@pytest.hookspec
def pytest_promote_verdict(config: pytest.Config, verdict: Verdict, run: PromoteRun) -> None:
    """Called once per promotion run with the final verdict, before pytest's own
    session-finish reporting (JUnit is still open); reports and ledgers live here.

    A session judging several components (``--promote-component=all``) has a run per
    component: the hook is called for each, in turn, once every verdict is decided;
    ``run.policy.component`` names the component.
    """


@pytest.hookspec
def pytest_promote_signers(config: pytest.Config) -> Iterable[Signer] | None:
    """Return signers for the run's attestation, beside ``--promote-sign-key``'s key.

    A signer has a ``keyid`` and ``sign(data: bytes) -> bytes`` (Ed25519 over the
    DSSE pre-authentication encoding); a keyless backend (sigstore) plugs in here.
    """
