"""Under pytest-xdist every gate runs once, on the controller, after all workers."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

pytestmark = pytest.mark.supported_range

pytest.importorskip("xdist")

TESTS = {
    "test_app": """
        import os
        import pytest

        @pytest.mark.parametrize("n", range(6))
        def test_many(n):
            assert n >= 0

        @pytest.mark.invariant
        def test_invariant_holds():
            assert True
    """
}


def junit_cases(path) -> dict[str, str]:
    root = ET.parse(path).getroot()
    cases = {}
    for case in root.iter("testcase"):
        if case.get("classname") == "promote":
            kinds = [child.tag for child in case if child.tag in ("failure", "skipped", "error")]
            cases[case.get("name", "")] = kinds[0] if kinds else "passed"
    return cases


def test_gates_once_on_controller_with_all_results(project) -> None:
    pytester = project(**TESTS)
    result = pytester.runpytest("--promote-to=staging", "-n", "2", "-v", "--junitxml=x.xml")
    result.assert_outcomes(passed=10)
    out = result.stdout.str()
    # Gate items are not run by a worker: their lines carry no [gwN] prefix.
    assert "[gw" not in "".join(line for line in out.splitlines() if "promote::" in line)
    assert out.count("promote::tests PASSED") == 1
    result.stdout.fnmatch_lines(["*tests*required*passed*measured 7 passed, 0 failed*"])
    assert junit_cases(pytester.path / "x.xml") == {
        "tests": "passed", "invariants": "passed", "scorecard": "passed",
    }


@pytest.mark.parametrize(
    "args",
    [
        (),
        ("-k", "not test_invariant_holds"),
        ("--deselect", "promote::invariants"),
        ("-m", "not promote"),
    ],
)
def test_serial_and_xdist_agree(project, args) -> None:
    pytester = project(**TESTS)
    failing = pytester.path / "test_fail.py"
    failing.write_text("def test_bad():\n    assert False\n")
    serial = pytester.runpytest("--promote-to=development", "--junitxml=s.xml", *args)
    dist = pytester.runpytest("--promote-to=development", "-n", "2", "--junitxml=d.xml", *args)
    assert serial.ret == dist.ret == 1
    # xdist's controller does not count the workers' deselections; all else agrees.
    outcomes = serial.parseoutcomes()
    outcomes.pop("deselected", None)
    assert outcomes == dist.parseoutcomes()
    assert junit_cases(pytester.path / "s.xml") == junit_cases(pytester.path / "d.xml")
    line = next(x for x in serial.outlines if x.startswith("stage development:"))
    dist.stdout.fnmatch_lines([line])
