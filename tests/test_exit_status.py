"""The exit status follows one decision, accepted or not and why, and every output
states that same decision: the last terminal line, the JUnit scorecard testcase, the
GitHub and GitLab annotations, the step summary's heading and the JSON report.

Each case runs a real promotion in a real git repository, with ``CI=true`` (where a
run that is not accepted fails) and without it (where the colour decides).
"""

from __future__ import annotations

import dataclasses
import json
import xml.etree.ElementTree as ET
from collections.abc import Callable
from typing import Any

import pytest
from children import PYTEST_INI
from gitrepo import NO_CACHE, Repo

POLICY = """
[tool.promote]
stages = ["development", "staging"]
enforce_path = false  # no ledger is written here, so no stage can have a record yet

[tool.promote.gates]
invariants = { count = 1 }

[tool.promote.stage.development]
required = ["tests"]
advisory = ["invariants"]
tests = { allow_partial = true }

[tool.promote.stage.staging]
accept = "green"
required = ["tests"]
advisory = ["invariants"]
""" + PYTEST_INI

TESTS = """
import pytest

@pytest.mark.invariant
def test_one():
    pass

def test_two():
    pass
"""

#: Outputs every run writes, ignored by git so that they never make the tree dirty.
OUTPUTS = ("step.md", "cq.json", "local-policy.toml")
ARGS = ("--promote-no-ledger", "--junitxml=j.xml", "--promote-report=r.json",
        "--promote-codequality=cq.json", *NO_CACHE)


@pytest.fixture
def repo(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> Repo:
    """A committed project whose tests pass, seen by GitHub Actions (annotations and
    the step summary on)."""
    repo = Repo(pytester.path, monkeypatch)
    with (pytester.path / ".gitignore").open("a") as ignore:
        ignore.write("\n".join(OUTPUTS) + "\n")
    repo.commit("a project", {"pyproject.toml": POLICY, "test_it.py": TESTS})
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(pytester.path / "step.md"))
    return repo


@dataclasses.dataclass(frozen=True)
class Outputs:
    """What one run told each of its readers about whether it was accepted."""

    status: int
    last_line: str
    report: dict[str, Any]
    scorecard: tuple[str, str]  # JUnit: (failure|skipped|passed, message)
    annotation: str
    quality: list[dict[str, Any]]
    heading: str

    @property
    def line(self) -> str:
        """The decision's words, as the JSON report holds them."""
        return self.report["decision"]["line"]


def promote(pytester: pytest.Pytester, *args: str) -> Outputs:
    result = pytester.runpytest(*ARGS, *args)
    root = pytester.path
    cases = ET.parse(root / "j.xml").getroot().iter("testcase")
    case = next(c for c in cases if c.get("name") == "scorecard")
    problem = next(iter(case), None)
    scorecard = ("passed", "") if problem is None else (problem.tag, problem.get("message", ""))
    annotations = [line for line in result.outlines if line.startswith("::")]
    return Outputs(
        status=result.ret,
        last_line=result.outlines[-1],
        report=json.loads((root / "r.json").read_text()),
        scorecard=scorecard,
        annotation=annotations[0] if annotations else "",
        quality=json.loads((root / "cq.json").read_text()),
        heading=(root / "step.md").read_text().splitlines()[0],
    )


def dirty(repo: Repo) -> tuple[str, ...]:
    """A build step left an untracked file in the checkout."""
    (repo.path / "stray.txt").write_text("built\n")
    return ("--promote-to=development",)


def partial(repo: Repo) -> tuple[str, ...]:
    """A stage that allows partial runs, and a selection."""
    return ("--promote-to=development", "-k", "not two")


def external_policy(repo: Repo) -> tuple[str, ...]:
    """The policy comes from a file outside the repository."""
    outside = repo.path.parent / f"{repo.path.name}-policy.toml"
    outside.write_text(POLICY)
    return ("--promote-to=development", f"--promote-config=../{outside.name}")


def ignored_policy(repo: Repo) -> tuple[str, ...]:
    """The policy is a file in the checkout that git ignores: the tree is clean, but
    the policy is not the committed one."""
    (repo.path / "local-policy.toml").write_text(POLICY)
    return ("--promote-to=development", "--promote-config=local-policy.toml")


def changed_policy(repo: Repo) -> tuple[str, ...]:
    """A committed policy file, changed (the tree is dirty too)."""
    repo.commit("a policy file", {"policy.toml": POLICY})
    (repo.path / "policy.toml").write_text(POLICY.replace('accept = "green"', 'accept = "green"\n'))
    return ("--promote-to=development", "--promote-config=policy.toml")


def yellow(repo: Repo) -> tuple[str, ...]:
    """A committed policy whose advisory gate fails: YELLOW, and staging needs green."""
    repo.commit("a stricter policy", {"strict.toml": POLICY.replace("count = 1", "count = 3")})
    return ("--promote-to=staging", "--promote-config=strict.toml")


#: Each reason a run may be judged but not accepted, and words its reason must hold.
NOT_ACCEPTED: dict[str, tuple[Callable[[Repo], tuple[str, ...]], str]] = {
    "dirty checkout": (dirty, "working tree dirty: 1 path differs from HEAD (stray.txt)"),
    "allowed partial run": (partial, "partial: 1 of 2 tests (left out by -k 'not two')"),
    "policy outside the repository": (
        external_policy, "is not the policy committed at HEAD: --promote-config=../"),
    "ignored policy file": (
        ignored_policy,
        "is not the policy committed at HEAD: --promote-config=local-policy.toml is not committed"),
    "changed policy file": (
        changed_policy,
        "is not the policy committed at HEAD: --promote-config=policy.toml has uncommitted changes"),
    "colour below the stage": (yellow, "YELLOW (advisory gate invariants failed), staging accepts green"),
}


def assert_all_say(out: Outputs, fails: bool) -> None:
    """Every output states the decision of the JSON report, in the same words."""
    line = out.line
    assert line.startswith("not accepted: ")
    assert out.report["accepted"] is False and out.report["decision"]["accepted"] is False
    assert out.report["decision"]["fails"] is fails
    assert out.status == (1 if fails else 0)
    assert out.last_line.startswith(line)  # then, in brackets, what it makes of the exit
    kind, message = out.scorecard
    assert kind == ("failure" if fails else "skipped")
    assert f", {line}" in message
    level = "error" if fails else "warning"
    assert out.annotation == f"::{level} title=promote scorecard::{line}"
    assert out.quality[0]["description"] == line
    assert out.quality[0]["severity"] == ("blocker" if fails else "info")
    assert out.heading == f"## Promotion to {out.report['stage']}: {out.report['verdict']}, {line}"


@pytest.mark.parametrize("case", NOT_ACCEPTED)
def test_with_ci_a_run_not_accepted_fails_and_every_output_says_why(
    case: str, repo: Repo, pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch,
) -> None:
    make, reason = NOT_ACCEPTED[case]
    args = make(repo)
    monkeypatch.setenv("CI", "true")

    out = promote(pytester, *args)

    assert_all_say(out, fails=True)
    assert reason in out.line
    # A colour below the stage fails anywhere: nothing to add about CI.
    assert out.last_line in (out.line, f"{out.line} (CI=true: a run that is not accepted fails)")
    assert out.report["decision"]["exit"] == "accepted"


def test_several_reasons_are_all_named_in_every_output(
    repo: Repo, pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch,
) -> None:
    dirty(repo)
    monkeypatch.setenv("CI", "true")

    out = promote(pytester, *partial(repo))

    assert_all_say(out, fails=True)
    assert out.report["decision"]["reasons"] == [
        "partial: 1 of 2 tests (left out by -k 'not two')",
        "working tree dirty: 1 path differs from HEAD (stray.txt)",
    ]
    assert out.line == "not accepted: " + "; ".join(out.report["decision"]["reasons"])


def test_a_moved_clock_fails_where_the_option_asks_for_acceptance(
    repo: Repo, pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PROMOTE_NOW", "2026-01-07T10:00:00+00:00")  # refused with CI=true

    out = promote(pytester, "--promote-to=development", "--promote-exit=accepted")

    assert_all_say(out, fails=True)
    assert out.line == "not accepted: PROMOTE_NOW=2026-01-07T10:00:00+00:00 set"
    assert out.last_line.endswith("(--promote-exit=accepted: a run that is not accepted fails)")


@pytest.mark.parametrize("case", ["dirty checkout", "allowed partial run", "ignored policy file"])
def test_locally_the_colour_decides_and_every_output_still_says_why(
    case: str, repo: Repo, pytester: pytest.Pytester,
) -> None:
    make, reason = NOT_ACCEPTED[case]

    out = promote(pytester, *make(repo))

    assert_all_say(out, fails=False)
    assert reason in out.line
    assert out.last_line.endswith(
        "(outside CI: the colour decides the exit status; with CI=true it fails)")
    assert out.report["decision"]["exit"] == "colour"


def test_locally_a_colour_below_the_stage_fails_as_before(repo: Repo, pytester: pytest.Pytester) -> None:
    out = promote(pytester, *yellow(repo))

    assert_all_say(out, fails=True)
    assert out.last_line == out.line  # nothing to add: the colour fails it anywhere


@pytest.mark.parametrize("ci", [True, False])
def test_a_clean_whole_committed_run_is_accepted_and_exits_0(
    ci: bool, repo: Repo, pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch,
) -> None:
    if ci:
        monkeypatch.setenv("CI", "true")
    repo.commit("a committed policy file", {"policy.toml": POLICY})

    out = promote(pytester, "--promote-to=development", "--promote-config=policy.toml")

    assert out.status == 0
    assert out.report["accepted"] is True
    assert out.report["decision"] == {
        "accepted": True, "line": "accepted", "reasons": [],
        "exit": "accepted" if ci else "colour", "exit_by": "CI=true" if ci else "outside CI",
        "fails": False,
    }
    assert out.last_line == "accepted: GREEN, development accepts yellow"
    assert out.scorecard == ("passed", "")
    assert out.annotation == "::notice title=promote scorecard::accepted: GREEN, development accepts yellow"
    assert out.quality == []
    assert out.heading == "## Promotion to development: GREEN, accepted"


@pytest.mark.parametrize(
    ("args", "last"),
    [
        (("--promote-exit=colour",),
         "(--promote-exit=colour: the colour decides the exit status)"),
        (("--promote-dry-run",), "(dry run: exit status 0)"),
    ],
)
def test_with_ci_the_option_or_a_dry_run_lets_the_colour_decide(
    args: tuple[str, ...], last: str, repo: Repo, pytester: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CI", "true")
    result = pytester.runpytest(*dirty(repo), *args, "--promote-no-ledger", *NO_CACHE)
    assert result.ret == 0
    assert result.outlines[-1] == (
        f"not accepted: working tree dirty: 1 path differs from HEAD (stray.txt) {last}")


def test_the_header_says_what_decides_the_exit_status(
    repo: Repo, pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CI", "true")
    result = pytester.runpytest("--promote-to=development", "--collect-only", *NO_CACHE)
    result.stdout.fnmatch_lines(["promote: exit status (CI=true): a run that is not accepted fails"])

    monkeypatch.delenv("CI")
    result = pytester.runpytest("--promote-to=development", "--collect-only", *NO_CACHE)
    assert "promote: exit status" not in result.stdout.str()  # a local run's default


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--promote-to=development", "--promote-exit=color"),
         "*--promote-exit=color: not a valid value (did you mean 'colour'?); valid values: "
         "accepted: *; colour: *"),
        (("--promote-exit=accepted",), "*--promote-exit needs --promote-to=STAGE*"),
    ],
)
def test_bad_exit_options_are_usage_errors(
    args: tuple[str, ...], message: str, repo: Repo, pytester: pytest.Pytester,
) -> None:
    result = pytester.runpytest(*args, *NO_CACHE)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([message])
    assert "Traceback" not in result.stderr.str()



def test_under_xdist_the_controller_decides_the_same(
    repo: Repo, pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CI", "true")

    out = promote(pytester, *dirty(repo), "-n", "2")

    assert_all_say(out, fails=True)
    assert out.line == "not accepted: working tree dirty: 1 path differs from HEAD (stray.txt)"
