"""Gates are not the project's tests: pytest-timeout's limit never interrupts them."""

from __future__ import annotations

import json
import sys

import pytest
from children import ADDOPTS

pytestmark = pytest.mark.supported_range

SLOW_GATE = f"""
[tool.promote]
stages = ["development"]
enforce_path = false

[tool.promote.gates]
slow = {{ command = [{json.dumps(sys.executable)}, "-c", "import time; time.sleep(2.5)"], timeout = 60 }}

[tool.promote.stage.development]
required = ["tests", "slow"]

[tool.pytest.ini_options]
{ADDOPTS}
timeout = 1
"""


@pytest.mark.parametrize("method", ["signal", "thread"])
def test_pytest_timeout_does_not_interrupt_a_gate(pytester: pytest.Pytester, method: str) -> None:
    """A gate slower than the project's pytest-timeout limit is judged by its own timeout:
    it passes, and the terminal, the JSON report and the exit status agree."""
    pytest.importorskip("pytest_timeout")
    pytester.makepyprojecttoml(SLOW_GATE)
    pytester.makepyfile(test_app="def test_quick():\n    assert True\n")
    result = pytester.runpytest_subprocess(
        "--promote-to=development", f"--timeout-method={method}", "--promote-report=report.json"
    )
    result.assert_outcomes(passed=4)
    assert result.ret == 0
    gates = {g["id"]: g for g in json.loads((pytester.path / "report.json").read_text())["gates"]}
    assert gates["slow"]["status"] == "passed"
    result.stdout.fnmatch_lines(["*GREEN*"])


def test_pytest_timeout_still_applies_to_the_tests(pytester: pytest.Pytester) -> None:
    """The project's own tests keep their limit."""
    pytest.importorskip("pytest_timeout")
    pytester.makepyprojecttoml(SLOW_GATE.replace("time.sleep(2.5)", "pass"))
    pytester.makepyfile(test_app="import time\n\ndef test_slow():\n    time.sleep(3)\n")
    result = pytester.runpytest_subprocess("--promote-to=development")
    result.assert_outcomes(failed=3, passed=1)
    result.stdout.fnmatch_lines(["*Timeout*"])


def test_an_interrupted_gate_is_an_error_everywhere(pytester: pytest.Pytester) -> None:
    """A gate whose evaluation is cut short by ``pytest.fail`` (another timeout plugin,
    say) has an error result: the item, the verdict and the JSON report agree."""
    pytester.makeconftest(
        """
        import pytest
        from pytest_promote.api import Gate

        class Interrupted(Gate):
            def evaluate(self):
                pytest.fail("Timeout >1.0s")

        def pytest_promote_gate_kinds():
            return {"interrupted": Interrupted}
        """
    )
    pytester.makepyprojecttoml(
        '[tool.promote]\nstages = ["dev"]\nenforce_path = false\n'
        '[tool.promote.stage.dev]\nrequired = ["tests"]\nadvisory = ["interrupted"]\n'
    )
    pytester.makepyfile(test_app="def test_quick():\n    assert True\n")
    result = pytester.runpytest("--promote-to=dev", "-rx", "--promote-report=report.json")
    result.stdout.fnmatch_lines(
        ["XFAIL promote::interrupted - *advisory: could not evaluate: Failed: Timeout >1.0s"]
    )
    assert result.ret == 0
    gates = {g["id"]: g for g in json.loads((pytester.path / "report.json").read_text())["gates"]}
    assert gates["interrupted"]["status"] == "error"
