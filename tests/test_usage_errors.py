"""Bad input is a UsageError (exit 4) naming file, key, value and the fix; never a traceback."""

from __future__ import annotations

import json
import textwrap

import pytest
from gitrepo import NO_CACHE, THREE_STAGES

from pytest_promote.ledger.records import REF

GATE = """
[tool.promote]
stages = ["development"]
enforce_path = false
[tool.promote.gates.{gid}]
command = "true"
{extra}
[tool.promote.stage.development]
required = ["tests"]
"""


def usage_error(result: pytest.RunResult, *lines: str) -> None:
    """The run was a usage error saying ``lines``, with no traceback."""
    said = result.stdout.str() + result.stderr.str()
    assert result.ret == pytest.ExitCode.USAGE_ERROR, said
    assert "Traceback" not in said and "INTERNALERROR" not in said, said
    result.stderr.fnmatch_lines(list(lines))


@pytest.mark.parametrize(
    ("pyproject", "message"),
    [
        ('[tool]\npromote = "x"\n', "*pyproject.toml: tool.promote = 'x': expected a table: [[]tool.promote[]]"),
        (GATE.format(gid="g", extra='kind = ["command"]'),
         "*gates.g.kind = [[]'command'[]]: unknown gate kind; expected one kind's name (a string)*"),
        (GATE.format(gid="g", extra="timeout = nan"),
         "*gates.g.timeout = nan: expected a finite number (not nan or inf)"),
        (GATE.format(gid="g", extra="timeout = inf"),
         "*gates.g.timeout = inf: expected a finite number (not nan or inf)"),
        (GATE.format(gid="g", extra="tail = -5"),
         "*gates.g.tail = -5: out of range: use a number from 0 to 10000"),
        (GATE.format(gid="secrets", extra="").replace('command = "true"', "workers = 100000"),
         "*gates.secrets.workers = 100000: out of range: use a number from 0 to 256"),
        (GATE.format(gid="invariants", extra="").replace('command = "true"', "count = -1"),
         "*gates.invariants.count = -1: out of range: use a number from 0 to 1e+06"),
        (GATE.format(gid='"a|b"', extra=""),
         "*gates.\"a|b\" = 'a|b': a gate id is letters, digits, '_', '-' and '.' only; rename it"),
        (GATE.format(gid='"a\\nb"', extra=""),
         "*gates.\"a\\nb\" = 'a\\nb': a gate id is letters, digits, '_', '-' and '.' only; rename it"),
        (GATE.format(gid="scorecard", extra=""),
         "*gates.scorecard = 'scorecard': reserved for the verdict item (promote::scorecard)*"),
    ],
)
def test_bad_policy_is_a_usage_error(pytester: pytest.Pytester, pyproject: str, message: str) -> None:
    pytester.makepyprojecttoml(textwrap.dedent(pyproject))
    usage_error(pytester.runpytest("--promote-to=development"), message)


def test_a_promote_config_that_is_a_directory_not_utf8_or_not_a_table(pytester: pytest.Pytester) -> None:
    # (`tool = "x"` in pyproject.toml is pytest's own crash, before any plugin loads.)
    (pytester.path / "policy.toml").write_text('tool = "x"\n')
    usage_error(pytester.runpytest("--promote-to=development", "--promote-config=policy.toml"),
                "*policy.toml: tool = 'x': expected a table: [[]tool[]]")
    pytester.mkdir("policy")
    usage_error(pytester.runpytest("--promote-to=development", "--promote-config=policy"),
                "*--promote-config: path = '*policy': a directory; name a TOML file")
    (pytester.path / "latin1.toml").write_bytes(b'stages = ["d\xe9v"]\n')
    usage_error(pytester.runpytest("--promote-to=development", "--promote-config=latin1.toml"),
                "*latin1.toml: (file) = '': not UTF-8 (invalid continuation byte at byte 12); "
                "save it as UTF-8")


def test_missing_or_malformed_junit_is_a_usage_error(project) -> None:
    pytester = project()
    args = ("--promote-to=development", "--promote-only")
    usage_error(pytester.runpytest(*args, "--promote-junit=missing.xml"),
                "*--promote-junit = 'missing.xml': cannot be read (No such file or directory)*")
    (pytester.path / "broken.xml").write_text("<testsuites><testsuite>")
    usage_error(pytester.runpytest(*args, "--promote-junit=broken.xml"),
                "*--promote-junit = 'broken.xml': not valid XML (*); give the file pytest's "
                "--junitxml wrote")
    (pytester.path / "other.xml").write_text("<html/>")
    usage_error(pytester.runpytest(*args, "--promote-junit=other.xml"),
                "*--promote-junit = 'other.xml': not a JUnit XML report (its root is <html>)*")


def test_two_plugins_providing_one_gate_kind_are_named(project) -> None:
    pytester = project()
    pytester.makeconftest("""
        from pytest_promote.api import Gate

        class MyLint(Gate):
            pass

        def pytest_promote_gate_kinds():
            return {"lint": MyLint}
    """)
    usage_error(pytester.runpytest("--promote-to=development"),
                "*pytest_promote_gate_kinds: kind = 'lint': provided by both *conftest.py and "
                "promote-gates; rename one of the kinds (or uninstall one plugin)")


def test_a_plugins_kind_name_must_be_a_valid_gate_id(project) -> None:
    pytester = project()
    pytester.makeconftest("""
        from pytest_promote.api import Gate

        def pytest_promote_gate_kinds():
            return {"my kind": Gate}
    """)
    usage_error(pytester.runpytest("--promote-to=development"),
                "*pytest_promote_gate_kinds of *conftest.py: kind = 'my kind': a gate id is *")


def test_unwritable_outputs_are_errors_that_keep_the_ledger_record(
    git_project, git, monkeypatch
) -> None:
    pytester = git_project(THREE_STAGES)
    (pytester.path / "a-file").write_text("")
    git("add", "a-file")  # committed: a clean tree's run is recorded, also outside CI
    git("commit", "-q", "-m", "a file where the outputs' directory should be")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(pytester.path))  # a directory
    result = pytester.runpytest(
        "--promote-to=development", "--promote-summary=a-file/summary.md",
        "--promote-report=a-file/report.json", *NO_CACHE,
    )
    said = result.stdout.str()
    assert result.ret == pytest.ExitCode.USAGE_ERROR, said
    assert "Traceback" not in said and "INTERNALERROR" not in said
    result.stdout.fnmatch_lines([
        "ERROR: --promote-report = 'a-file/report.json': cannot be written (File exists); "
        "give a writable file path",
        "ERROR: --promote-summary = 'a-file/summary.md': cannot be written (File exists)*",
        f"ERROR: GITHUB_STEP_SUMMARY = '{pytester.path}': cannot be written (Is a directory)*",
    ])
    note = git("notes", f"--ref={REF}", "show", "HEAD")
    (record,) = [json.loads(line) for line in note.splitlines()]
    assert record["stage"] == "development"
