"""The verdict's outputs: JSON, Markdown, JUnit properties, GitHub annotations."""

from __future__ import annotations

import json
import os
import stat
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from pytest_promote._util.files import write_atomic
from pytest_promote.report.json_report import SCHEMA_VERSION

pytestmark = pytest.mark.supported_range

XSD = Path(__file__).parent / "data" / "junit-10.xsd"
FAILING = {
    "test_app": """
        import pytest

        def test_works():
            pass

        def test_broken():
            assert False
    """
}


def test_json_report(project) -> None:
    pytester = project(**FAILING)
    result = pytester.runpytest("--promote-to=development", "--promote-report=out/report.json")
    assert result.ret == 1
    report = json.loads((pytester.path / "out" / "report.json").read_text())
    assert report["schema"] == SCHEMA_VERSION
    assert (report["stage"], report["colour"], report["accepted"]) == ("development", "red", False)
    assert report["accept"] == "yellow"
    assert set(report) >= {"commit", "branch", "time", "gates", "overrides", "policy"}
    tests, invariants = report["gates"]
    assert tests["id"] == "tests" and tests["mode"] == "required" and tests["status"] == "failed"
    assert tests["findings"] == [
        {
            "file": "test_app.py", "line": None, "col": None, "rule": "failed",
            "message": "test_app.py::test_broken",
        }
    ]
    assert invariants["mode"] == "advisory" and invariants["measured"] == "0/0"
    assert isinstance(tests["duration"], float)


def test_markdown_summary_and_github_step_summary(project, monkeypatch) -> None:
    pytester = project()
    step = pytester.path / "step.md"
    step.write_text("# earlier step\n")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(step))
    result = pytester.runpytest("--promote-to=staging", "--promote-summary=summary.md")
    assert result.ret == 0
    summary = (pytester.path / "summary.md").read_text()
    assert summary.startswith("## Promotion to staging: GREEN, accepted\n")
    assert "| tests | required | ✅ passed | 2 passed, 0 failed | all pass, >= 1 |" in summary
    assert step.read_text() == "# earlier step\n" + summary


def test_junit_xunit2_properties_validate_against_schema(project) -> None:
    xmlschema = pytest.importorskip("xmlschema")
    pytester = project(**FAILING)
    pytester.runpytest("--promote-to=development", "--junitxml=junit.xml")
    path = pytester.path / "junit.xml"
    xmlschema.validate(str(path), str(XSD))
    root = ET.parse(path).getroot()
    props = {p.get("name"): p.get("value") for p in root.iter("property")}
    assert props["promote.stage"] == "development"
    assert props["promote.colour"] == "red"
    assert props["promote.accepted"] == "false"
    assert props["promote.tests.mode"] == "required"
    assert props["promote.tests.status"] == "failed"
    assert props["promote.tests.measured"] == "1 passed, 1 failed"
    assert props["promote.invariants.mode"] == "advisory"
    cases = {c.get("name"): c for c in root.iter("testcase") if c.get("classname") == "promote"}
    assert set(cases) == {"tests", "invariants", "scorecard"}
    failure = cases["tests"].find("failure")
    assert failure is not None
    assert failure.get("message", "").startswith("tests: 1 passed, 1 failed")
    skipped = cases["invariants"].find("skipped")
    assert skipped is not None and "advisory: invariants" in skipped.get("message", "")
    assert cases["tests"].find("properties") is None  # xunit2 forbids them in a testcase


def test_junit_xunit1_adds_testcase_properties(project) -> None:
    pytester = project()
    pytester.runpytest("--promote-to=staging", "--junitxml=j.xml", "-o", "junit_family=xunit1")
    root = ET.parse(pytester.path / "j.xml").getroot()
    case = next(c for c in root.iter("testcase") if c.get("name") == "tests")
    props = {p.get("name"): p.get("value") for p in case.iter("property")}
    assert props["promote.tests.status"] == "passed"
    assert props["promote.tests.threshold"] == "all pass, >= 1"


def test_github_annotations(project, monkeypatch) -> None:
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    pytester = project(**FAILING)
    result = pytester.runpytest("--promote-to=development")
    result.stdout.fnmatch_lines(
        [
            "::error file=test_app.py,title=promote tests::failed test_app.py::test_broken",
            "::warning title=promote invariants::invariants: *%0A0 invariants exist, 1 required",
        ]
    )


def test_no_annotations_outside_github(project, monkeypatch) -> None:
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    result = project(**FAILING).runpytest("--promote-to=development")
    assert "::error" not in result.stdout.str()


def test_write_atomic_leaves_old_file_on_failure(tmp_path, monkeypatch) -> None:
    target = tmp_path / "report.json"
    write_atomic(target, "old")

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr("os.replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        write_atomic(target, "new")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["report.json"]


@pytest.fixture(params=[0o022, 0o002, 0o077], ids=["umask-022", "umask-002", "umask-077"])
def umask(request: pytest.FixtureRequest):
    """The process umask for one test, restored after it."""
    old = os.umask(request.param)
    yield request.param
    os.umask(old)


def test_outputs_take_the_mode_the_umask_gives(project, umask: int) -> None:
    from pytest_promote.gates import baseline
    from pytest_promote.runner.shard import bundle

    pytester = project()
    outputs = ["out/report.json", "summary.md", "findings.sarif", "quality.json"]
    pytester.runpytest("--promote-to=development", f"--promote-report={outputs[0]}",
                       f"--promote-summary={outputs[1]}", f"--promote-sarif={outputs[2]}",
                       f"--promote-codequality={outputs[3]}")
    written = [pytester.path / name for name in outputs]
    written.append(baseline.write(pytester.path, {}))
    bundle.write(pytester.path / "bundle", {"coverage": {}}, None)
    modes = {path.name: stat.S_IMODE(path.stat().st_mode) for path in written}
    assert modes == {path.name: 0o666 & ~umask for path in written}
    assert stat.S_IMODE((pytester.path / "bundle").stat().st_mode) == 0o777 & ~umask
    assert stat.S_IMODE((pytester.path / "bundle" / "promote-shard.json").stat().st_mode) == 0o666 & ~umask
