"""Baselines of the lint and types gates: the real ruff and pyright, the real command."""

from __future__ import annotations

import json
import subprocess
import textwrap
from pathlib import Path

import cli
import pytest

from pytest_promote.api import Finding
from pytest_promote.gates import baseline

POLICY = """
[tool.ruff.lint]
select = ["F"]

[tool.promote]
paths = ["pkg"]
enforce_path = false

[tool.promote.stage.development]
required = ["tests", "lint"]

[tool.promote.stage.staging]
lint = { allow_stale = false }

[tool.promote.stage.production]
lint = { baseline = false }
"""

MODULE = """\
\"\"\"A module.\"\"\"

A = 1
import os
import sys


def add(a, b):
    return a + b
"""


def make(pytester: pytest.Pytester, policy: str = POLICY, module: str = MODULE) -> None:
    pytester.makepyprojecttoml(policy)
    pytester.mkpydir("pkg")
    (pytester.path / "pkg" / "mod.py").write_text(module, encoding="utf-8")
    pytester.makepyfile(test_it="def test_it():\n    assert True\n")


def record(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``python -m pytest_promote baseline ARGS`` in ``cwd`` (run in this process)."""
    return cli.run(cwd, "baseline", *args)


def gate(pytester: pytest.Pytester, gid: str = "lint") -> dict:
    data = json.loads((pytester.path / "r.json").read_text(encoding="utf-8"))
    return next(g for g in data["gates"] if g["id"] == gid)


def promote(pytester: pytest.Pytester, stage: str = "development", *args: str) -> pytest.RunResult:
    return pytester.runpytest(
        f"--promote-to={stage}", "--promote-report=r.json", "-p", "no:cacheprovider", *args
    )


def write(root: Path, text: str) -> None:
    (root / "pkg" / "mod.py").write_text(text, encoding="utf-8")


def test_fingerprints_survive_moved_lines_and_tell_repeats_apart(tmp_path: Path) -> None:
    (tmp_path / "pkg").mkdir()
    write(tmp_path, "import os\n\n\ndef f():\n    x = 1\n\n\ndef g():\n    x = 1\n")
    found = [Finding("unused os", "pkg/mod.py", 1, "F401"),
             Finding("unused x", "pkg/mod.py", 5, "F841"),
             Finding("unused x", "pkg/mod.py", 9, "F841")]
    before = baseline.fingerprints(tmp_path, found)
    assert len(set(before)) == 3  # the same rule on alike lines: told apart by occurrence
    known = baseline.entries(tmp_path, found[:2])

    # Unrelated lines above move every finding down; indentation and blank lines change.
    write(tmp_path, '"""Doc."""\n\nimport os\nA = 1\n\n\n\ndef f():\n        x  = 1\n\n\ndef g():\n    x = 1\n')
    moved = [Finding("unused os", "pkg/mod.py", 3, "F401"),
             Finding("unused x", "pkg/mod.py", 9, "F841"),
             Finding("unused x", "pkg/mod.py", 13, "F841")]
    after = baseline.fingerprints(tmp_path, moved)
    # `import os` got a new neighbour (A = 1): its whole fingerprint changed, the one of
    # its line did not, so it still matches its entry. The others only moved; the order
    # a tool lists findings in does not matter.
    assert after[1:] == before[1:]
    assert after[0] != before[0]
    assert baseline.fingerprints(tmp_path, moved[::-1]) == after[::-1]
    held = baseline.match(tmp_path, moved, known)
    assert (held.is_new, held.stale) == ((False, False, True), ())


def test_baseline_holds_the_line_with_real_ruff(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    make(pytester)
    done = record(pytester.path, "--stage", "development")
    assert done.returncode == 0, done.stderr
    assert "wrote .promote-baseline.json (lint 2 findings, stage development)" in done.stdout
    held = json.loads((pytester.path / baseline.BASELINE_FILE).read_text(encoding="utf-8"))
    assert [(e["file"], e["rule"]) for e in held["gates"]["lint"]] == [("pkg/mod.py", "F401")] * 2

    promote(pytester).assert_outcomes(passed=4)
    assert gate(pytester)["measured"] == "0 new, 2 baselined (0 stale)"

    # Moving the code (new lines above it, a blank line between) keeps every finding known.
    moved = MODULE.replace("A = 1\n", "B = 2\nC = 3\n\nA = 1\n").replace("import sys\n", "import sys\n\n")
    write(pytester.path, moved)
    promote(pytester).assert_outcomes(passed=4)

    # One new finding: only it fails, only it is annotated and listed in the summary.
    write(pytester.path, moved + "\n\ndef f():\n    y = 2\n")
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    result = promote(pytester, "development", "--promote-summary=s.md")
    result.assert_outcomes(passed=2, failed=2)
    entry = gate(pytester)
    assert entry["measured"] == "1 new, 2 baselined (0 stale)"
    assert [(f["rule"], f["line"]) for f in entry["findings"]] == [("F841", 17)]
    assert {k: v for k, v in entry["figures"].items() if k != "tool"} == {
        "count": 3, "baseline": True, "new": 1, "baselined": 2, "stale": 0}
    result.stdout.fnmatch_lines([
        "*lint: ruff check found 1 new finding in pkg (1 new, 2 baselined (0 stale)); 0 new allowed for development",
        "pkg/mod.py:17: F841 Local variable `y` is assigned to but never used",
    ])
    annotations = [line for line in result.outlines if line.startswith("::error file=")]
    assert annotations == [
        "::error file=pkg/mod.py,line=17,col=5,title=promote lint::F841 Local variable `y` is "
        "assigned to but never used"
    ]
    summary = (pytester.path / "s.md").read_text(encoding="utf-8")
    assert "`pkg/mod.py:17` F841 Local variable `y`" in summary
    assert "F401" not in summary

    # Fixing a baselined finding leaves a stale entry: allowed at development, not at staging.
    write(pytester.path, MODULE.replace("import sys\n", ""))
    promote(pytester).assert_outcomes(passed=4)
    assert gate(pytester)["measured"] == "0 new, 1 baselined (1 stale)"
    assert "1 stale entry: drop with `python -m pytest_promote baseline`" in gate(pytester)["summary"]
    promote(pytester, "staging").assert_outcomes(passed=2, failed=2)
    stale = gate(pytester)["findings"]
    assert [(f["file"], f["rule"]) for f in stale] == [("pkg/mod.py", "baseline-stale")]
    assert "baselined F401 no longer found (`sys` imported but unused)" in stale[0]["message"]

    # production forbids baselines: every finding counts.
    promote(pytester, "production").assert_outcomes(passed=2, failed=2)
    entry = gate(pytester)
    assert entry["measured"] == 1
    assert "not used: baselines are off at production (baseline = false)" in entry["summary"]


def test_baseline_with_real_pyright_names_only_the_new_error(pytester: pytest.Pytester) -> None:
    policy = POLICY.replace('required = ["tests", "lint"]', 'required = ["tests", "types"]')
    make(pytester, policy, 'def f() -> int:\n    return "x"\n')
    done = record(pytester.path)
    assert (done.returncode, done.stdout) == (
        0, "baseline: wrote .promote-baseline.json (types 1 finding, stage production); commit it\n")
    promote(pytester).assert_outcomes(passed=4)
    assert gate(pytester, "types")["measured"] == "0 new, 1 baselined (0 stale)"

    write(pytester.path, 'def f() -> int:\n    return "x"\n\n\ndef g() -> str:\n    return 1\n')
    promote(pytester).assert_outcomes(passed=2, failed=2)
    entry = gate(pytester, "types")
    assert [(f["line"], f["rule"]) for f in entry["findings"]] == [(6, "reportReturnType")]
    assert entry["summary"].startswith("types: pyright: 1 new error, 0 new warnings in pkg")


def test_the_command_writes_nothing_when_a_gate_cannot_judge(pytester: pytest.Pytester) -> None:
    make(pytester, POLICY.replace('select = ["F"]', 'select = ["NOPE"]'))
    done = record(pytester.path, "--stage", "development")
    assert done.returncode == 1
    assert "baseline: lint could not judge: lint: `ruff check --output-format=json" in done.stderr
    assert "baseline: nothing written to .promote-baseline.json" in done.stderr
    assert not (pytester.path / baseline.BASELINE_FILE).exists()
    done = record(pytester.path, "--stage", "nowhere")
    assert done.returncode == 4
    assert "'nowhere': not a stage of pyproject.toml [tool.promote]" in done.stderr


def test_a_broken_baseline_fails_closed(pytester: pytest.Pytester) -> None:
    make(pytester)
    (pytester.path / baseline.BASELINE_FILE).write_text('{"format": 1, "gates": {"lint": [1]}}')
    promote(pytester).assert_outcomes(passed=2, failed=2)
    entry = gate(pytester)
    assert entry["status"] == "error"
    assert ".promote-baseline.json: gates.lint[0] must be an object of the strings" in entry["summary"]


@pytest.mark.parametrize(("development", "staging", "key"), [
    ("lint = { baseline = false }", "lint = { baseline = true }", "lint.baseline"),
    ("types = { allow_stale = false }", "types = { allow_stale = true }", "types.allow_stale"),
    ("coverage = { ratchet = true }", "coverage = { ratchet = false }", "coverage.ratchet"),
    ("coverage = { new_lines = 80 }", "coverage = { new_lines = 70 }", "coverage.new_lines"),
    ("coverage = { files = { min = 50 } }", "coverage = { files = 10 }", "coverage.files.min"),
])
def test_hold_options_only_tighten(pytester: pytest.Pytester, development: str, staging: str, key: str) -> None:
    pytester.makepyprojecttoml(textwrap.dedent(f"""
        [tool.promote]
        stages = ["development", "staging"]
        [tool.promote.stage.development]
        required = ["tests"]
        {development}
        [tool.promote.stage.staging]
        {staging}
    """))
    result = pytester.runpytest("--promote-to=development")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"*stage.staging.{key} = *: a later stage may only tighten*"])


def test_lint_ratchet_allows_no_more_findings_than_the_last_accepted_record(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    from gitrepo import Repo

    repo = Repo(pytester.path, monkeypatch)
    make(pytester, POLICY.replace('required = ["tests", "lint"]',
                                  'required = ["tests", "lint"]\nlint = { ratchet = true }'))
    first = repo.commit("two findings")
    promote(pytester).assert_outcomes(passed=4)
    entry = gate(pytester)
    assert (entry["measured"], entry["threshold"]) == (2, "ratchet: nothing to hold to yet")
    assert "no accepted development record on an ancestor of HEAD yet" in entry["summary"]

    repo.commit("a third", {"pkg/mod.py": MODULE + "\n\ndef f():\n    y = 2\n"})
    promote(pytester).assert_outcomes(passed=2, failed=2)
    entry = gate(pytester)
    assert (entry["measured"], entry["threshold"]) == (3, "<= 2 (ratchet)")
    assert (f"lint: ruff check found 3 findings in pkg (at most 2 allowed for development: "
            f"the ratchet from {first[:12]}") in entry["summary"]
