"""Warm local re-runs: an unchanged gate's stored result is reused, never in CI."""

from __future__ import annotations

import json

import pytest

from pytest_promote.api import Finding, GateResult
from pytest_promote.gates import cache

POLICY = """
[tool.ruff.lint]
select = ["F"]

[tool.promote.stage.development]
required = ["tests", "lint"]
"""


@pytest.fixture
def project(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """A small project whose lint gate fails on one finding; not in CI."""
    monkeypatch.delenv("CI", raising=False)
    pytester.makepyprojecttoml(POLICY)
    pytester.makepyfile(app="import os\n", test_app="def test_ok():\n    pass\n")
    return pytester


def gates(pytester: pytest.Pytester, *args: str) -> dict[str, dict]:
    """Run a promotion to development; the JSON report's gates by id."""
    pytester.runpytest("--promote-to=development", "--promote-report=report.json", *args)
    data = json.loads((pytester.path / "report.json").read_text(encoding="utf-8"))
    return {g["id"]: g for g in data["gates"]}


def test_warm_rerun_reuses_and_says_so(project: pytest.Pytester) -> None:
    cold = gates(project)
    assert not cold["lint"]["cached"]

    result = project.runpytest("--promote-to=development", "--promote-report=report.json")

    result.stdout.fnmatch_lines(
        [
            "lint: cached, inputs unchanged; ruff check found 1 finding in the project *",
            "app.py:1: F401 `os` imported but unused",
            "  lint *required*failed*measured 1, threshold 0 (cached, inputs unchanged)",
        ]
    )
    warm = json.loads((project.path / "report.json").read_text(encoding="utf-8"))["gates"]
    lint = next(g for g in warm if g["id"] == "lint")
    assert lint["cached"] and lint["findings"] == cold["lint"]["findings"]


def test_gates_judging_the_tests_are_never_cached(project: pytest.Pytester) -> None:
    gates(project)
    assert not gates(project)["tests"]["cached"]


@pytest.mark.parametrize(
    "change",
    [
        lambda p: (p.path / "app.py").write_text("import sys\n", encoding="utf-8"),
        lambda p: (p.path / "new.py").write_text("import sys\n", encoding="utf-8"),
        lambda p: p.makepyprojecttoml(POLICY.replace('["F"]', '["E"]')),
    ],
    ids=["file edited", "file added", "ruff config changed"],
)
def test_changed_inputs_run_again(project: pytest.Pytester, change) -> None:
    gates(project)
    change(project)
    assert not gates(project)["lint"]["cached"]


def test_changed_stage_options_run_again(project: pytest.Pytester) -> None:
    gates(project)
    project.makepyprojecttoml(POLICY + '\n[tool.promote.gates.lint]\npaths = ["app.py"]\n')
    assert not gates(project)["lint"]["cached"]


def test_ci_never_reuses(project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    gates(project)
    monkeypatch.setenv("CI", "true")
    assert not gates(project)["lint"]["cached"]


def test_no_cache_option(project: pytest.Pytester) -> None:
    gates(project)
    assert not gates(project, "--promote-no-cache")["lint"]["cached"]
    assert gates(project)["lint"]["cached"]  # the fresh result was stored


def test_errors_are_not_stored(pytester: pytest.Pytester) -> None:
    result = GateResult.error("lint: ruff crashed")
    pytester.makepyfile(conftest="")
    config = pytester.parseconfigure()
    cache.store(config, "dev", "lint", "fp", result)
    assert cache.load(config, "dev", "lint", "fp") is None


def test_round_trip_and_mismatch(pytester: pytest.Pytester) -> None:
    config = pytester.parseconfigure()
    stored = GateResult.failed(
        "lint: 1 finding", measured=1, threshold=0,
        findings=[Finding("unused", file="a.py", line=3, rule="F401", col=2)],
    )
    cache.store(config, "dev", "lint", "fp", stored)

    loaded = cache.load(config, "dev", "lint", "fp")

    assert loaded is not None and loaded.cached
    assert loaded.findings == stored.findings and loaded.measured == 1
    assert loaded.summary == "lint: cached, inputs unchanged; 1 finding"
    assert cache.load(config, "dev", "lint", "other") is None
    assert cache.load(config, "prod", "lint", "fp") is None


def test_damaged_entry_is_a_miss(pytester: pytest.Pytester) -> None:
    config = pytester.parseconfigure()
    assert config.cache is not None
    config.cache.set("promote/results/dev__lint", {"format": 1, "fingerprint": "fp", "result": 7})
    assert cache.load(config, "dev", "lint", "fp") is None


def test_source_files_skip_what_tools_skip(pytester: pytest.Pytester) -> None:
    pytester.makepyprojecttoml("")
    for name in ("pkg/a.py", "pkg/b.txt", ".venv/lib/c.py", "env/d.py", "pkg/__pycache__/e.py"):
        path = pytester.path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("", encoding="utf-8")
    (pytester.path / "env" / "pyvenv.cfg").write_text("", encoding="utf-8")

    files = cache.source_files(pytester.path, None, (".py",))

    assert [f.relative_to(pytester.path).as_posix() for f in files] == [
        "pkg/a.py",
        "pyproject.toml",
    ]


EXTENDING = """
[tool.ruff]
extend = "configs/base.toml"

[tool.promote.stage.development]
required = ["tests", "{gate}"]
"""


@pytest.fixture
def layered(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, gate: str) -> pytest.Pytester:
    """A project whose ruff settings come through ``extend`` and whose pyright
    settings come through ``extends``; lint and types pass. Its stage requires the
    tests and ``gate`` (the test's parameter), the one gate the test watches: the
    other's tool, pyright above all, would run in every promotion for nothing."""
    monkeypatch.delenv("CI", raising=False)
    pytester.makepyprojecttoml(EXTENDING.format(gate=gate))
    (pytester.path / "configs").mkdir()
    (pytester.path / "configs" / "base.toml").write_text('[lint]\nselect = ["F"]\n')
    (pytester.path / "pyrightconfig.json").write_text('{"extends": "configs/pyright.json"}')
    (pytester.path / "configs" / "pyright.json").write_text('{"typeCheckingMode": "basic"}')
    pytester.makepyfile(app="x = 1\n", test_app="def test_ok():\n    pass\n")
    return pytester


def write(path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


@pytest.mark.parametrize(
    ("change", "gate"),
    [
        (lambda p: write(p / "configs" / "base.toml", '[lint]\nselect = ["E"]\n'), "lint"),
        (lambda p: write(p / ".github" / "scripts" / "tool.py", "import os\n"), "lint"),
        (lambda p: write(p / "sub" / "ruff.toml", '[lint]\nselect = ["E"]\n'), "lint"),
        (lambda p: write(p / "configs" / "pyright.json", '{"typeCheckingMode": "strict"}'),
         "types"),
        (lambda p: write(p / ".tools" / "helper.py", "x: int = 1\n"), "types"),
    ],
    ids=["extended ruff config", "file in a dot-directory ruff checks",
         "nested ruff config", "extended pyright config", "file in a dot-directory"],
)
def test_every_input_the_tool_reads_is_in_the_fingerprint(layered, change, gate) -> None:
    (layered.path / "sub").mkdir(exist_ok=True)
    (layered.path / "sub" / "mod.py").write_text("y = 2\n", encoding="utf-8")
    assert not gates(layered)[gate]["cached"]
    assert gates(layered)[gate]["cached"]  # unchanged: reused

    change(layered.path)

    assert not gates(layered)[gate]["cached"]


def test_a_variable_of_the_tools_environment_is_in_the_fingerprint(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """pyright finds ``helper`` only through ``PYTHONPATH``: a pass stored with it is
    never reused without it, where pyright reports the import as an error."""
    monkeypatch.delenv("CI", raising=False)
    pytester.makepyprojecttoml(
        '[tool.promote]\npaths = ["app.py"]\n[tool.promote.stage.development]\nrequired = ["types"]\n'
    )
    pytester.makepyfile(app="import helper\n\nx: int = helper.VALUE\n")
    (pytester.path / "lib").mkdir()
    (pytester.path / "lib" / "helper.py").write_text("VALUE: int = 1\n", encoding="utf-8")
    lib = str(pytester.path / "lib")
    monkeypatch.setenv("PYTHONPATH", lib)
    types = gates(pytester)["types"]
    assert types["status"] == "passed"
    # The variable that changed the verdict, and the tool that judged, are stated.
    assert types["figures"]["environment"] == {"PYTHONPATH": lib}
    assert types["summary"].endswith(f"(with PYTHONPATH={lib})")
    assert types["figures"]["tool"]["version"].startswith("pyright")
    assert gates(pytester)["types"]["cached"]  # unchanged: reused

    monkeypatch.delenv("PYTHONPATH")
    types = gates(pytester)["types"]
    assert (types["cached"], types["status"]) == (False, "failed")
    assert "environment" not in types["figures"]
    assert "helper" in types["findings"][0]["message"]
    monkeypatch.setenv("PYTEST_SOMETHING", "x")  # the shell's and pytest's own state is not
    assert gates(pytester)["types"]["cached"]


def test_what_git_and_pre_commit_give_their_hooks_keeps_stored_results() -> None:
    environment_digest = cache.environment_digest
    shell = {"PATH": "/usr/bin:/bin", "HOME": "/home/tess", "RUFF_CACHE_DIR": "/tmp/ruff"}
    hook = {**shell, "PATH": "/usr/lib/git-core:/usr/bin:/bin", "GIT_EXEC_PATH": "/usr/lib/git-core",
            "GIT_INDEX_FILE": ".git/index", "GIT_AUTHOR_DATE": "@1796653837 +0000", "GIT_EDITOR": ":",
            "PRE_COMMIT": "1", "PRE_COMMIT_FROM_REF": "abc"}
    assert environment_digest(hook) == environment_digest(shell)
    own = {"PATH": f"/venv/bin:{hook['PATH']}"}  # what the types gate puts first
    assert environment_digest({**hook, **own}) == environment_digest({**shell, "PATH": "/venv/bin:/usr/bin:/bin"})
    assert environment_digest({**shell, "PATH": "/opt/node/bin:/usr/bin:/bin"}) != environment_digest(shell)
    assert environment_digest({**hook, "RUFF_CACHE_DIR": "/elsewhere"}) != environment_digest(shell)
