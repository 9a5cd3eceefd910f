"""The coverage gate in the coverage configurations real projects use: child
processes measured (``patch``, ``parallel``, multiprocessing), coverage's own
warnings, the project's own ``fail_under``. Each compares the gate with the real
``coverage`` command line on the same project."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from test_coverage_gate import MODULE, TEST, coverage_cmd

from pytest_promote.policy import load
from pytest_promote.verify import gate_kinds


def report_gate(pytester: pytest.Pytester, gate_id: str = "coverage") -> dict[str, Any]:
    """The entry of ``gate_id`` in ``promote.json``."""
    report = json.loads((pytester.path / "promote.json").read_text())
    return next(g for g in report["gates"] if g["id"] == gate_id)


def test_zero_config_uses_the_projects_stricter_fail_under(pytester: pytest.Pytester) -> None:
    """No [tool.promote]: the project's own ``fail_under = 100`` is the coverage
    minimum at every stage, not the default's 60/70/80, and the header says so."""
    pytester.makepyprojecttoml(
        '[tool.coverage.run]\nsource = ["pkg"]\n[tool.coverage.report]\nfail_under = 100\n'
    )
    (pytester.mkpydir("pkg") / "mod.py").write_text(MODULE)
    pytester.makepyfile(test_mod=TEST)
    result = pytester.runpytest_subprocess(
        "--promote-to=development", "--promote-report=promote.json", "-p", "no:cacheprovider"
    )
    result.stdout.fnmatch_lines(
        ["promote: stage development (policy: embedded default policy; coverage min 100% at "
         "development, staging, production, from the project's coverage fail_under*"]
    )
    gate = report_gate(pytester)
    assert (gate["status"], gate["threshold"]) == ("failed", "100%")
    assert gate["summary"] == "coverage 57% < 100% required for development"
    # coverage.py's own verdict on the same data.
    raw = coverage_cmd(pytester, "report")
    assert raw.ret == 2
    assert re.search(r"total of 57 is less than fail-under=100", raw.stdout.str())


@pytest.mark.parametrize(
    ("declared", "expected"),
    [(None, (60, 70, 80)), (0, (60, 70, 80)), (65, (65, 70, 80)), (100, (100, 100, 100))],
)
def test_declared_minimum_only_tightens_the_default(
    declared: float | None, expected: tuple[float, ...]
) -> None:
    policy = load(None, "embedded default policy", gate_kinds(), declared)
    stages = ("development", "staging", "production")
    mins = tuple(policy.stage(s).options["coverage"].min for s in stages)
    assert mins == expected
    assert ("fail_under" in policy.source) == (expected != (60, 70, 80))
