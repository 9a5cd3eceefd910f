"""The lint gate runs the real ruff and reports exactly what plain ``ruff check`` does."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from toolenv import bare_python, fake_tool, plain, plain_ruff, run_bare

pytestmark = pytest.mark.supported_range

RUFF_CONFIG = """
[tool.ruff.lint]
select = ["F", "E"]

[tool.promote.stage.development]
required = ["lint"]
"""

DIRTY = "import os\nimport sys\n\n\ndef f():\n    x = 1\n    return undefined_name\n"


def report(pytester: pytest.Pytester) -> dict:
    """The JSON report's lint entry."""
    data = json.loads((pytester.path / "report.json").read_text(encoding="utf-8"))
    return next(g for g in data["gates"] if g["id"] == "lint")


def promote(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    """A promotion to development, writing the JSON report."""
    return pytester.runpytest("--promote-to=development", "--promote-report=report.json", *args)


def test_findings_match_plain_ruff(pytester: pytest.Pytester) -> None:
    pytester.makepyprojecttoml(RUFF_CONFIG)
    pytester.mkpydir("pkg")
    (pytester.path / "pkg" / "dirty.py").write_text(DIRTY, encoding="utf-8")
    (pytester.path / "pkg" / "clean.py").write_text("X = 1\n", encoding="utf-8")

    result = promote(pytester)

    expected = plain_ruff(pytester.path)
    assert len(expected) == 4  # os, sys unused; x unused; undefined name
    assert "Found 4 errors." in plain("ruff", pytester.path, "check").stdout
    result.assert_outcomes(failed=2)  # lint, scorecard
    gate = report(pytester)
    assert gate["status"] == "failed"
    assert gate["measured"] == len(expected)
    assert [(f["file"], f["line"], f["col"], f["rule"]) for f in gate["findings"]] == [
        ("pkg/dirty.py", d["location"]["row"], d["location"]["column"], d["code"])
        for d in expected
    ]
    result.stdout.fnmatch_lines(
        [
            "lint: ruff check found 4 findings in the project (0 allowed for development)",
            "pkg/dirty.py:1: F401 `os` imported but unused",
            "pkg/dirty.py:7: F821 Undefined name `undefined_name`",
        ]
    )


def test_project_exclude_applies(pytester: pytest.Pytester) -> None:
    """The project's own ruff config (here its ``extend-exclude``) decides what counts."""
    pytester.makepyprojecttoml(
        RUFF_CONFIG.replace('select = ["F", "E"]', 'select = ["F"]')
        + '\n[tool.ruff]\nextend-exclude = ["generated"]\n'
    )
    (pytester.path / "generated").mkdir()
    (pytester.path / "generated" / "out.py").write_text(DIRTY, encoding="utf-8")
    (pytester.path / "app.py").write_text("import os\n", encoding="utf-8")

    result = promote(pytester)

    result.assert_outcomes(failed=2)
    assert len(plain_ruff(pytester.path)) == 1
    gate = report(pytester)
    assert gate["measured"] == 1
    assert [f["file"] for f in gate["findings"]] == ["app.py"]


def test_paths_option_over_policy_paths(pytester: pytest.Pytester) -> None:
    pytester.makepyprojecttoml(
        '[tool.promote]\npaths = ["src"]\n'
        '[tool.promote.gates.lint]\npaths = ["lib"]\n'
        '[tool.promote.stage.development]\nrequired = ["lint"]\n'
    )
    for folder, text in (("src", DIRTY), ("lib", "VALUE = 1\n")):
        (pytester.path / folder).mkdir()
        (pytester.path / folder / "m.py").write_text(text, encoding="utf-8")

    result = promote(pytester)

    result.assert_outcomes(passed=2)
    assert report(pytester)["summary"] == "lint: ruff check found nothing in lib"


def test_policy_paths_are_the_default(pytester: pytest.Pytester) -> None:
    pytester.makepyprojecttoml(
        '[tool.promote]\npaths = ["src"]\n[tool.promote.stage.development]\nrequired = ["lint"]\n'
    )
    (pytester.path / "src").mkdir()
    (pytester.path / "src" / "m.py").write_text("import os\n", encoding="utf-8")
    (pytester.path / "elsewhere.py").write_text("import sys\n", encoding="utf-8")

    promote(pytester).assert_outcomes(failed=2)

    assert [f["file"] for f in report(pytester)["findings"]] == ["src/m.py"]


def test_unparseable_output_fails_closed(
    pytester: pytest.Pytester, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makepyprojecttoml(RUFF_CONFIG)
    pytester.makepyfile(app="X = 1\n")
    python = bare_python(tmp_path)
    fakebin = fake_tool(tmp_path, "ruff", "print('ruff: internal error, cannot continue')")

    path = [fakebin, python.parent]
    result = run_bare(pytester, monkeypatch, python, path, "--promote-to=development")

    assert result.ret == 1
    result.stdout.fnmatch_lines(
        [
            "lint: output of `ruff check --output-format=json --no-fix` is not JSON:",
            "ruff: internal error, cannot continue",
            "*lint*required*error*",
        ]
    )


def test_under_xdist(pytester: pytest.Pytester) -> None:
    """The controller runs ruff once; the result is the same as without ``-n``."""
    pytester.makepyprojecttoml(RUFF_CONFIG)
    pytester.makepyfile(app="import os\n", test_app="def test_ok():\n    pass\n")

    result = promote(pytester, "-n", "2", "-p", "no:cacheprovider")

    result.assert_outcomes(passed=1, failed=2)
    assert report(pytester)["measured"] == len(plain_ruff(pytester.path)) == 1


FINDING = ('[{"message": "x", "filename": "app.py", "code": "F401", '
           '"location": {"row": 1, "column": 1}}]')


@pytest.mark.parametrize(
    ("printed", "code", "wrong"),
    [
        ("{}", 0, "the output is an object, not an array"),
        ('""', 0, 'the output is "" (str), not an array'),
        ('[{"message": "x", "filename": "app.py", "code": "F401"}]', 1, "[0] has no 'location'"),
        ("[]", 1, "it exited 1, yet its output reports 0 problems"),
        (FINDING, 0, "it exited 0, yet its output reports 1 problem"),
    ],
    ids=["an object", "a string", "a finding without location", "exit 1 with no finding",
         "exit 0 with a finding"],
)
def test_output_of_the_wrong_shape_is_an_error_not_a_pass(
    pytester: pytest.Pytester, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    printed: str, code: int, wrong: str,
) -> None:
    """Also output its exit status contradicts: ruff exits 1 exactly when it reports."""
    pytester.makepyprojecttoml(RUFF_CONFIG)
    pytester.makepyfile(app="X = 1\n")
    python = bare_python(tmp_path)
    fakebin = fake_tool(tmp_path, "ruff", f"print({printed!r}); raise SystemExit({code})")

    result = run_bare(pytester, monkeypatch, python, [fakebin, python.parent],
                      "--promote-to=development")

    assert result.ret == 1
    assert (
        "lint: `ruff check --output-format=json --no-fix` printed output of an unexpected "
        f"shape, judged as nothing: {wrong}; it began: {printed}"
    ) in result.stdout.str()
    result.stdout.fnmatch_lines(["*lint*required*error*"])

