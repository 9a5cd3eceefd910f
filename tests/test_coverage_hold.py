"""The coverage gate's new-code thresholds: coverage of the changed lines, each file's
minimum and the ratchet from the ledger, with the real coverage.py and git."""

from __future__ import annotations

import json
from typing import Any

import pytest
from children import PYTEST_INI
from gitrepo import NO_CACHE, Repo

from pytest_promote.api import GateContext, GateResult
from pytest_promote.gates.coverage.changed import parse_diff, ranges
from pytest_promote.gates.coverage.gate import CoverageGate, CoverageOptions
from pytest_promote.policy.loader import load
from pytest_promote.policy.schema import build
from pytest_promote.runner.testlog import TestLog

CALC = """\
def add(a, b):
    return a + b
"""

TESTED = """

def mul(a, b):
    return a * b
"""

UNTESTED = """

def div(a, b):
    if b == 0:
        raise ZeroDivisionError(a)
    return a / b
"""

TEST = """\
from pkg.calc import add


def test_add():
    assert add(1, 2) == 3
"""


def policy(coverage: str, stages: str = '["development"]') -> str:
    return f"""
[tool.coverage.run]
source = ["pkg"]

[tool.promote]
stages = {stages}
enforce_path = false

[tool.promote.stage.development]
required = ["tests", "coverage"]
coverage = {coverage}
{PYTEST_INI}"""


@pytest.fixture
def repo(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> Repo:
    return Repo(pytester.path, monkeypatch)


def start(repo: Repo, coverage: str, **kw: str) -> None:
    repo.commit("calc", {
        "pyproject.toml": policy(coverage, **kw), "pkg/__init__.py": "", "pkg/calc.py": CALC,
        "test_calc.py": TEST,
    })


def promote(pytester: pytest.Pytester, *args: str) -> tuple[pytest.RunResult, dict[str, Any]]:
    result = pytester.runpytest_subprocess(
        "--promote-to=development", "--promote-report=r.json", *NO_CACHE, *args
    )
    report = json.loads((pytester.path / "r.json").read_text(encoding="utf-8"))
    return result, next(g for g in report["gates"] if g["id"] == "coverage")


def judge_here(pytester: pytest.Pytester, options: dict[str, Any], *args: str) -> GateResult:
    """The coverage gate evaluated in this process, as ``--promote-only`` does, on the
    data file the last promotion left: the same judging, measured with this suite."""
    table = {"stages": ["development"], "stage": {"development": {"required": ["coverage"]}}}
    policy = load(table, "test", {"coverage": CoverageGate})
    context = GateContext(pytester.parseconfig(*args), pytester.path, "development", policy,
                          True, TestLog())
    return CoverageGate("coverage", build(CoverageOptions, options, "test", "coverage"),
                        context).evaluate()


def test_parse_diff_and_ranges() -> None:
    diff = (
        "diff --git a/a.py b/a.py\n--- a/a.py\n+++ b/a.py\n@@ -1,0 +2,3 @@\n+x\n+y\n+z\n"
        "@@ -9 +12 @@\n-old\n+new\n@@ -20,2 +23,0 @@\n-gone\n-gone\n"
        "diff --git a/b.py b/b.py\ndeleted file mode 100644\n--- a/b.py\n+++ /dev/null\n"
        "@@ -1 +0,0 @@\n-b\n"
    )
    assert parse_diff(diff) == {"a.py": {2, 3, 4, 12}}
    assert ranges([9, 3, 4, 5, 12, 13]) == "3-5, 9, 12-13"


def test_new_lines_judge_only_the_change(
    pytester: pytest.Pytester, repo: Repo, monkeypatch: pytest.MonkeyPatch
) -> None:
    start(repo, '{ min = 0, new_lines = 90, base = "main" }')
    repo.git("checkout", "-q", "-b", "feature")

    # A tested function raises nothing.
    repo.commit("mul", {
        "pkg/calc.py": CALC + TESTED,
        "test_calc.py": TEST + "\n\ndef test_mul():\n    from pkg.calc import mul\n    assert mul(2, 3) == 6\n",
    })
    result, gate = promote(pytester)
    assert gate["status"] == "passed", gate["summary"]
    assert "new lines 100% (2 of 2 changed lines since main@" in gate["summary"]
    assert gate["figures"]["new_lines"] == {"percent": 100.0, "statements": 2, "missing": 0}

    # An untested one fails new_lines, naming its lines; the total alone would pass.
    repo.commit("div", {"pkg/calc.py": CALC + TESTED + UNTESTED})
    result, gate = promote(pytester)
    assert gate["status"] == "failed"
    assert gate["findings"] == [{
        "file": "pkg/calc.py", "line": 10, "col": None, "rule": "new_lines",
        "message": "changed lines not covered: 10-12",
    }]
    # Since the base: mul's two lines and div's four, of which its `def` ran on import.
    assert "but new lines 50% (3 of 6 changed lines since main@" in gate["summary"]
    # The promotion table's row shows the figure that failed, not the total that held.
    assert (gate["measured"], gate["threshold"]) == ("new lines 50%", "90%")
    # What was not judged is said: the test module is outside coverage's `source`.
    assert "(1 changed Python file not measured by coverage: test_calc.py)" in gate["summary"]
    result.stdout.fnmatch_lines([
        "*< 90% required for development*", "pkg/calc.py:10: new_lines changed lines not covered: 10-12",
        "base of coverage: main@* (from [[]tool.promote.gates.coverage[]] base)",
    ])
    here = judge_here(pytester, {"new_lines": 90}, "--promote-base=main")
    assert (here.status, [str(f) for f in here.findings]) == (
        "failed", ["pkg/calc.py:10: new_lines changed lines not covered: 10-12"])
    assert here.summary.startswith(gate["summary"].split(" (from ")[0])
    assert here.figures["base"].endswith("(from --promote-base)")

    # The CI's target branch (here HEAD itself: nothing changed) never moves the
    # policy's base, so it cannot turn this RED into a GREEN.
    monkeypatch.setenv("GITHUB_BASE_REF", "feature")
    result, moved = promote(pytester)
    assert (moved["status"], moved["summary"]) == ("failed", gate["summary"])
    assert moved["figures"]["base"] == gate["figures"]["base"]
    assert gate["figures"]["base"].endswith("(from [tool.promote.gates.coverage] base)")


def test_no_measurable_new_line_passes_and_says_so(pytester: pytest.Pytester, repo: Repo) -> None:
    start(repo, '{ min = 0, new_lines = 90 }')
    repo.git("checkout", "-q", "-b", "docs")
    repo.commit("docs", {"README.md": "words\n", "pkg/calc.py": "# a comment\n" + CALC})
    _, gate = promote(pytester, "--promote-base=main")
    assert gate["status"] == "passed"
    assert "new lines: no measurable line changed since main@" in gate["summary"]
    assert "only changed lines coverage.py counts as statements are judged" in gate["summary"]


def test_new_lines_without_a_base_fails_closed(pytester: pytest.Pytester, repo: Repo) -> None:
    start(repo, '{ min = 0, new_lines = 90 }')
    _, gate = promote(pytester)
    assert gate["status"] == "error"
    assert "new_lines needs a base: no base to measure the change from; pass --promote-base=REF" in gate["summary"]


def test_each_file_below_its_minimum_is_named(pytester: pytest.Pytester, repo: Repo) -> None:
    start(repo, "{ min = 0, files = { min = 60 } }")
    repo.commit("more", {"pkg/other.py": "def f():\n    return 1\n\n\ndef g():\n    return 2\n",
                         "pkg/calc.py": CALC + UNTESTED})
    _, gate = promote(pytester)
    assert gate["status"] == "failed"
    assert [(f["file"], f["rule"], f["message"]) for f in gate["findings"]] == [
        ("pkg/calc.py", "files", "covered 50% < 60% required of each file"),
        ("pkg/other.py", "files", "covered 0% < 60% required of each file"),
    ]
    assert "2 files below 60% each" in gate["summary"]


def test_ratchet_holds_to_the_last_accepted_record(pytester: pytest.Pytester, repo: Repo) -> None:
    start(repo, "{ min = 0, ratchet = true, ratchet_files = true }")
    result, gate = promote(pytester)
    assert gate["status"] == "passed"
    assert "ratchet: no accepted development record on an ancestor of HEAD yet" in gate["summary"]
    first = repo.git("rev-parse", "HEAD")
    result.stdout.fnmatch_lines([f"ledger: recorded development GREEN on {first[:12]}*"])

    # Coverage falls: the total and the file are held to the record of the commit before.
    repo.commit("div", {"pkg/calc.py": CALC + UNTESTED})
    result, gate = promote(pytester)
    assert gate["status"] == "failed"
    assert f"the ratchet: coverage fell from 100% on {first[:12]}" in gate["summary"]
    assert gate["findings"][0] == {
        "file": "pkg/calc.py", "line": None, "col": None, "rule": "ratchet",
        "message": gate["findings"][0]["message"],
    }
    assert gate["findings"][0]["message"].startswith(f"coverage fell from 100% on {first[:12]}")
    here = judge_here(pytester, {"ratchet": True, "ratchet_files": True, "files": {"min": 60},
                                 "new_lines": 80, "base": "main"})
    assert here.status == "failed"
    assert [(f.file, f.rule) for f in here.findings] == [("pkg/calc.py", "files"), ("pkg/calc.py", "ratchet")]
    assert "1 file below 60% each" in here.summary
    assert "new lines: no measurable line changed since main@" in here.summary  # HEAD is main

    # Testing the new code restores it; a run on a branch that is not HEAD's ancestor
    # would not count, nor does this failed run.
    repo.commit("test div", {"test_calc.py": TEST + (
        "\n\ndef test_div():\n    import pytest\n    from pkg.calc import div\n"
        "    assert div(4, 2) == 2\n    with pytest.raises(ZeroDivisionError):\n        div(1, 0)\n")})
    _, gate = promote(pytester)
    assert gate["status"] == "passed", gate["summary"]
    assert f"ratchet: not below 100% of {first[:12]}" in gate["summary"]
