"""The verdict as JUnit testsuite properties (allowed by the default xunit2 family)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from pytest_promote.runner.scorecard import Verdict

if TYPE_CHECKING:
    from pytest_promote.runner.acceptance import Decision


def properties(
    verdict: Verdict, component: str | None = None, decision: Decision | None = None,
) -> list[tuple[str, str]]:
    """``promote.stage``, ``.component`` (in a component's run), ``.colour``,
    ``.accepted``, ``.decision`` (``not accepted: REASON``) and ``.exit`` (what decides
    the exit status), ``.caveat`` (one per reason it is not accepted despite its
    colour) and per gate mode/status/figures (and the base a gate measured a change from)."""
    props = [("promote.component", component)] if component else []
    props += [
        ("promote.stage", verdict.stage),
        ("promote.colour", verdict.colour),
        ("promote.verdict", verdict.headline),
        ("promote.accepted", str(verdict.accepted).lower()),
    ]
    if decision is not None:
        props += [("promote.decision", decision.line), ("promote.exit", decision.rule.mode)]
    props += [("promote.caveat", caveat) for caveat in verdict.caveats]
    for gate in verdict.gates:
        result = gate.result
        props += [
            (f"promote.{gate.id}.mode", gate.mode),
            (f"promote.{gate.id}.status", gate.status),
            (f"promote.{gate.id}.measured", "" if result is None else str(result.measured)),
            (f"promote.{gate.id}.threshold", "" if result is None else str(result.threshold)),
        ]
    props += [(f"promote.{gid}.base", base) for gid, base in verdict.bases.items()]
    props.append(("promote.overrides", str(len(verdict.overridden))))
    for gate in verdict.gates:
        if gate.override:
            name = f"promote.{gate.id}.override"
            props += [
                (f"{name}.used", str(gate.overridden).lower()),
                (f"{name}.by", gate.override.by),
                (f"{name}.reason", gate.override.reason),
                (f"{name}.until", gate.override.until.isoformat() if gate.override.until else ""),
            ]
    return props


def add_properties(
    config: pytest.Config, verdict: Verdict, signature: str,
    component: str | None = None, several: bool = False, decision: Decision | None = None,
) -> None:
    """Hand the properties, and ``promote.signature`` (how the run's attestation is
    signed), to the JUnit writer, if ``--junitxml`` is on. With ``several`` components
    in one session, each name starts ``promote[COMPONENT].`` instead of ``promote.``.

    The writer is found by its public ``add_global_property`` method, the one the
    ``record_testsuite_property`` fixture uses.
    """
    props = properties(verdict, component, decision)  # typed values; the free text masked at entry
    props.append(("promote.signature", signature))
    if several:
        props = [(f"promote[{component}]{name.removeprefix('promote')}", v) for name, v in props]
    for plugin in config.pluginmanager.get_plugins():
        add = getattr(plugin, "add_global_property", None)
        if callable(add):
            for name, value in props:
                add(name, value)
