"""``pytest --promote-precheck=STAGE FILE...``: the gates of a stage that judge files,
over the files given (what the pre-commit hook runs); the real tools, no tests."""

from __future__ import annotations

import pytest

POLICY = """
[tool.ruff.lint]
select = ["F"]

[tool.promote]
stages = ["development", "production"]
enforce_path = false

[tool.promote.gates]
lint = { paths = ["pkg"] }
secrets = { verify = false }

[tool.promote.stage.development]
required = ["tests", "secrets"]
advisory = ["lint"]

[tool.promote.stage.production]
required = ["tests", "secrets", "lint"]
"""


@pytest.fixture
def files(pytester: pytest.Pytester) -> pytest.Pytester:
    """A project: ``pkg/a.py`` and ``other/b.py`` import what they never use."""
    pytester.makepyprojecttoml(POLICY)
    pytester.mkpydir("pkg")
    pytester.mkpydir("other")
    (pytester.path / "pkg" / "a.py").write_text("import os\n", encoding="utf-8")
    (pytester.path / "other" / "b.py").write_text("import sys\n", encoding="utf-8")
    (pytester.path / "README.md").write_text("# A project\n", encoding="utf-8")
    pytester.makepyfile(test_a="def test_a():\n    assert 1\n")
    return pytester


def test_each_gate_judges_the_files_given_that_are_its_own(files: pytest.Pytester) -> None:
    result = files.runpytest("--promote-precheck=development", "README.md", "pkg/a.py",
                             "other/b.py", "gone.py")

    assert result.ret == 0  # the only failure is advisory
    result.stdout.fnmatch_lines([
        "promote pre-check: stage development (named), the gates that judge files, over the 3 "
        "files given; nothing is recorded: a pre-check is never a promotion",
        "  PASSED secrets (required): secrets: no new secret in 3 files (no baseline)",
        "  FAILED lint (advisory: does not block): lint: ruff check found 1 finding "
        "in pkg/a.py (0 allowed for development)",
        "    pkg/a.py:1: F401 `os` imported but unused",
        "  not judged here: tests (they judge the whole tree: pytest --promote-to=development "
        "judges them, at push and in CI)",
        "promote pre-check: no required gate of development failed on the 3 files given (secrets, "
        "lint judged them); not a promotion",
    ])
    assert "b.py" not in result.stdout.str()  # not under the lint gate's paths
    assert "no tests ran" in result.stdout.str().splitlines()[-1]


def test_a_required_gate_failing_fails_and_a_gate_given_none_of_its_files_does_not_run(
    files: pytest.Pytester,
) -> None:
    failed = files.runpytest("--promote-precheck=production", "pkg/a.py")
    assert failed.ret == 1
    failed.stdout.fnmatch_lines([
        "  FAILED lint (required): lint: ruff check found 1 finding in pkg/a.py (0 allowed for production)",
        "promote pre-check: FAILED: required gate lint of production failed on the files given",
    ])

    text = files.runpytest("--promote-precheck=production", "README.md")
    assert text.ret == 0
    text.stdout.fnmatch_lines([
        "  PASSED secrets (required): secrets: no new secret in 1 file (no baseline)",
        "  not run: lint (required): none of the files given is one it judges",
        "promote pre-check: no required gate of production failed on the 1 file given (secrets "
        "judged them); not a promotion",
    ])


def test_a_stage_s_pass_over_unchanged_inputs_stands_for_the_files_given(
    files: pytest.Pytester,
) -> None:
    (files.path / "pkg" / "a.py").write_text("import os\n\nSEP = os.sep\n", encoding="utf-8")
    files.runpytest("--promote-to=production").assert_outcomes(passed=5)  # a test, 3 gates, the scorecard

    reused = files.runpytest("--promote-precheck=production", "pkg/a.py")
    assert reused.ret == 0
    reused.stdout.fnmatch_lines(["  PASSED lint (required): lint: cached: the stage's last run passed "
                                 "over every file, inputs unchanged; ruff check found nothing in pkg"])

    (files.path / "pkg" / "a.py").write_text("import os\n\nSEP = os.sep\nX = 1\n", encoding="utf-8")
    fresh = files.runpytest("--promote-precheck=production", "pkg/a.py")
    fresh.stdout.fnmatch_lines(["  PASSED lint (required): lint: ruff check found nothing in pkg/a.py"])
    again = files.runpytest("--promote-precheck=production", "pkg/a.py")
    again.stdout.fnmatch_lines(["  PASSED lint (required): lint: cached, inputs unchanged; ruff check "
                                "found nothing in pkg/a.py"])
    stage = files.runpytest("--promote-to=production")
    stage.stdout.fnmatch_lines(["*lint*required*passed*"])
    assert "cached" not in stage.stdout.str()  # the pre-check's result is kept apart


def test_a_pre_check_is_no_promotion(files: pytest.Pytester) -> None:
    result = files.runpytest("--promote-precheck=development", "--promote-to=development", "pkg/a.py")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: --promote-precheck judges files, no promotion: drop --promote-to*"])


def test_a_stage_the_policy_lacks_is_a_usage_error(files: pytest.Pytester) -> None:
    result = files.runpytest("--promote-precheck=productin", "pkg/a.py")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["ERROR: --promote-precheck: STAGE = 'productin': not a stage of *; did you mean 'production'*"])


def test_pyright_judges_the_python_files_given_its_configuration_keeps(pytester: pytest.Pytester) -> None:
    pytester.makepyprojecttoml(
        '[tool.pyright]\nexclude = ["gen"]\n\n[tool.promote.stage.development]\nrequired = ["types"]\n')
    for name in ("pkg", "gen"):
        pytester.mkpydir(name)
        (pytester.path / name / "t.py").write_text('X: int = "x"\n', encoding="utf-8")

    result = pytester.runpytest("--promote-precheck=development", "pkg/t.py", "gen/t.py")
    assert result.ret == 1
    result.stdout.fnmatch_lines([
        "  FAILED types (required): types: pyright: 1 error, 0 warnings in pkg/t.py gen/t.py *",
        "    pkg/t.py:1: reportAssignmentType *",
    ])
    assert "    gen/t.py" not in result.stdout.str()  # excluded by pyright's configuration

    excluded = pytester.runpytest("--promote-precheck=development", "gen/t.py")
    assert excluded.ret == 1  # judged nothing: never a pass
    excluded.stdout.fnmatch_lines([
        "  ERROR types (required): types: * judged as nothing: summary.filesAnalyzed is 0: pyright's "
        "include/exclude leave out every file given (gen/t.py), so it judged none of them*",
    ])


def test_files_the_tools_configuration_leaves_out_are_not_judged(pytester: pytest.Pytester) -> None:
    pytester.makepyprojecttoml(
        '[tool.ruff]\nextend-exclude = ["gen"]\n\n[tool.ruff.lint]\nselect = ["F"]\n\n'
        '[tool.promote.gates]\nsecrets = { exclude = ["fixtures/"], verify = false }\n\n'
        '[tool.promote.stage.development]\nrequired = ["lint", "secrets"]\n')
    pytester.mkpydir("gen")
    (pytester.path / "gen" / "g.py").write_text("import os\n", encoding="utf-8")
    (pytester.path / "fixtures").mkdir()
    (pytester.path / "fixtures" / "key.txt").write_text("no key here\n", encoding="utf-8")

    result = pytester.runpytest("--promote-precheck=development", "gen/g.py", "fixtures/key.txt")

    assert result.ret == 0
    result.stdout.fnmatch_lines([
        "  PASSED secrets (required): secrets: no new secret in 1 file*",
        "  not run: lint (required): none of the files given is one it judges",
        "promote pre-check: no required gate of development failed on the 2 files given (secrets judged them)*",
    ])
    only_excluded = pytester.runpytest("--promote-precheck=development", "fixtures/key.txt")
    only_excluded.stdout.fnmatch_lines(["  not run: secrets (required): none of the files given is one it judges"])
