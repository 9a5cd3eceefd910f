"""The dirty check: what promotion runs wrote never makes a later run dirty; every file
the run reads that HEAD does not hold does, whether git ignores it or not."""

from __future__ import annotations

import json
import subprocess
import textwrap

import pytest

POLICY = """
[project]
name = "app"
version = "0"

[tool.pytest.ini_options]
pythonpath = ["."]

[tool.coverage.run]
source = ["app"]

[tool.ruff.lint]
select = ["F"]

[tool.promote]
stages = ["development", "staging", "production"]
paths = ["app"]

[tool.promote.gates]
secrets = { verify = false }

[tool.promote.stage.development]
required = ["tests"]

[tool.promote.stage.staging]
required = ["tests", "secrets", "lint"]

[tool.promote.stage.production]
required = ["tests", "secrets", "lint", "coverage"]
coverage = { min = 100 }
"""
#: Every output a promotion run and pytest can write into the tree.
OUTPUTS = ("--promote-report=report.json", "--promote-summary=summary.md",
           "--promote-sarif=findings.sarif", "--promote-codequality=codequality.json",
           "--junitxml=junit.xml")


def repository(pytester: pytest.Pytester, git, ignore: str | None = None) -> pytest.Pytester:
    """A fresh repository with one commit and, unless ``ignore``, no .gitignore."""
    pytester.makepyprojecttoml(POLICY)
    (pytester.path / "app").mkdir()
    (pytester.path / "app" / "__init__.py").write_text("def add(a: int, b: int) -> int:\n"
                                                       "    return a + b\n")
    pytester.makepyfile(test_app="from app import add\n\n\ndef test_add():\n"
                                 "    assert add(1, 2) == 3\n")
    if ignore is not None:
        (pytester.path / ".gitignore").write_text(ignore)
    git("init", "-q", "-b", "main")
    git("config", "user.name", "Tess Ter")
    git("config", "user.email", "tess@example.com")
    git("add", "-A")
    git("commit", "-q", "-m", "first")
    return pytester


def report(pytester: pytest.Pytester) -> dict:
    return json.loads((pytester.path / "report.json").read_text(encoding="utf-8"))


def test_every_stage_is_accepted_with_every_output_in_a_tree_without_gitignore(
    pytester: pytest.Pytester, git
) -> None:
    repository(pytester, git)
    for stage in ("development", "staging", "production"):
        result = pytester.runpytest(f"--promote-to={stage}", *OUTPUTS)
        assert result.ret == 0, result.stdout.str()
        assert (report(pytester)["accepted"], report(pytester)["dirty"]) == (True, [])
        result.stdout.fnmatch_lines([f"stage {stage}: GREEN: accepted*"])
    untracked = set(git("ls-files", "--others", "--exclude-standard").splitlines())
    assert {"report.json", "junit.xml", "codequality.json", ".coverage"} <= untracked

    (pytester.path / "app" / "extra.py").write_text("VALUE = 1\n")  # a real new module
    pytester.runpytest("--promote-to=production", *OUTPUTS)
    assert (report(pytester)["accepted"], report(pytester)["dirty"]) == (False, ["app/extra.py"])


def test_an_output_changed_after_the_run_wrote_it_is_a_change_again(
    pytester: pytest.Pytester, git
) -> None:
    repository(pytester, git)
    pytester.runpytest("--promote-to=development", "--junitxml=junit.xml")
    with (pytester.path / "junit.xml").open("a", encoding="utf-8") as edited:
        edited.write("<!-- edited by hand -->\n")
    pytester.runpytest("--promote-to=development", "--promote-report=report.json")
    assert report(pytester)["dirty"] == ["junit.xml"]


@pytest.mark.parametrize(("ignore", "exclude", "files", "args"), [
    pytest.param("", "conftest.py\n", {"conftest.py": "import pytest\n"}, (), id="excluded-conftest"),
    pytest.param("*.json\n", "", {".promote-baseline.json": '{"format": 1, "gates": {}}\n'}, (),
                 id="baseline-under-a-json-rule"),
    pytest.param("test_hidden.py\n", "", {"test_hidden.py": "def test_hidden():\n    pass\n"}, (),
                 id="test-module"),
    pytest.param("test_hidden.py\n", "", {"test_hidden.py": "def test_hidden():\n    pass\n"},
                 ("-n", "2"), id="test-module-collected-by-xdist-workers"),
    pytest.param("policy.toml\n", "", {"policy.toml": POLICY}, ("--promote-config=policy.toml",),
                 id="policy"),
    pytest.param("sub/\n", "", {"sub/conftest.py": "", "sub/test_deep.py": "def test_deep():\n    pass\n"},
                 (), id="ignored-directory"),
])
def test_an_ignored_file_the_run_reads_makes_it_dirty(
    pytester: pytest.Pytester, git, ignore: str, exclude: str, files: dict[str, str],
    args: tuple[str, ...],
) -> None:
    repository(pytester, git, ignore=ignore + "report.json\n.pytest_cache/\n__pycache__/\n")
    (pytester.path / ".git" / "info" / "exclude").write_text(exclude)
    for name, text in files.items():
        (pytester.path / name).parent.mkdir(parents=True, exist_ok=True)
        (pytester.path / name).write_text(textwrap.dedent(text))
    assert not git("status", "--porcelain")  # git sees no change at all

    pytester.runpytest("--promote-to=development", "--promote-report=report.json", *args)

    assert (report(pytester)["accepted"], report(pytester)["dirty"]) == (False, sorted(files))


def test_an_ignored_file_the_run_does_not_read_is_no_change(pytester: pytest.Pytester, git) -> None:
    repository(pytester, git, ignore="notes.txt\nscratch/\n")
    (pytester.path / "notes.txt").write_text("to do\n")
    (pytester.path / "scratch").mkdir()
    (pytester.path / "scratch" / "draft.py").write_text("x = 1\n")
    pytester.runpytest("--promote-to=development", "--promote-report=report.json", "test_app.py")
    assert (report(pytester)["accepted"], report(pytester)["dirty"]) == (True, [])


def test_a_submodule_is_judged_by_its_own_status_whatever_its_ignore_setting(
    pytester: pytest.Pytester, git
) -> None:
    library = pytester.path.parent / f"{pytester.path.name}-library"
    library.mkdir()
    for args in (("init", "-q", "-b", "main"), ("config", "user.name", "L"),
                 ("config", "user.email", "l@example.com")):
        subprocess.run(["git", *args], cwd=library, check=True)
    (library / "lib.py").write_text("VALUE = 1\n")
    subprocess.run(["git", "add", "-A"], cwd=library, check=True)
    subprocess.run(["git", "commit", "-q", "-m", "lib"], cwd=library, check=True)
    repository(pytester, git, ignore="report.json\n__pycache__/\n")  # bytecode may be written
    git("-c", "protocol.file.allow=always", "submodule", "add", "-q", str(library), "lib")
    git("config", "-f", ".gitmodules", "submodule.lib.ignore", "all")
    git("add", "-A")
    git("commit", "-q", "-m", "with the library")
    pytester.runpytest("--promote-to=development", "--promote-report=report.json")
    assert report(pytester)["dirty"] == []

    (pytester.path / "lib" / "lib.py").write_text("VALUE = 2\n")  # uncommitted code
    assert not git("status", "--porcelain")  # hidden by ignore = all
    pytester.runpytest("--promote-to=development", "--promote-report=report.json")
    assert (report(pytester)["accepted"], report(pytester)["dirty"]) == (False, ["lib"])
