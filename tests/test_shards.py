"""Sharded promotion: shards as separate pytest processes (pytest-split, -k lists, node
ids, pytest-xdist inside), each leaving a bundle; a final --promote-only job judging
their union, whose verdict and gates must equal the unsharded run's."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from children import PYTEST_INI
from gitrepo import Repo, run_git

from pytest_promote.gates.coverage.sources import NoCoverage
from pytest_promote.runner.shard.bundle import COVERAGE_FILE, MANIFEST, Bundle, Position, Ran, read, without_bundles
from pytest_promote.runner.shard.union import ShardUnion, check
from pytest_promote.runner.testlog import TestLog

POLICY = """
[tool.promote]
stages = ["development", "staging", "production"]
paths = ["app"]
enforce_path = false

[tool.promote.gates]
invariants = { count = 1 }

[tool.promote.stage.development]
required = ["tests", "coverage", "invariants", "lint"]
coverage = { min = 50 }

[tool.coverage.run]
source = ["app"]
branch = true
""" + PYTEST_INI

APP = '''
def sign(x):
    if x > 0:
        return 1
    if x < 0:
        return -1
    return 0


def double(x):
    return 2 * x


def unused():
    return "never called"
'''

TEST_ONE = '''
import pytest
from app import double, sign


@pytest.mark.invariant
def test_positive():
    assert sign(3) == 1


@pytest.mark.parametrize("n", range(6))
def test_double(n):
    assert double(n) == 2 * n
'''

TEST_TWO = '''
from app import sign


def test_negative():
    assert sign(-2) == -1


def test_plain():
    assert True
'''

TEST_THREE = '''
import pytest


@pytest.mark.skip(reason="not today")
def test_skipped():
    pass


def test_three():
    assert 3 == 3
'''

FILES = {
    "pyproject.toml": POLICY,
    "app/__init__.py": APP,
    "tests/test_one.py": TEST_ONE,
    "tests/test_two.py": TEST_TWO,
    "tests/test_three.py": TEST_THREE,
}
#: Every test of FILES, as pytest names them.
SUITE = 11
PROMOTE = ("--promote-to=development", "-p", "no:cacheprovider")


def make_repo(work: Path, monkeypatch: pytest.MonkeyPatch) -> Repo:
    """The project, committed; the reports are ignored (the bundles are not)."""
    work.mkdir()
    repo = Repo(work, monkeypatch)
    repo.commit("app", FILES)
    with (work / ".gitignore").open("a") as ignore:
        ignore.write("whole.json\nfinal.json\n")
    repo.commit("ignore reports")
    return repo


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Repo:
    return make_repo(tmp_path / "work", monkeypatch)


@pytest.fixture(scope="module")
def first_shard(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project with the bundle of its first shard (``-k double``) in ``shards/1``,
    run once: the tests that go on from there (another commit, a dirty tree, a second
    run into the same directory, a bad bundle beside it) each take a copy of it."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        repo = make_repo(tmp_path_factory.mktemp("first-shard") / "work", monkeypatch)
        shard(repo.path, "shards/1", "-k", "double")
    return repo.path


@pytest.fixture
def sharded(first_shard: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Repo:
    """A copy of :func:`first_shard`'s project. Its bundle names the directory it ran in,
    another than this copy's, whose final job remaps its coverage as it does for any
    shard that ran in another checkout."""
    return Repo.copy(first_shard, tmp_path / "work", monkeypatch)


@pytest.fixture(scope="module")
def expected(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """What the unsharded run of the project judged (the same in every checkout)."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        repo = make_repo(tmp_path_factory.mktemp("whole") / "work", monkeypatch)
        report = whole(repo.path)
    assert report["colour"] == "green" and report["accepted"]
    assert gate(report, "tests")["measured"] == "10 passed, 0 failed, 1 skipped"
    assert gate(report, "coverage")["status"] == "passed"
    return judged(report)


def pytest_run(cwd: Path, *args: str, cache: bool = False) -> subprocess.CompletedProcess[str]:
    """One CI job: ``python -m pytest ARGS`` as its own process in ``cwd``; with
    ``cache``, pytest's cache on (it is off in the jobs that judge, whose gates would
    reuse what an earlier job of the same test left there)."""
    promote = PROMOTE if not cache else tuple(a for a in PROMOTE if a not in ("-p", "no:cacheprovider"))
    return subprocess.run(
        [sys.executable, "-m", "pytest", *promote, *args], cwd=cwd,
        capture_output=True, text=True, check=False, timeout=300,
    )


def whole(cwd: Path) -> dict[str, Any]:
    """The unsharded run's JSON report."""
    done = pytest_run(cwd, "--promote-no-ledger", "--promote-report=whole.json")
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads((cwd / "whole.json").read_text())


def shard(cwd: Path, bundle: Path | str, *args: str) -> None:
    """A shard job: its tests, no gate, a bundle.

    The jobs of one checkout share pytest's cache, as a CI runner's jobs of one commit
    may: a shard lists the whole suite (the canonical one) in a second process of
    pytest, and the first shard of a clean checkout keeps that listing in the cache,
    where the next shards of the same commit find it."""
    done = pytest_run(cwd, f"--promote-shard={bundle}", *args, cache=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "promote::" not in done.stdout  # no gate item ran
    assert f"shard bundle written to {bundle}" in done.stdout


def final(cwd: Path, pattern: str = "shards/*", status: int = 0) -> dict[str, Any]:
    """The final job's JSON report."""
    done = pytest_run(cwd, "--promote-only", f"--promote-from={pattern}",
                      "--promote-no-ledger", "--promote-report=final.json")
    assert done.returncode == status, done.stdout + done.stderr
    return json.loads((cwd / "final.json").read_text())


def judged(report: dict[str, Any]) -> dict[str, Any]:
    """What must equal between the unsharded and the sharded run: the verdict and every
    gate's status, summary, numbers and findings (not its duration)."""
    gates = [{k: v for k, v in g.items() if k not in ("duration", "cached")}
             for g in report["gates"]]
    keys = ("colour", "verdict", "accepted", "reasons", "caveats", "partial", "dirty")
    return {"gates": gates, **{k: report[k] for k in keys}}


def gate(report: dict[str, Any], gate_id: str) -> dict[str, Any]:
    return next(g for g in report["gates"] if g["id"] == gate_id)


@pytest.fixture(scope="module")
def split_but_two(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project with the bundles of pytest-split's shards 1 and 3 of 3 (the third with
    pytest-xdist inside), run once: one test judges them without the second shard, one
    runs the second and judges all three, each in a copy of it."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        repo = make_repo(tmp_path_factory.mktemp("split") / "work", monkeypatch)
        shard(repo.path, "shards/1", "--splits", "3", "--group", "1")
        shard(repo.path, "shards/3", "--splits", "3", "--group", "3", "-n", "2")
    return repo.path


def test_pytest_split_shards_and_xdist_inside_one_judge_as_the_whole_suite(
    split_but_two: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, expected: dict[str, Any]
) -> None:
    repo = Repo.copy(split_but_two, tmp_path / "work", monkeypatch)
    shard(repo.path, "shards/2", "--splits", "3", "--group", "2")
    manifests = [json.loads((repo.path / f"shards/{n}" / MANIFEST).read_text()) for n in (1, 2, 3)]
    assert [len(m["collected"]) for m in manifests] == [SUITE] * 3
    assert sum(len(m["ran"]) for m in manifests) == SUITE
    assert all((repo.path / f"shards/{n}" / COVERAGE_FILE).is_file() for n in (1, 2, 3))
    report = final(repo.path)
    assert judged(report) == expected
    assert [s["shard"]["index"] for s in report["shards"]] == [1, 2, 3]
    assert {s["commit"] for s in report["shards"]} == {report["commit"]}


def test_k_lists_and_node_id_lists_judge_as_the_whole_suite(sharded: Repo, expected: dict[str, Any]) -> None:
    repo = sharded  # its shards/1 ran with -k double
    shard(repo.path, "shards/2", "-k", "not double")
    assert judged(final(repo.path, "shards/*")) == expected
    # Paths on the command line: the shard lists the whole suite in a second process
    # (the first: the listing the -k shards cached is gone).
    shutil.rmtree(repo.path / ".pytest_cache")
    shard(repo.path, "ids/1", "tests/test_one.py")
    shard(repo.path, "ids/2", "tests/test_two.py", "tests/test_three.py::test_three",
          "tests/test_three.py::test_skipped")
    bundle = json.loads((repo.path / "ids/1" / MANIFEST).read_text())
    assert len(bundle["collected"]) == SUITE
    assert {"id": "tests/test_one.py::test_positive", "markers": ["invariant"]} in bundle["collected"]
    assert judged(final(repo.path, "ids/*")) == expected


def test_a_missing_shard_fails_the_tests_gate_naming_it_and_its_tests(
    split_but_two: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = Repo.copy(split_but_two, tmp_path / "work", monkeypatch)
    report = final(repo.path, status=1)
    assert report["colour"] == "red" and not report["accepted"]
    tests = gate(report, "tests")
    assert tests["status"] == "failed"
    messages = [f["message"] for f in tests["findings"]]
    assert "shard 2 of 3 left no bundle (the others ran with pytest-split --splits 3 --group 1)" in messages
    bundle_two = json.loads((repo.path / "shards/1" / MANIFEST).read_text())["collected"]
    ran = {r["id"] for n in (1, 3) for r in json.loads((repo.path / f"shards/{n}" / MANIFEST).read_text())["ran"]}
    left_out = sorted({c["id"] for c in bundle_two} - ran)
    assert left_out and sorted(f["message"] for f in tests["findings"] if f["rule"] == "not-run") == left_out
    assert report["partial"]["total"] == SUITE and report["partial"]["ran"] == SUITE - len(left_out)


def test_no_bundle_at_all_is_red(repo: Repo) -> None:
    report = final(repo.path, "nowhere/*", status=1)
    assert report["colour"] == "red"
    assert "matched no shard bundle" in gate(report, "tests")["summary"]
    assert gate(report, "coverage")["status"] == "error"


def test_a_shard_of_another_commit_fails_and_its_coverage_is_not_judged(sharded: Repo) -> None:
    sharded.commit("change", {"app/__init__.py": APP + "\n\ndef more():\n    return 1\n"})
    shard(sharded.path, "shards/2", "-k", "not double")
    report = final(sharded.path, status=1)
    tests = gate(report, "tests")
    assert tests["status"] == "failed"
    [stale] = [f for f in tests["findings"] if f["rule"] == "commit"]
    assert stale["file"] == "shards/1" and "use the bundles of this commit's shards" in stale["message"]
    assert gate(report, "coverage")["status"] == "error"
    assert "not all of the commit and tree judged here" in gate(report, "coverage")["summary"]


def test_a_shard_whose_tests_were_all_deselected_still_counts(repo: Repo, expected: dict[str, Any]) -> None:
    shard(repo.path, "shards/1", "-k", "test_")
    shard(repo.path, "shards/2", "-k", "no_such_test")  # exits 0: its bundle is its work
    bundle = json.loads((repo.path / "shards/2" / MANIFEST).read_text())
    assert bundle["ran"] == [] and bundle["no_coverage"] == "this shard ran no test"
    assert len(bundle["collected"]) == SUITE
    assert judged(final(repo.path)) == expected


def test_a_test_two_shards_ran_is_reported_once_counted(repo: Repo, expected: dict[str, Any]) -> None:
    shard(repo.path, "shards/1")
    shard(repo.path, "shards/2", "-k", "positive")
    report = final(repo.path)
    tests = gate(report, "tests")
    assert tests["status"] == "passed"
    assert tests["measured"] == (
        "10 passed, 0 failed, 1 skipped; 1 ran in more than one shard (tests/test_one.py::test_positive)"
    )
    assert judged(report)["gates"][1:] == expected["gates"][1:]  # coverage and the rest
    assert report["colour"] == expected["colour"]


def test_coverage_of_shards_in_other_directories_is_remapped(
    repo: Repo, tmp_path: Path, expected: dict[str, Any]
) -> None:
    finals = tmp_path / "final"
    run_git(tmp_path, "clone", "-q", str(repo.path), str(finals))
    for n, selection in ((1, "double"), (2, "not double")):
        checkout = tmp_path / f"runner-{n}"
        run_git(tmp_path, "clone", "-q", str(repo.path), str(checkout))
        shard(checkout, str(finals / "shards" / str(n)), "-k", selection)
    roots = {json.loads((finals / "shards" / n / MANIFEST).read_text())["root"] for n in "12"}
    assert roots == {str(tmp_path / "runner-1"), str(tmp_path / "runner-2")}
    for n in (1, 2):  # the other machines' checkouts are not here
        shutil.rmtree(tmp_path / f"runner-{n}")
    # The bundles, downloaded into the final job's checkout, leave its tree clean.
    assert judged(final(finals)) == expected


def test_a_shard_on_a_dirty_tree_makes_the_union_unaccepted(sharded: Repo) -> None:
    (sharded.path / "notes.txt").write_text("uncommitted\n")
    shard(sharded.path, "shards/2", "-k", "not double")
    (sharded.path / "notes.txt").unlink()
    report = final(sharded.path)
    assert report["dirty"] == ["notes.txt"]
    assert report["colour"] == "green" and not report["accepted"]


def test_a_shard_replaces_its_bundle_whole_and_keeps_other_directories(sharded: Repo) -> None:
    shard(sharded.path, "shards/1", "-k", "positive")
    bundle = json.loads((sharded.path / "shards/1" / MANIFEST).read_text())
    assert [r["id"] for r in bundle["ran"]] == ["tests/test_one.py::test_positive"]
    assert sorted(p.name for p in (sharded.path / "shards").iterdir()) == ["1"]
    (sharded.path / "other").mkdir()
    (sharded.path / "other" / "keep.txt").write_text("mine\n")
    done = pytest_run(sharded.path, "--promote-shard=other")
    assert done.returncode == pytest.ExitCode.USAGE_ERROR
    assert "shard bundle NOT written to other" in done.stdout
    assert "is no shard bundle; give a new or empty directory" in done.stdout
    assert (sharded.path / "other" / "keep.txt").read_text() == "mine\n"


@pytest.fixture
def pristine(first_shard: Path) -> Path:
    """One real bundle, to be damaged in copies."""
    return first_shard / "shards" / "1"


DAMAGES = {
    "not JSON": (lambda d: (d / MANIFEST).write_text("{not json"), f"{MANIFEST} is not JSON"),
    "no manifest": (lambda d: (d / MANIFEST).unlink(), f"{MANIFEST} does not exist"),
    "another format": (lambda d: (d / MANIFEST).write_text('{"format": "x"}'),
                       "is not a pytest-promote shard bundle"),
    "another version": (lambda d: (d / MANIFEST).write_text(
        (d / MANIFEST).read_text().replace('"version": 1', '"version": 9')), "has version 9"),
    "a bad entry": (lambda d: (d / MANIFEST).write_text(
        (d / MANIFEST).read_text().replace('"ran": [', '"ran": [7, ')), "is malformed"),
    "a path out": (lambda d: (d / MANIFEST).write_text(
        (d / MANIFEST).read_text().replace(f'"{COVERAGE_FILE}"', '"../x"')), "coverage.file must be"),
    "changed data": (lambda d: (d / COVERAGE_FILE).write_bytes(b"changed"),
                     "does not match the manifest's digest"),
    "no data": (lambda d: (d / COVERAGE_FILE).unlink(), f"{COVERAGE_FILE} is missing"),
}


@pytest.mark.parametrize("damage", DAMAGES)
def test_a_bad_bundle_is_a_usage_error_naming_the_file(pristine: Path, tmp_path: Path, damage: str) -> None:
    copy = tmp_path / "1"
    shutil.copytree(pristine, copy)
    read(copy)  # intact, it reads
    change, said = DAMAGES[damage]
    change(copy)
    with pytest.raises(pytest.UsageError) as caught:
        read(copy)
    assert said in str(caught.value) and str(copy) in str(caught.value)
    assert "download the shard's artifact whole" in str(caught.value) or "one pytest-promote" in str(caught.value)


def test_the_final_job_stops_at_a_bad_bundle(sharded: Repo) -> None:
    (sharded.path / "shards" / "2").mkdir()
    done = pytest_run(sharded.path, "--promote-only", "--promote-from=shards/*")
    assert done.returncode == pytest.ExitCode.USAGE_ERROR, done.stdout + done.stderr
    assert f"--promote-from: {sharded.path}/shards/2/{MANIFEST} does not exist" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (("--promote-shard=s", "--promote-only"), "--promote-shard runs this shard's tests"),
        (("--promote-from=s/*",), "--promote-from='s/*' needs --promote-only"),
        (("--promote-shard=s", "--promote-report=r.json"), "--promote-report with --promote-shard"),
        (("--promote-only", "--promote-from=s/*", "--promote-junit=j.xml"), "give one"),
    ],
)
def test_contradicting_options_are_usage_errors(pytester: pytest.Pytester, args: tuple[str, ...], said: str) -> None:
    pytester.makepyprojecttoml(POLICY)
    result = pytester.runpytest("--promote-to=development", *args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"*{said}*"])


def test_shard_options_need_promote_to(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--promote-shard=s")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--promote-shard needs --promote-to=STAGE*"])


#: A stage without coverage: its shards and final job run in this process, too.
NO_COVERAGE = """
[tool.promote]
stages = ["development"]
enforce_path = false

[tool.promote.gates]
invariants = { count = 1 }

[tool.promote.stage.development]
required = ["tests", "invariants"]
""" + PYTEST_INI


def test_in_process_shards_and_final_job(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = Repo(pytester.path, monkeypatch)
    repo.commit("app", {**FILES, "pyproject.toml": NO_COVERAGE})
    pytester.syspathinsert()  # as `python -m pytest` puts it on sys.path
    result = pytester.runpytest(*PROMOTE, "--promote-shard=shards/1", "--splits", "2", "--group", "1")
    assert result.ret == 0
    result.stdout.fnmatch_lines(["promote: shard run: no gate runs here; the bundle goes to shards/1",
                                 "promote: shard bundle written to shards/1: * of 11 tests ran here (no coverage"
                                 " data: stage development has no coverage gate); no gate ran:*"])
    pytester.runpytest(*PROMOTE, "--promote-shard=shards/2", "--splits", "2", "--group", "2")
    result = pytester.runpytest(*PROMOTE, "--promote-only", "--promote-from=shards/*", "--promote-no-ledger",
                                "--promote-report=final.json")
    assert result.ret == 0, result.stdout.str()
    result.stdout.fnmatch_lines(["promote: judging 2 shard bundles (shards/*): 11 tests collected",
                                 "promote:   shards/1 (shard 1 of 2 (pytest-split --splits 2 --group 1)): ran *"])
    report = json.loads((pytester.path / "final.json").read_text())
    assert report["colour"] == "green" and report["accepted"] and report["dirty"] == []
    assert gate(report, "tests")["measured"] == "10 passed, 0 failed, 1 skipped"
    assert gate(report, "invariants")["status"] == "passed"


def bundle(name: str, *, commit: str = "c1", tree: str = "t1", ran: tuple[str, ...] = (),
           collected: tuple[str, ...] = ("a", "b", "c"), outcome: str = "passed",
           position: Position | None = None) -> Bundle:
    return Bundle(
        path=Path(name), stage="development", commit=commit, tree=tree, dirty=(), root="/r",
        position=position, selection=(), collected={c: () for c in collected}, errors=(),
        ran=tuple(Ran(r, outcome, 0.1) for r in ran), coverage=None, no_coverage="none",
        coverage_warnings=(), versions={},
    )


def test_union_checks_commit_suite_strangers_and_positions() -> None:
    union = ShardUnion("s/*", [
        bundle("s/1", ran=("a", "x"), position=Position(1, 3, "by")),
        bundle("s/2", commit="c2", ran=("b",), collected=("a", "b"), position=Position(2, 4, "by")),
    ])
    check(union, "c1", "t1")
    rules = [f.rule for f in union.problems]
    assert rules == ["commit", "suite", "suite", "shards"]
    assert not union.same_commit
    assert union.problems[1].file == "s/2" and "1 (c) missing" in union.problems[1].message
    assert union.problems[2].message == "1 (x) ran but no shard collected them"
    assert union.problems[3].message == "the bundles disagree on the number of shards ([3, 4])"
    assert union.left_out == ["c"]
    with pytest.raises(NoCoverage, match="not all of the commit and tree judged here"):
        union.gathered()


def test_union_names_missing_shards_and_folds_duplicates_to_the_worse_outcome() -> None:
    union = ShardUnion("s/*", [
        bundle("s/1", ran=("a", "b"), position=Position(1, 3, "pytest-split")),
        bundle("s/3", ran=("b", "c"), outcome="failed", position=Position(3, 3, "pytest-split")),
    ])
    check(union, None, None)  # outside git: the bundles agree among themselves
    assert [f.message for f in union.problems] == ["shard 2 of 3 left no bundle (the others ran with pytest-split)"]
    assert union.duplicates == ["b"] and union.left_out == []
    log = TestLog()
    union.fill(log)
    assert {o.nodeid: o.outcome for o in log.outcomes.values()} == {"a": "passed", "b": "failed", "c": "failed"}
    assert log.suite is not None and not log.suite.partial and log.source == "2 shard bundles (s/*)"
    with pytest.raises(NoCoverage, match="s/1 ran 2 tests but carries no coverage data"):
        union.gathered()


def test_without_bundles_keeps_every_other_change(tmp_path: Path) -> None:
    (tmp_path / "shards" / "1").mkdir(parents=True)
    (tmp_path / "shards" / "1" / MANIFEST).write_text("{}")
    changes = [f"shards/1/{MANIFEST}", f"shards/1/{COVERAGE_FILE}", f"src/{MANIFEST}", "src/app.py"]
    assert without_bundles(tmp_path, changes) == [f"src/{MANIFEST}", "src/app.py"]
    assert without_bundles(tmp_path, None) is None


def test_a_module_a_shard_could_not_import_fails_the_union(repo: Repo) -> None:
    (repo.path / "tests" / "test_two.py").write_text("import nowhere\n")
    repo.commit("broken import")
    done = pytest_run(repo.path, "--promote-shard=shards/1")
    assert done.returncode == pytest.ExitCode.INTERRUPTED
    assert "shard bundle written to shards/1" in done.stdout
    report = final(repo.path, status=1)
    [broken] = [f for f in gate(report, "tests")["findings"] if f["rule"] == "collection"]
    assert broken["message"] == "tests/test_two.py: could not be collected in this shard"
