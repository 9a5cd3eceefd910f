"""``--promote-to=auto``: the stage from the git ref, as a pilot-to-production pipeline names its branches."""

from __future__ import annotations

import json
import tomllib

import pytest

from pytest_promote.gates.builtin import pytest_promote_gate_kinds
from pytest_promote.policy import loader
from pytest_promote.policy.model import Policy
from pytest_promote.policy.stages import select, specificity

# A pilot-to-production promotion: pilot `main`, `*`; rc `v*-rc.*`; GA `v*`.
PILOT_POLICY = """
[tool.promote]
stages = ["pilot", "rc", "ga"]
enforce_path = false

[tool.promote.stage.pilot]
accept = "yellow"
required = ["tests"]
match = ["main", "*"]

[tool.promote.stage.rc]
match = ["v*-rc.*"]

[tool.promote.stage.ga]
match = ["v*"]
"""


def load(text: str) -> Policy:
    table = tomllib.loads(text)["tool"]["promote"]
    return loader.load(table, "pyproject.toml", pytest_promote_gate_kinds())


@pytest.mark.parametrize(
    ("pattern", "literal"), [("*", 0), ("v*", 1), ("v*-rc.*", 5), ("main", 4), ("v[0-9]*", 2)]
)
def test_specificity_counts_literal_characters(pattern: str, literal: int) -> None:
    assert specificity(pattern) == literal


@pytest.mark.parametrize(
    ("tag", "stage"), [("v1.2.0-rc.1", "rc"), ("v1.2.0", "ga"), ("nightly", "pilot")]
)
def test_tag_at_detached_head_selects_most_specific_stage(git_project, git, tag, stage) -> None:
    pytester = git_project(PILOT_POLICY)
    git("tag", tag)
    git("checkout", "-q", "--detach", tag)
    selection = select(load(PILOT_POLICY), pytester.path, {})
    assert (selection.stage, selection.ref.name, selection.ref.type) == (stage, tag, "tag")


def test_branch_main_selects_pilot(git_project) -> None:
    pytester = git_project(PILOT_POLICY)
    selection = select(load(PILOT_POLICY), pytester.path, {})
    assert (selection.stage, selection.pattern, selection.ref.source) == ("pilot", "main", "git")


def test_detached_head_reads_the_ci_ref(git_project, git) -> None:
    pytester = git_project(PILOT_POLICY)
    git("checkout", "-q", "--detach")
    env = {"GITHUB_REF_NAME": "v2.0.0-rc.3", "GITHUB_REF_TYPE": "tag"}
    selection = select(load(PILOT_POLICY), pytester.path, env)
    assert selection.as_dict() == {
        "ref": "v2.0.0-rc.3", "ref_type": "tag", "source": "GITHUB_REF_NAME",
        "pattern": "v*-rc.*", "stage": "rc",
    }
    gitlab = select(load(PILOT_POLICY), pytester.path, {"CI_COMMIT_TAG": "v3.0.0"})
    assert (gitlab.stage, gitlab.ref.source) == ("ga", "CI_COMMIT_TAG")


def test_tie_is_an_error_naming_both_stages(git_project, git) -> None:
    tied = PILOT_POLICY.replace('match = ["v*-rc.*"]', 'match = ["v*"]')
    pytester = git_project(tied)
    git("tag", "v1.0.0")
    git("checkout", "-q", "--detach", "v1.0.0")
    with pytest.raises(pytest.UsageError, match=r"tie between stages rc \('v\*'.*and ga \('v\*'"):
        select(load(tied), pytester.path, {})


def test_no_match_lists_the_patterns(git_project, git) -> None:
    strict = PILOT_POLICY.replace('match = ["main", "*"]', 'match = ["main"]')
    pytester = git_project(strict)
    git("checkout", "-q", "-b", "feature/x")
    with pytest.raises(pytest.UsageError) as info:
        select(load(strict), pytester.path, {})
    message = str(info.value)
    assert "'feature/x' matches no stage's pattern" in message
    assert "pilot: 'main', rc: 'v*-rc.*', ga: 'v*'" in message


def test_auto_in_a_run_prints_and_records_why(git_project, git) -> None:
    pytester = git_project(PILOT_POLICY)
    git("tag", "v1.2.0-rc.1")
    git("checkout", "-q", "--detach", "v1.2.0-rc.1")
    result = pytester.runpytest(
        "--promote-to=auto", "--promote-report=r.json", "-p", "no:cacheprovider"
    )
    result.stdout.fnmatch_lines([
        "promote: stage rc (policy: *",
        "promote: auto: tag 'v1.2.0-rc.1' (from git) matches 'v[*]-rc.[*]' of stage rc",
    ])
    assert result.ret == 0
    report = json.loads((pytester.path / "r.json").read_text())
    assert report["stage"] == "rc"
    assert report["selection"]["pattern"] == "v*-rc.*"


def test_auto_without_patterns_says_what_to_add(project) -> None:
    pytester = project()
    result = pytester.runpytest("--promote-to=auto")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*no stage of * has `match` patterns*"])
