"""Components: parts of one repository promoted through the stages on their own, in
real git repositories (monorepos of two and three components)."""

from __future__ import annotations

import json
import textwrap
import tomllib
from pathlib import Path

import pytest
from children import ADDOPTS
from gitrepo import NO_CACHE, Repo

from pytest_promote.cli.main import main
from pytest_promote.gates import builtin
from pytest_promote.ledger.records import records, validate
from pytest_promote.policy import loader
from pytest_promote.policy.model import Policy

#: Three stages; development needs the tests only (fast: no tool runs).
POLICY = f"""
[tool.pytest.ini_options]
{ADDOPTS}
pythonpath = ["src"]
testpaths = ["tests"]

[tool.promote]
stages = ["development", "staging", "production"]

[tool.promote.stage.development]
required = ["tests"]
"""

#: One component: its source, its tests.
COMPONENT = """
[tool.promote.components.{name}]
source = ["src/{name}/"]
tests = ["tests/{name}/"]
"""


def monorepo(pytester: pytest.Pytester | Path, monkeypatch: pytest.MonkeyPatch, names: list[str],
             failing: tuple[str, ...] = (), extra: str = "") -> Repo:
    """A git repository holding one component per name (two tests each; a failing
    third for the names in ``failing``), committed, in the pytester project (or the
    directory given)."""
    repo = Repo(pytester if isinstance(pytester, Path) else pytester.path, monkeypatch)
    files = {"pyproject.toml": POLICY + extra + "".join(COMPONENT.format(name=n) for n in names)}
    for name in names:
        files[f"src/{name}/__init__.py"] = ""
        files[f"src/{name}/core.py"] = "def answer():\n    return 42\n"
        files[f"tests/{name}/test_{name}.py"] = textwrap.dedent(f"""
            from {name}.core import answer

            def test_one():
                assert answer() == 42

            def test_two():
                assert answer() > 0
        """)
        if name in failing:
            files[f"tests/{name}/test_{name}.py"] += "\ndef test_broken():\n    assert False\n"
    repo.commit("the monorepo", files)
    return repo


def promote(pytester: pytest.Pytester, stage: str, component: str | None, *args: str) -> pytest.RunResult:
    chosen = [f"--promote-component={component}"] if component else []
    return pytester.runpytest(f"--promote-to={stage}", *chosen, "--promote-report=r.json",
                              *NO_CACHE, *args)


def report(pytester: pytest.Pytester) -> dict:
    return json.loads((pytester.path / "r.json").read_text())


def gate(pytester: pytest.Pytester, gid: str) -> dict:
    return next(g for g in report(pytester)["gates"] if g["id"] == gid)


def test_a_component_judges_its_own_tests_and_records_its_name(pytester, monkeypatch) -> None:
    repo = monorepo(pytester, monkeypatch, ["alpha", "beta"], failing=("beta",))
    result = promote(pytester, "development", "alpha")
    assert result.ret == 0
    result.stdout.fnmatch_lines([
        "promote: component alpha: its tests (tests/alpha/), its gates over src/alpha tests/alpha",
        "tests/alpha/test_alpha.py ..*",
        "component alpha, stage development: GREEN: accepted*",
    ])
    assert "test_beta" not in result.stdout.str()  # beta's tests (one fails) are not alpha's
    data = report(pytester)
    assert (data["component"], data["partial"], data["accepted"]) == ("alpha", None, True)
    assert gate(pytester, "tests")["measured"] == "2 passed, 0 failed"
    (record,) = records(repo.path)
    assert (record.component, record.stage, record.proves) == ("alpha", "development", True)
    note = repo.git("notes", "--ref=promote", "show", "HEAD")
    assert json.loads(note)["component"] == "alpha"

    # The whole repository's run judges every test, beta's failing one too, and its
    # record names no component: its note line reads as before components existed.
    assert promote(pytester, "development", None).ret == 1
    whole = [r for r in records(repo.path) if r.component is None]
    assert [r.colour for r in whole] == ["red"]
    assert report(pytester)["component"] is None
    assert all("component" not in json.loads(line) or json.loads(line)["component"]
               for line in repo.git("notes", "--ref=promote", "show", "HEAD").splitlines())


def test_naming_the_component_s_own_tests_is_its_whole_suite(pytester, monkeypatch) -> None:
    monorepo(pytester, monkeypatch, ["alpha", "beta"], failing=("beta",))
    named = promote(pytester, "development", "alpha", "tests/alpha")
    assert named.ret == 0, named.stdout.str()
    assert report(pytester)["partial"] is None
    one = promote(pytester, "development", "alpha", "tests/alpha/test_alpha.py::test_one")
    assert one.ret == 1
    assert report(pytester)["partial"] == {
        "ran": 1, "total": 2, "left_out_by": ["the arguments tests/alpha/test_alpha.py::test_one"]}
    fewer = promote(pytester, "development", "alpha", "--deselect=tests/alpha/test_alpha.py::test_two")
    assert fewer.ret == 1
    assert report(pytester)["partial"] == {"ran": 1, "total": 2, "left_out_by": ["--deselect"]}
    fewer.stdout.fnmatch_lines(["*1 of 2 tests left out by --deselect*"])


def test_one_component_s_record_never_satisfies_another_s_path_gate(pytester, monkeypatch) -> None:
    monorepo(pytester, monkeypatch, ["alpha", "beta"])
    assert promote(pytester, "development", "alpha").ret == 0

    beta = promote(pytester, "staging", "beta")
    assert beta.ret == 1
    assert gate(pytester, "path")["status"] == "failed"
    beta.stdout.fnmatch_lines([
        "path: HEAD * has no accepted development record of component beta, required before staging*",
    ])
    # Nor does a component's record stand for the whole repository.
    assert promote(pytester, "staging", None).ret == 1
    assert gate(pytester, "path")["measured"] == "development not recorded"

    alpha = promote(pytester, "staging", "alpha")
    assert alpha.ret == 0
    assert gate(pytester, "path")["summary"].startswith("path: HEAD was accepted for development")


def test_an_unchanged_component_keeps_its_record_a_changed_one_does_not(pytester, monkeypatch) -> None:
    repo = monorepo(pytester, monkeypatch, ["alpha", "beta", "gamma"], failing=("beta",))
    first = repo.git("rev-parse", "HEAD")
    for name in ("alpha", "beta", "gamma"):
        promote(pytester, "development", name)
    repo.commit("gamma answers differently", {"src/gamma/core.py": "def answer():\n    return 43 - 1\n"})

    alpha = promote(pytester, "staging", "alpha")
    assert alpha.ret == 0, alpha.stdout.str()
    assert gate(pytester, "path")["summary"].startswith(
        f"path: {first[:12]} (alpha's files identical to HEAD's) was accepted for development")
    gamma = promote(pytester, "staging", "gamma")
    assert gamma.ret == 1
    assert gate(pytester, "path")["measured"] == "development not recorded"

    status = pytester.runpytest("--promote-status", *NO_CACHE)
    assert status.ret == 0
    head = repo.git("rev-parse", "HEAD")
    status.stdout.fnmatch_lines([
        f"promotion ledger (refs/notes/promote): HEAD {head[:12]} on main",
        "component * stage * last accepted (rollback target) * last failed * HEAD",
        "(repository) * development * - * - * not recorded",
        f"alpha * development * {first[:12]} GREEN * - * accepted (unchanged since {first[:12]})",
        f"alpha * staging * {head[:12]} GREEN * - * accepted",
        "alpha * production * - * - * not recorded",
        f"beta * development * - * {first[:12]} RED * failed (unchanged since {first[:12]})",
        f"gamma * development * {first[:12]} GREEN * - * not recorded",
        f"gamma * staging * - * {head[:12]} RED * failed",
    ])
    rows = json.loads(pytester.runpytest("--promote-status", "--promote-json", *NO_CACHE).stdout.str())
    alpha_dev = next(r for r in rows["stages"] if (r["component"], r["stage"]) == ("alpha", "development"))
    assert (alpha_dev["head"], alpha_dev["unchanged_since"]) == ("accepted", first)

    one = pytester.runpytest("--promote-status", "--promote-component=gamma", *NO_CACHE)
    assert "alpha" not in one.stdout.str() and "(repository)" not in one.stdout.str()
    one.stdout.fnmatch_lines(["gamma * staging * - * RED * failed"])


def test_verify_checks_the_component(pytester, monkeypatch, capsys) -> None:
    monorepo(pytester, monkeypatch, ["alpha", "beta"])
    assert promote(pytester, "development", "alpha").ret == 0
    path = str(pytester.path / "r.json")
    root = ("--root", str(pytester.path))
    assert main(["verify", path, "--stage", "development", "--component", "alpha", *root]) == 0
    assert "OK: GREEN promotion of component alpha of " in capsys.readouterr().out
    assert main(["verify", path, "--stage", "development", *root]) == 1
    assert "it is for component 'alpha', not the whole repository; verify it with --component alpha" in (
        capsys.readouterr().err)
    assert main(["verify", path, "--stage", "development", "--component", "beta", *root]) == 1
    assert "it is for component 'alpha', not 'beta'" in capsys.readouterr().err

    assert promote(pytester, "development", None).ret == 0
    assert main(["verify", path, "--stage", "development", "--component", "alpha", *root]) == 1
    assert "it is for the whole repository, not component 'alpha'" in capsys.readouterr().err


#: Development requires coverage (60) and lint too.
LINT_AND_COVERAGE = """
[tool.coverage.run]
source = ["src"]

[tool.ruff.lint]
select = ["E", "F"]
"""


def test_coverage_and_lint_judge_the_component_s_files_only(pytester, monkeypatch) -> None:
    """alpha is tested and clean; beta's code is untested and has a lint finding: each
    component's coverage and lint see only its own files."""
    repo = monorepo(pytester, monkeypatch, ["alpha", "beta"], extra=LINT_AND_COVERAGE)
    policy_file = pytester.path / "pyproject.toml"
    policy_file.write_text(policy_file.read_text().replace(
        'required = ["tests"]', 'required = ["tests", "coverage", "lint"]\ncoverage = { min = 60 }'))
    repo.commit("beta grows", {"src/beta/more.py": textwrap.dedent("""
        import os


        def unused(a, b):
            if a:
                return b
            total = a + b
            total += 1
            total *= 2
            return total
    """), "src/beta/__init__.py": "from beta import more  # noqa: F401\n"})
    alpha = pytester.runpytest_subprocess(
        "--promote-to=development", "--promote-component=alpha", "--promote-report=r.json", *NO_CACHE)
    assert alpha.ret == 0, alpha.stdout.str()
    assert gate(pytester, "coverage")["measured"] == "100%"
    assert gate(pytester, "coverage")["summary"] == (
        "coverage 100% >= 60% required for development (component alpha's source)")
    assert gate(pytester, "lint")["summary"] == "lint: ruff check found nothing in src/alpha tests/alpha"

    beta = pytester.runpytest_subprocess(
        "--promote-to=development", "--promote-component=beta", "--promote-report=r.json", *NO_CACHE)
    assert beta.ret == 1
    coverage = gate(pytester, "coverage")
    assert coverage["status"] == "failed"
    assert {f["file"] for f in coverage["findings"]} == {"src/beta/more.py"}
    assert [(f["file"], f["rule"]) for f in gate(pytester, "lint")["findings"]] == [
        ("src/beta/more.py", "F401")]


@pytest.mark.parametrize(("args", "said"), [
    (["--promote-component=alhpa"], "*--promote-component: NAME = 'alhpa': not a component of "
                                    "pyproject.toml [[]tool.promote]; did you mean 'alpha'?*"),
    (["--promote-component=alpha", "--promote-to=nowhere"], "*not a stage of*"),
    (["--promote-component=auto"], "*--promote-component=auto judges the components changed since a base: "
                                   "no base to measure the change from; pass --promote-base=REF"),
    (["--promote-component=auto", "--promote-base=nowhere"], "*base 'nowhere' (--promote-base) names no commit*"),
    (["--promote-component=all", "--promote-sarif=s.sarif"], "*--promote-sarif with --promote-component=all: it "
                                                             "holds the verdict of one component; promote each *"),
])
def test_unknown_component_is_a_usage_error(pytester, monkeypatch, args, said) -> None:
    monorepo(pytester, monkeypatch, ["alpha", "beta"])
    result = pytester.runpytest(*(args if "--promote-to" in " ".join(args) else
                                  [*args, "--promote-to=development"]), *NO_CACHE)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([said])


def test_component_options_need_a_policy_with_components_and_a_stage(pytester, monkeypatch) -> None:
    files = {"pyproject.toml": POLICY, "test_x.py": "def test_x():\n    pass\n"}
    Repo(pytester.path, monkeypatch).commit("plain", files)
    none = pytester.runpytest("--promote-to=development", "--promote-component=alpha", *NO_CACHE)
    assert none.ret == pytest.ExitCode.USAGE_ERROR
    assert "the policy defines no component; add [tool.promote.components.alpha]" in none.stderr.str()
    every = pytester.runpytest("--promote-to=development", "--promote-component=all", *NO_CACHE)
    assert every.ret == pytest.ExitCode.USAGE_ERROR
    every.stderr.fnmatch_lines(["*--promote-component=all: the policy (pyproject.toml [[]tool.promote]) "
                                "defines no component; add [[]tool.promote.components.NAME] tables*"])
    alone = pytester.runpytest("--promote-component=alpha", *NO_CACHE)
    assert alone.ret == pytest.ExitCode.USAGE_ERROR
    alone.stderr.fnmatch_lines(["*--promote-component needs --promote-to=STAGE*"])


def test_a_component_s_tests_cannot_be_read_from_a_junit_xml(pytester, monkeypatch) -> None:
    monorepo(pytester, monkeypatch, ["alpha"])
    (pytester.path / "j.xml").write_text("<testsuites/>")
    result = pytester.runpytest("--promote-to=development", "--promote-component=alpha",
                                "--promote-only", "--promote-junit=j.xml", *NO_CACHE)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "the component's tests cannot be told from the others" in result.stderr.str()


def test_a_component_whose_globs_match_nothing_is_a_usage_error(pytester, monkeypatch) -> None:
    monorepo(pytester, monkeypatch, ["alpha"], extra=COMPONENT.format(name="ghost"))
    result = pytester.runpytest("--promote-to=development", "--promote-component=ghost", *NO_CACHE)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "components.ghost.source = ['src/ghost/']: matches no file under " in result.stderr.str()


def load(text: str) -> Policy:
    table = tomllib.loads(textwrap.dedent(text))["tool"]["promote"]
    return loader.load(table, "pyproject.toml [tool.promote]", builtin.pytest_promote_gate_kinds())


TIGHTENING = """
[tool.promote]
stages = ["development", "staging", "production"]
[tool.promote.stage.development]
required = ["tests"]
advisory = ["coverage"]
coverage = { min = 60 }
[tool.promote.stage.staging]
required = ["tests", "coverage"]
coverage = { min = 70 }
[tool.promote.stage.production]
coverage = { min = 80 }
[tool.promote.components.core]
source = ["src/core/", "!src/core/vendored/"]
tests = ["tests/core/"]
"""


def test_a_component_s_stages_inherit_the_repository_s_and_tighten_them() -> None:
    plain = load(TIGHTENING)
    core = plain.components["core"]
    assert [s.options["coverage"].min for s in core.stages] == [60, 70, 80]
    assert [s.required for s in core.stages] == [s.required for s in plain.stages]
    stricter = load(TIGHTENING + """
        [tool.promote.components.core.stage.development]
        required = ["coverage", "lint"]
        coverage = { min = 75 }
        [tool.promote.components.core.stage.staging]
        coverage = { min = 75 }
    """)
    development, staging, production = stricter.components["core"].stages
    assert development.required == ("tests", "coverage", "lint") and development.advisory == ()
    assert [development.options["coverage"].min, staging.options["coverage"].min,
            production.options["coverage"].min] == [75, 75, 80]
    assert "lint" in production.required and "path" in staging.required
    assert plain.stage("development").options["coverage"].min == 60  # the repository's unchanged


@pytest.mark.parametrize(("extra", "said"), [
    ("[tool.promote.components.core.stage.development]\ncoverage = { min = 50 }",
     "components.core.stage.development.coverage.min = 50.0: a component may only tighten: "
     "the repository's development has 60.0; use a value >= 60.0"),
    ("[tool.promote.components.core.stage.staging]\nadvisory = [\"coverage\"]",
     "components.core.stage.staging.advisory = ['coverage']: 'coverage' is required in the "
     "repository's staging; a component may only tighten it"),
    ("[tool.promote.components.core.stage.staging]\naccept = \"yellow\"",
     "components.core.stage.staging.accept = 'yellow': loosens the repository's staging"),
    ("[tool.promote.components.core.stage.qa]\naccept = \"green\"",
     "components.core.stage.qa = {'accept': 'green'}: not in stages"),
    ("[tool.promote.components.core.stage.development]\ncoverage = { min = 75 }",
     "components.core: stage.staging.coverage.min = 70.0: a later stage may only tighten: "
     "development has 75.0"),
    ("[tool.promote.components.more]\nsources = [\"src\"]",
     "components.more.sources = ['src']: unknown key; did you mean 'source'?"),
    ("[tool.promote.components.more]\nsource = [\"src/more/\"]",
     'components.more = {\'source\': [\'src/more/\']}: a component names its tests: tests = ["tests/more/"]'),
    ("[tool.promote.components.more]\nsource = [\"../elsewhere\"]\ntests = [\"t\"]",
     "components.more.source = ['../elsewhere']: `source` = '../elsewhere' leaves the project root"),
    ("[tool.promote.components.more]\nsource = [\"!src\"]\ntests = [\"t\"]",
     "components.more.source = ['!src']: name at least one path"),
    ("[tool.promote.components.all]\nsource = [\"src\"]\ntests = [\"t\"]",
     "components.all = 'all': reserved"),
    ("[tool.promote.components.\"a b\"]\nsource = [\"src\"]\ntests = [\"t\"]",
     "components.a b = 'a b': a component name is letters, digits"),
])
def test_a_component_that_loosens_or_is_malformed_is_a_usage_error(extra: str, said: str) -> None:
    with pytest.raises(pytest.UsageError) as caught:
        load(TIGHTENING + extra)
    assert said in str(caught.value)


def test_ledger_lines_name_their_component_or_none() -> None:
    line = {"stage": "development", "colour": "green", "accepted": True,
            "time": "2026-01-01T00:00:00+00:00"}
    assert validate({**line, "component": "alpha"}) is None
    assert validate({**line, "component": ""}) == 'component = "": expected a component name'
    assert validate({**line, "component": None}) is not None  # written only when named


def test_a_directory_wholly_a_component_s_is_given_to_its_tools_as_one_path(tmp_path: Path) -> None:
    core = load(TIGHTENING).components["core"]
    for rel in ("src/core/a.py", "src/core/sub/b.py", "src/core/vendored/v.py", "tests/core/test_a.py",
                "tests/other/test_o.py", "tests/conftest.py"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("")
    resolved = core.resolve(tmp_path, "pyproject.toml")
    assert resolved.paths == ("src/core/a.py", "src/core/sub", "tests/core")
    assert core.is_source("src/core/sub/b.py") and not core.is_source("src/core/vendored/v.py")


def test_files_named_one_by_one_keep_ruff_s_excludes(pytester, monkeypatch) -> None:
    repo = monorepo(pytester, monkeypatch, ["alpha"], extra=textwrap.dedent("""
        [tool.ruff]
        extend-exclude = ["src/generated_skip.py"]

        [tool.ruff.lint]
        select = ["E", "F"]

        [tool.promote.components.gen]
        source = ["src/generated_*.py"]
        tests = ["tests/alpha/"]
    """))
    policy_file = pytester.path / "pyproject.toml"
    policy_file.write_text(policy_file.read_text().replace('required = ["tests"]', 'required = ["tests", "lint"]'))
    repo.commit("generated code", {"src/generated_ok.py": "VALUE = 1\n",
                                   "src/generated_skip.py": "import os\n"})
    result = promote(pytester, "development", "gen")
    assert result.ret == 0, result.stdout.str()
    assert gate(pytester, "lint")["summary"] == (
        "lint: ruff check found nothing in src/generated_ok.py src/generated_skip.py tests")
