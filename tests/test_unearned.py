"""Accepted means proven: each row is a way to try for an acceptance a run did not earn.

The project's suite has a test that fails (or a module that cannot be imported). Each
row runs a promotion some other way than the plain whole-suite run from the rootdir on
the committed tree, and must end **not accepted**, saying why in the terminal, in the
JSON report and in the ledger record; ``verify`` rejects its report. A row that is
accepted is a bug in the proof, never a case to skip.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from children import ADDOPTS, PYTEST_INI
from gitrepo import Repo
from test_whole_suite import GOOD

from conftest import BASIC_POLICY
from pytest_promote.cli.main import main

POLICY = BASIC_POLICY + """
[tool.promote.components.good]
source = ["src/good/"]
tests = ["tests/good/"]

[tool.promote.components.bad]
source = ["src/bad/"]
tests = ["tests/bad/"]
""" + PYTEST_INI
#: The same, with the tests advisory: a failing test leaves it YELLOW, which
#: development accepts.
LAX = POLICY.replace('required = ["tests"]\nadvisory = ["invariants"]',
                     'required = []\nadvisory = ["tests", "invariants"]')

FILES = {
    "pyproject.toml": POLICY,
    ".gitignore": "*.xml\n*.promote.json\nshards/\n.pytest_cache/\n__pycache__/\nr.json\n"
                  "stdout\nstderr\n.no-global-gitconfig\n",
    "src/good/__init__.py": "",
    "src/bad/__init__.py": "",
    "tests/good/test_good.py": GOOD,
    "tests/good/sub/test_sub.py": "def test_sub():\n    pass\n",
    "tests/bad/test_bad.py": "def test_bad():\n    assert False\n",
    # A plugin that drops the failing test, as a committed helper module might.
    "deselector.py": (
        "def pytest_collection_modifyitems(config, items):\n"
        "    kept = [i for i in items if 'bad' not in i.nodeid]\n"
        "    config.hook.pytest_deselected(items=[i for i in items if i not in kept])\n"
        "    items[:] = kept\n"
    ),
    # A committed alternative pytest configuration that collects less.
    "alt.ini": "[pytest]\npython_files = test_good.py test_sub.py\n",
}
UNIMPORTABLE = {"tests/bad/test_bad.py": "import no_such_module_anywhere\n\ndef test_bad():\n    pass\n"}

Setup = Callable[["Project"], None]


class Project:
    """The committed project and what a row does to it before the run."""

    def __init__(self, pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
        self.pytester = pytester
        self.monkeypatch = monkeypatch
        self.path = pytester.path
        self.repo = Repo(pytester.path, monkeypatch)
        self.repo.commit("the project", FILES)

    def run(self, *args: str) -> pytest.RunResult:
        return self.pytester.runpytest("--promote-to=development", *args)

    def commit(self, files: dict[str, str]) -> None:
        self.repo.commit("change", files)


def fixed_then_broken(project: Project) -> None:
    """An earlier commit where every test passed left its JUnit XML and manifest."""
    project.commit({"tests/bad/test_bad.py": "def test_bad():\n    pass\n"})
    assert project.run("--junitxml=old.xml", "--promote-no-ledger").ret == 0
    project.commit({"tests/bad/test_bad.py": FILES["tests/bad/test_bad.py"]})


def made_up_results(project: Project) -> None:
    """A JUnit XML of made-up tests, with a manifest claiming this commit and tree."""
    names = ["test_made_up_1", "test_made_up_2", "test_made_up_3", "test_made_up_4"]
    cases = "".join(f'<testcase classname="tests.fake" name="{n}" time="0"/>' for n in names)
    xml = project.path / "made.xml"
    xml.write_text(f'<testsuites><testsuite name="pytest" tests="4">{cases}</testsuite></testsuites>')
    from pytest_promote.runner import results

    manifest = {
        "format": results.FORMAT, "version": results.VERSION,
        "commit": project.repo.git("rev-parse", "HEAD"), "tree": project.repo.git("rev-parse", "HEAD^{tree}"),
        "dirty": [], "junit": results.sha256(xml), "coverage": {},
        "tests": [{"id": f"tests/fake.py::{n}", "outcome": "passed", "markers": ["invariant"]} for n in names],
    }
    results.manifest_path(xml).write_text(json.dumps(manifest))


def bare_junit(project: Project) -> None:
    """A JUnit XML of the four tests that pass, written by plain pytest (no manifest)."""
    assert project.pytester.runpytest("--deselect", "tests/bad/test_bad.py::test_bad",
                                      "--junitxml=bare.xml").ret == 0


def edited_junit(project: Project) -> None:
    """This commit's own JUnit XML and manifest, the failure edited out afterwards."""
    project.run("--junitxml=mine.xml", "--promote-no-ledger")
    xml = project.path / "mine.xml"
    text = xml.read_text()
    start = text.index("<failure")
    xml.write_text(text[:start] + text[text.index("</failure>") + len("</failure>"):])


def good_shard(project: Project) -> None:
    """A shard of component ``good`` only, left for a whole-repository final job."""
    assert project.run("--promote-component=good", "--promote-shard=shards/good").ret == 0


def lax_elsewhere(project: Project) -> None:
    """A laxer policy outside the repository."""
    (project.path.parent / "lax.toml").write_text(LAX)


def lax_uncommitted(project: Project) -> None:
    """The committed policy, made laxer and not committed."""
    (project.path / "pyproject.toml").write_text(LAX)


def untracked_conftest(project: Project) -> None:
    """A conftest.py nobody committed, dropping the failing test."""
    (project.path / "conftest.py").write_text(FILES["deselector.py"])


def ignored_conftest(project: Project) -> None:
    """A conftest.py git ignores, so the tree stays clean, leaving the failing test out."""
    project.commit({".gitignore": FILES[".gitignore"] + "conftest.py\n"})
    (project.path / "conftest.py").write_text('collect_ignore = ["tests/bad"]\n')


def no_tests_gate(project: Project) -> None:
    """A stage whose gates judge no test: its failures are still pytest's failures."""
    project.commit({"pyproject.toml": POLICY.replace('required = ["tests"]\nadvisory = ["invariants"]',
                                                     'required = ["invariants"]')})


def last_failed(project: Project) -> None:
    """pytest's cache says only a passing test failed last time."""
    cache = project.path / ".pytest_cache" / "v" / "cache"
    cache.mkdir(parents=True)
    (cache / "lastfailed").write_text(json.dumps({"tests/good/test_good.py::test_one": True}))


def addopts(project: Project) -> None:
    """The committed configuration itself deselects the failing test."""
    project.commit({"pyproject.toml": POLICY.replace(ADDOPTS, ADDOPTS[:-1] + ' -k \'not bad\'"')})


def stale_cache(project: Project) -> None:
    """The suite was cached on an earlier commit without the failing test."""
    project.commit({"tests/bad/test_bad.py": "def test_bad():\n    pass\n"})
    project.run("--promote-no-ledger")
    project.commit({"tests/bad/test_bad.py": "def test_bad():\n    pass\n\ndef test_worse():\n    assert False\n"})


def unimportable(project: Project) -> None:
    project.commit(UNIMPORTABLE)


def chdir(where: str) -> Setup:
    def setup(project: Project) -> None:
        project.monkeypatch.chdir(project.path / where)
    return setup


def env(name: str, value: str) -> Setup:
    def setup(project: Project) -> None:
        project.monkeypatch.setenv(name, value)
    return setup


def nothing(project: Project) -> None:
    pass


JUDGE_ONLY = ("--promote-only",)
# (setup, arguments, what the run must say is why it is not accepted)
ROWS: dict[str, tuple[Setup, tuple[str, ...], str]] = {
    # What the issue names.
    "subdirectory": (chdir("tests/good/sub"), (), "running from tests/good/sub"),
    "--ignore": (nothing, ("--ignore=tests/bad/test_bad.py",), "--ignore"),
    "--ignore-glob": (nothing, ("--ignore-glob=*bad*",), "--ignore-glob"),
    "-o python_files": (nothing, ("-o", "python_files=test_good.py"), "-o"),
    "-o testpaths": (nothing, ("-o", "testpaths=tests/good"), "-o"),
    "PYTEST_ADDOPTS --ignore": (env("PYTEST_ADDOPTS", "--ignore=tests/bad"), (), "PYTEST_ADDOPTS="),
    "PYTEST_ADDOPTS -o": (env("PYTEST_ADDOPTS", "-o python_files=test_good.py"), (), "PYTEST_ADDOPTS="),
    "unimportable, -n 2": (unimportable, ("-n", "2"), "tests/bad/test_bad.py: could not be collected"),
    "unimportable, --continue-on-collection-errors": (
        unimportable, ("--continue-on-collection-errors",), "tests/bad/test_bad.py: could not be collected"),
    "--promote-config elsewhere": (lax_elsewhere, ("--promote-config=../lax.toml",), "is outside the repository"),
    "policy not committed": (lax_uncommitted, (), "has uncommitted changes"),
    "--promote-junit of an older commit": (
        fixed_then_broken, (*JUDGE_ONLY, "--promote-junit=old.xml"), "is of commit"),
    "--promote-junit of made-up tests": (
        made_up_results, (*JUDGE_ONLY, "--promote-junit=made.xml"), "not in the suite"),
    "--promote-junit without a manifest": (
        bare_junit, (*JUDGE_ONLY, "--promote-junit=bare.xml"), "has no results manifest"),
    "--promote-junit edited after the run": (
        edited_junit, (*JUDGE_ONLY, "--promote-junit=mine.xml"), "changed after the run"),
    "a component's shard judged as the whole suite": (
        good_shard, (*JUDGE_ONLY, "--promote-from=shards/*"), "partial: 3 of 4 tests"),
    # The earlier exclusions, still not accepted.
    "-k": (nothing, ("-k", "not bad"), "-k 'not bad'"),
    "--deselect": (nothing, ("--deselect", "tests/bad/test_bad.py::test_bad"), "--deselect"),
    "path arguments": (nothing, ("tests/good",), "the arguments tests/good"),
    "--lf": (last_failed, ("--lf",), "--lf"),
    "dirty tree": (untracked_conftest, (), "working tree dirty"),
    "stale cache": (stale_cache, ("-k", "not worse"), "-k 'not worse'"),
    "PROMOTE_NOW": (env("PROMOTE_NOW", "2026-01-01T00:00:00+00:00"), (), "PROMOTE_NOW="),
    # Ways nobody listed.
    "failures no gate judges": (no_tests_gate, (), "1 failed, 0 not collected, and no gate of development"),
    "a conftest.py git ignores": (ignored_conftest, (), "conftest.py ignored by git"),
    "-p plugin": (nothing, ("-p", "deselector"), "-p"),
    "PYTEST_PLUGINS": (env("PYTEST_PLUGINS", "deselector"), (), "PYTEST_PLUGINS="),
    "-c another configuration": (nothing, ("-c", "alt.ini"), "chosen by -c"),
    "--rootdir below the root": (nothing, ("--rootdir=tests/good",), "chosen by --rootdir"),
    "-m": (nothing, ("-m", "invariant"), "-m 'invariant'"),
    "addopts of the committed configuration": (addopts, (), "-k 'not bad'"),
    "--pyargs": (nothing, ("--pyargs", "tests/good"), "the arguments"),
    "unimportable, serially": (unimportable, (), "tests/bad/test_bad.py: could not be collected"),
    "a gates-only run": (nothing, ("-m", "promote"), "-m 'promote'"),
    "--promote-only with no results": (nothing, JUDGE_ONLY, "the suite run is not proven"),
}


def said(pytester: pytest.Pytester) -> dict[str, Any]:
    """The JSON report the row's run wrote."""
    return json.loads((pytester.path / "r.json").read_text(encoding="utf-8"))


def ledger_lines(project: Project) -> list[dict[str, Any]]:
    try:
        note = project.repo.git("notes", "--ref=refs/notes/promote", "show", "HEAD")
    except Exception:  # no record at all: nothing can be accepted
        return []
    return [json.loads(line) for line in note.splitlines() if line.strip()]


@pytest.mark.parametrize("row", list(ROWS))
def test_no_unearned_acceptance(row: str, pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch,
                                capsys: pytest.CaptureFixture[str]) -> None:
    setup, args, why = ROWS[row]
    project = Project(pytester, monkeypatch)
    pytester.syspathinsert()  # as `python -m pytest` puts the rootdir on sys.path
    setup(project)
    report = project.path / "r.json"
    result = project.run(*args, f"--promote-report={report}")
    out = result.stdout.str()
    assert "not accepted" in out, out
    assert why in out, out

    data = said(pytester)
    assert data["accepted"] is False
    told = json.dumps([data["caveats"], data["reasons"], [g["findings"] for g in data["gates"]]])
    assert why in told.replace("\\\\", "\\"), told

    records = ledger_lines(project)
    if not records:  # outside CI, a run on a tree that is not HEAD's leaves no record
        assert "ledger: not recorded: working tree dirty" in out, "every other run is recorded"
    assert not any(r["accepted"] and not r["caveats"] for r in records if r["stage"] == "development")
    if data["caveats"] and records:
        assert any(why in c for c in records[-1]["caveats"]), records[-1]

    capsys.readouterr()
    monkeypatch.chdir(project.path)
    assert main(["verify", str(report), "--stage", "development", "--root", str(project.path)]) == 1
    assert "REJECTED" in capsys.readouterr().err


def test_the_plain_run_of_the_whole_suite_is_accepted_and_verified(
        pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    project = Project(pytester, monkeypatch)
    project.commit({"tests/bad/test_bad.py": "def test_bad():\n    pass\n"})
    result = project.run("--promote-report=r.json", "-p", "no:cacheprovider")
    assert result.ret == 0, result.stdout.str()
    result.stdout.fnmatch_lines(["stage development: GREEN: accepted*", "policy: pyproject.toml*sha256:*"])
    data = said(pytester)
    assert data["accepted"] is True and data["caveats"] == []
    assert data["policy_digest"].startswith("sha256:")
    assert main(["verify", str(project.path / "r.json"), "--stage", "development",
                 "--root", str(project.path)]) == 0


def test_a_committed_policy_file_is_accepted_but_verify_needs_the_same_policy(
        pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    project = Project(pytester, monkeypatch)
    project.commit({"lax.toml": LAX, "tests/bad/test_bad.py": "def test_bad():\n    pass\n"})
    result = project.run("--promote-config=lax.toml", "--promote-report=r.json", "-p", "no:cacheprovider")
    assert said(pytester)["accepted"] is True, result.stdout.str()
    capsys.readouterr()
    report = str(project.path / "r.json")
    assert main(["verify", report, "--stage", "development", "--root", str(project.path)]) == 1
    err = capsys.readouterr().err
    digest = said(pytester)["policy_digest"][:19]
    assert f"lax.toml, {digest}, not by the policy in force, pyproject.toml [tool.promote]" in err, err
    assert main(["verify", report, "--stage", "development", "--root", str(project.path),
                 "--config", "lax.toml"]) == 0


def test_a_record_judged_by_another_policy_does_not_open_the_path(
        pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    project = Project(pytester, monkeypatch)
    project.commit({"pyproject.toml": POLICY.replace("enforce_path = false", ""), "lax.toml": LAX,
                    "tests/bad/test_bad.py": "def test_bad():\n    pass\n"})
    assert project.run("--promote-config=lax.toml", "-p", "no:cacheprovider").ret == 0
    result = pytester.runpytest("--promote-to=staging", "-p", "no:cacheprovider")
    assert result.ret == 1
    result.stdout.fnmatch_lines(["*development recorded GREEN* under policy sha256:*, not under the "
                                 "policy in force (sha256:*)*"])


@pytest.mark.skipif(os.name != "posix", reason="a POSIX path outside the project")
def test_every_output_names_the_policy_that_judged(
        pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    project = Project(pytester, monkeypatch)
    lax_elsewhere(project)
    result = project.run("--promote-config=../lax.toml", "--promote-summary=s.md", "-p", "no:cacheprovider")
    result.stdout.fnmatch_lines([
        "promote: stage development (policy: *lax.toml, sha256:*)",
        "promote: policy *lax.toml, sha256:* is not the policy committed at HEAD: "
        "--promote-config=../lax.toml is outside the repository: judged, never accepted",
    ])
    assert "Policy: " in Path(project.path / "s.md").read_text()


def test_a_run_whose_collection_is_canonical_collects_once(
        pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    from pytest_promote.runner import canonical

    started: list[list[str]] = []
    start = canonical.BackgroundTool.start

    def counting(self: canonical.BackgroundTool) -> None:
        started.append(list(self.argv or []))
        start(self)

    monkeypatch.setattr(canonical.BackgroundTool, "start", counting)
    project = Project(pytester, monkeypatch)
    project.run("-q", "--tb=no", "-n", "2", "--promote-no-ledger")
    assert started == []  # its own collection is the canonical suite
    project.run("-k", "not bad", "--promote-no-ledger")
    assert started == []  # the suite that run stored, under this commit's tree
    project.run("-k", "not bad", "--promote-no-ledger", "-p", "no:cacheprovider")
    assert len(started) == 1 and "--collect-only" in started[0]  # nothing stored: collected
