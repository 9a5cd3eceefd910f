"""The types gate runs the real pyright and counts exactly what pyright's summary says."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from children import PYTEST_INI
from toolenv import bare_python, fake_tool, plain_pyright, run_bare

from pytest_promote._util.process import HEAD_CHARS

BROKEN = 'x: int = "a"\ny: str = 1\n\n\ndef f() -> None:\n    unused = 1\n'
POLICY = """
[tool.pyright]
reportUnusedVariable = "warning"

[tool.promote]
paths = ["src"]

[tool.promote.stage.development]
required = ["types"]
"""


def gate(pytester: pytest.Pytester) -> dict:
    """The JSON report's types entry."""
    data = json.loads((pytester.path / "report.json").read_text(encoding="utf-8"))
    return next(g for g in data["gates"] if g["id"] == "types")


def project(pytester: pytest.Pytester, source: str, extra: str = "") -> None:
    """``src/m.py`` holding ``source``, under the policy plus ``extra``."""
    pytester.makepyprojecttoml(POLICY + PYTEST_INI + extra)
    (pytester.path / "src").mkdir()
    (pytester.path / "src" / "m.py").write_text(source, encoding="utf-8")


def promote(pytester: pytest.Pytester) -> pytest.RunResult:
    """A promotion to development, writing the JSON report."""
    return pytester.runpytest("--promote-to=development", "--promote-report=report.json")


@pytest.mark.supported_range
def test_error_count_is_pyrights_own(pytester: pytest.Pytester) -> None:
    project(pytester, BROKEN)

    result = promote(pytester)

    summary = plain_pyright(pytester.path, "src")["summary"]
    assert (summary["errorCount"], summary["warningCount"]) == (2, 1)
    result.assert_outcomes(failed=2)
    entry = gate(pytester)
    assert entry["measured"] == summary["errorCount"]
    assert [(f["file"], f["line"], f["rule"]) for f in entry["findings"]] == [
        ("src/m.py", 1, "reportAssignmentType"),
        ("src/m.py", 2, "reportAssignmentType"),
        ("src/m.py", 6, "reportUnusedVariable"),
    ]
    result.stdout.fnmatch_lines(
        [
            "types: pyright: 2 errors, 1 warning in src (0 errors allowed for development)",
            'src/m.py:1: reportAssignmentType Type * is not assignable to declared type "int"',
        ]
    )


def test_warnings_shown_but_not_counted_by_default(pytester: pytest.Pytester) -> None:
    project(pytester, "def f() -> None:\n    unused = 1\n")

    promote(pytester).assert_outcomes(passed=2)

    entry = gate(pytester)
    assert entry["summary"] == "types: pyright: 0 errors, 1 warning in src"
    assert [f["rule"] for f in entry["findings"]] == ["reportUnusedVariable"]


@pytest.mark.parametrize(
    ("options", "outcome"),
    [("warnings = true", "failed"), ("max_warnings = 1", "passed"), ("max_warnings = 0", "failed")],
)
def test_warnings_count_when_asked(pytester: pytest.Pytester, options: str, outcome: str) -> None:
    gate_table = f"\n[tool.promote.gates.types]\n{options}\n"
    project(pytester, "def f() -> None:\n    unused = 1\n", gate_table)

    promote(pytester)

    entry = gate(pytester)
    assert entry["status"] == outcome
    assert entry["measured"] == "0 errors, 1 warnings"




def test_pyright_absent_from_path(
    pytester: pytest.Pytester, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project(pytester, "X = 1\n")
    python = bare_python(tmp_path)

    result = run_bare(pytester, monkeypatch, python, [python.parent], "--promote-to=development")

    assert result.ret == 1
    result.stdout.fnmatch_lines(
        [
            "types: pyright not found (neither beside * nor on PATH)",
            'install it: pip install "pytest-promote[[]types]" (pyright runs on node.js: *',
            "*types*required*error*",
        ]
    )


SUMMARY = '"summary": {"filesAnalyzed": %s, "errorCount": 0, "warningCount": 0}'


ERROR = ('{"generalDiagnostics": [{"file": "src/m.py", "severity": "error", "message": "bad", '
         '"range": {"start": {"line": 0, "character": 0}}}], '
         '"summary": {"filesAnalyzed": 1, "errorCount": 1, "warningCount": 0}}')


@pytest.mark.parametrize(
    ("printed", "code", "wrong"),
    [
        ('{"generalDiagnostics": [], %s}' % (SUMMARY % 0), 0,
         "summary.filesAnalyzed is 0, yet src holds Python files (e.g. src/m.py)"),
        ('{"generalDiagnostics": []}', 0, "the output has no 'summary'"),
        ('{"generalDiagnostics": [], %s}' % (SUMMARY % '"1"'), 0,
         'summary.filesAnalyzed is "1" (str), not an integer'),
        ('{"generalDiagnostics": [], %s}' % (SUMMARY % 1), 1,
         "it exited 1, yet its output reports 0 problems"),
        (ERROR, 0, "it exited 0, yet its output reports 1 problem"),
    ],
    ids=["no file analysed", "no summary", "a count that is no number", "exit 1 with no error",
         "exit 0 with an error"],
)
def test_output_pyright_cannot_mean_is_an_error_not_a_pass(
    pytester: pytest.Pytester, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    printed: str, code: int, wrong: str,
) -> None:
    """Also output its exit status contradicts: pyright exits 1 exactly when it reports an error."""
    project(pytester, "x: int = 1\n")
    python = bare_python(tmp_path)
    fakebin = fake_tool(tmp_path, "pyright", f"print({printed!r}); raise SystemExit({code})")

    result = run_bare(pytester, monkeypatch, python, [fakebin, python.parent],
                      "--promote-to=development")

    assert result.ret == 1
    said = "types: `pyright --outputjson src` printed output of an unexpected shape, judged "
    assert f"{said}as nothing: {wrong}" in result.stdout.str()
    assert f"it began: {printed[:HEAD_CHARS]}" in result.stdout.str()


def test_a_conftest_editing_the_environment_does_not_change_the_count(
    pytester: pytest.Pytester,
) -> None:
    """pyright runs in the environment pytest started with: a conftest that puts a
    helper folder on PYTHONPATH for the tests changes nothing pyright resolves."""
    project(pytester, "import helperpkg\n\nx: int = helperpkg.NAME\n")
    helpers = pytester.path / "helpers" / "helperpkg"
    helpers.mkdir(parents=True)
    (helpers / "__init__.py").write_text('NAME = "helper"\n', encoding="utf-8")
    pytester.makeconftest(
        "import os\n\nos.environ['PYTHONPATH'] = os.path.join(os.path.dirname(__file__), 'helpers')\n"
    )
    result = pytester.runpytest_subprocess("--promote-to=development", "--promote-report=report.json")
    summary = plain_pyright(pytester.path, "src")["summary"]
    assert summary["errorCount"] == 1  # helperpkg cannot be resolved
    result.assert_outcomes(failed=2)
    assert gate(pytester)["measured"] == summary["errorCount"]
    result.stdout.fnmatch_lines(['src/m.py:1: reportMissingImports Import "helperpkg" could not be resolved'])

