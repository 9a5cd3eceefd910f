"""The provenance gate against real git repositories made in pytester directories."""

from __future__ import annotations

import json

import pytest
from gitrepo import Repo, gate_summary

POLICY = """
[tool.promote]
stages = ["staging"]

[tool.promote.gates.provenance]
base = "main"
{extra}

[tool.promote.stage.staging]
required = ["provenance"]
"""


def status(state: str = "SUCCESS", scope: list[str] | None = None) -> str:
    """A final/status.json text."""
    return json.dumps({"status": state, "scope": ["src/**"] if scope is None else scope})


@pytest.fixture
def repo(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> Repo:
    """main with one commit (the policy and src/app.py), then a feature branch."""
    repo = Repo(pytester.path, monkeypatch)
    repo.commit("base", {"pyproject.toml": POLICY.format(extra=""), "src/app.py": "x = 1\n"})
    repo.git("checkout", "-q", "-b", "feature")
    return repo


def task(
    base: str, name: str = "t1", state: str = "SUCCESS", scope: list[str] | None = None
) -> dict[str, str]:
    """The provenance files of one task approving ``base``."""
    return {
        f".ai-stack-trace/{name}/contract/APPROVED": f"approved base {base}\n",
        f".ai-stack-trace/{name}/final/status.json": status(state, scope),
    }


PROMOTE = ("--promote-to=staging", "--promote-only", "-p", "no:cacheprovider")


def promote(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    """The gates of staging, no project tests."""
    return pytester.runpytest(*PROMOTE, *args)


def test_passes_when_the_change_is_approved(pytester: pytest.Pytester, repo: Repo) -> None:
    base = repo.git("rev-parse", "main")
    repo.commit("work", {"src/app.py": "x = 2\n", "src/new.py": "", **task(base)})
    # main moves on after the fork: the merge base is still what the task approved.
    repo.git("checkout", "-q", "main")
    repo.commit("elsewhere", {"other.py": ""})
    repo.git("checkout", "-q", "feature")
    summary = gate_summary(pytester, "provenance", *PROMOTE)
    assert summary == (
        f"provenance: 4 changed files since main@{base[:12]} (from [tool.promote.gates.provenance] "
        "base) (tasks: t1; 0 exempt), "
        "all within approved provenance"
    )


def test_missing_approved(pytester: pytest.Pytester, repo: Repo) -> None:
    base = repo.git("rev-parse", "main")
    files = task(base)
    del files[".ai-stack-trace/t1/contract/APPROVED"]
    repo.commit("work", {"src/app.py": "x = 2\n", **files})
    result = promote(pytester)
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines([
        "*provenance: 1 provenance problem in 2 changed files since main@*none allowed for staging",
        ".ai-stack-trace/t1/contract/APPROVED: missing required provenance of task t1",
    ])


def test_approved_names_another_commit(pytester: pytest.Pytester, repo: Repo) -> None:
    repo.commit("work", {"src/app.py": "x = 2\n", **task("0123456789abcdef")})
    result = promote(pytester)
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(["*APPROVED: base approves 0123456789ab, not the base main@*"])


def test_approved_names_no_commit(pytester: pytest.Pytester, repo: Repo) -> None:
    files = {**task("x"), ".ai-stack-trace/t1/contract/APPROVED": "LGTM\n"}
    repo.commit("work", {"src/app.py": "x = 2\n", **files})
    promote(pytester).stdout.fnmatch_lines(["*APPROVED: base names no commit; it must name*"])


def test_status_not_success(pytester: pytest.Pytester, repo: Repo) -> None:
    base = repo.git("rev-parse", "main")
    repo.commit("work", {"src/app.py": "x = 2\n", **task(base, state="FAILED")})
    result = promote(pytester)
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(['*t1/final/status.json: status is "FAILED"; "SUCCESS" required'])


def test_status_unreadable_and_without_scope(pytester: pytest.Pytester, repo: Repo) -> None:
    base = repo.git("rev-parse", "main")
    files = {
        **task(base), **task(base, "t2"),
        ".ai-stack-trace/t1/final/status.json": "{not json",
        ".ai-stack-trace/t2/final/status.json": json.dumps({"status": "SUCCESS"}),
    }
    repo.commit("work", {"src/app.py": "x = 2\n", **files})
    promote(pytester).stdout.fnmatch_lines([
        "*t1/final/status.json: status is unreadable: *",
        '*t2/final/status.json: status has no "scope" list of globs: it approves no change',
        "src/app.py: unapproved change outside the scope of task t1, t2",
    ])


def test_files_outside_the_scope_are_each_listed(pytester: pytest.Pytester, repo: Repo) -> None:
    base = repo.git("rev-parse", "main")
    repo.commit("work", {
        "src/app.py": "x = 2\n", "scripts/backfill.py": "", "setup.cfg": "", **task(base),
    })
    result = promote(pytester)
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines([
        "*2 provenance problems in 5 changed files*",
        "scripts/backfill.py: unapproved change outside the scope of task t1",
        "setup.cfg: unapproved change outside the scope of task t1",
    ])
    assert "src/app.py: unapproved" not in result.stdout.str()


def test_a_renamed_file_counts_on_both_sides(pytester: pytest.Pytester, repo: Repo) -> None:
    base = repo.git("rev-parse", "main")
    repo.git("mv", "src/app.py", "lib.py")
    repo.commit("move", task(base))
    promote(pytester).stdout.fnmatch_lines(["lib.py: unapproved change outside*"])


def test_change_without_any_task(pytester: pytest.Pytester, repo: Repo) -> None:
    repo.commit("work", {"src/app.py": "x = 2\n"})
    result = promote(pytester)
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines([
        "missing no .ai-stack-trace/<task>/ directory in the change",
        "src/app.py: unapproved change without provenance",
    ])


def test_docs_only_change_is_exempt(pytester: pytest.Pytester, repo: Repo) -> None:
    policy = POLICY.format(extra='exempt = ["docs/**", "*.md"]')
    repo.git("checkout", "-q", "main")
    repo.commit("policy", {"pyproject.toml": policy})
    repo.git("checkout", "-q", "-B", "feature")
    repo.commit("docs", {"docs/guide.txt": "how\n", "README.md": "# hi\n", "src/NOTES.md": ""})
    summary = gate_summary(pytester, "provenance", *PROMOTE)
    assert "3 changed files since main@" in summary
    assert "(tasks: none; 3 exempt)" in summary
    # The same exemption does not cover code.
    repo.commit("code", {"src/app.py": "x = 3\n"})
    promote(pytester).stdout.fnmatch_lines(["src/app.py: unapproved change without provenance"])


def test_a_leading_slash_anchors_an_exemption_at_the_root(pytester: pytest.Pytester, repo: Repo) -> None:
    """Globs read as a ``.gitignore``: ``/docs`` is the root's docs, not ``src/docs``."""
    repo.git("checkout", "-q", "main")
    repo.commit("policy", {"pyproject.toml": POLICY.format(extra='exempt = ["/docs", "!/docs/api.py"]')})
    repo.git("checkout", "-q", "-B", "feature")
    repo.commit("docs", {"docs/guide.txt": "how\n", "docs/api.py": "", "src/docs/gen.py": "x = 1\n"})
    result = promote(pytester)
    result.stdout.fnmatch_lines(["*3 changed files since main@* (tasks: none; 1 exempt)*",
                                 "docs/api.py: unapproved change without provenance",
                                 "src/docs/gen.py: unapproved change without provenance"])


def test_required_pieces_and_custom_layout(pytester: pytest.Pytester, repo: Repo) -> None:
    extra = """root = "prov"
approved = "OK"
status = "status.json"
require = ["codex/audit", "claude/review"]"""
    repo.git("checkout", "-q", "main")
    repo.commit("policy", {"pyproject.toml": POLICY.format(extra=extra)})
    base = repo.git("rev-parse", "HEAD")
    repo.git("checkout", "-q", "-B", "feature")
    repo.commit("work", {
        "src/app.py": "x = 2\n", "prov/t9/OK": base, "prov/t9/status.json": status(),
        "prov/t9/codex/audit/report.md": "fine\n",
    })
    result = promote(pytester)
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(["prov/t9/claude/review: missing required provenance of task t9"])
    repo.commit("review", {"prov/t9/claude/review/r.md": "fine\n"})
    promote(pytester).assert_outcomes(passed=2)


def test_base_option_beats_policy_beats_ci_target(
    pytester: pytest.Pytester, repo: Repo, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo.git("branch", "release")
    repo.git("checkout", "-q", "release")
    release = repo.commit("release fix", {"fix.txt": ""})
    repo.git("checkout", "-q", "-b", "hotfix")
    repo.commit("work", {"src/app.py": "x = 2\n", **task(release)})
    # Against the policy's main the change also holds fix.txt (out of scope).
    promote(pytester).stdout.fnmatch_lines(["fix.txt: unapproved change outside*"])
    # The CI's target never moves a base the policy names, and the base is stated.
    monkeypatch.setenv("GITHUB_BASE_REF", "release")
    result = promote(pytester)
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines([
        "promote: base of changes: $GITHUB_BASE_REF=release where neither --promote-base nor "
        "the policy's base names one",
        "*fix.txt: unapproved change outside*",
        "base of provenance: main@* (from [[]tool.promote.gates.provenance[]] base)",
    ])
    result = promote(pytester, "--promote-base=release")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["promote: base of changes: --promote-base=release",
                                 f"base of provenance: release@{release[:12]} (from --promote-base)"])


def test_ci_target_found_as_remote_tracking_branch(
    pytester: pytest.Pytester, repo: Repo, monkeypatch: pytest.MonkeyPatch
) -> None:
    base = repo.git("rev-parse", "main")
    policy = POLICY.replace('base = "main"', "").format(extra="")
    scope = ["src/**", "pyproject.toml"]
    repo.commit("work", {"src/app.py": "x = 2\n", "pyproject.toml": policy, **task(base, scope=scope)})
    repo.git("update-ref", "refs/remotes/origin/develop", base)
    monkeypatch.setenv("CI_MERGE_REQUEST_TARGET_BRANCH_NAME", "develop")
    # With no base in the policy, the CI's target is the base, and every output says so.
    said = f"since origin/develop@{base[:12]} (from $CI_MERGE_REQUEST_TARGET_BRANCH_NAME)"
    assert said in gate_summary(pytester, "provenance", *PROMOTE)
    report = json.loads((pytester.path / "promote-report.json").read_text())
    assert report["bases"] == {"provenance": said.removeprefix("since ")}


def test_unknown_base_is_an_error(pytester: pytest.Pytester, repo: Repo) -> None:
    repo.commit("work", {"src/app.py": "x = 2\n"})
    result = promote(pytester, "--promote-base=nowhere")
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines([
        "*base 'nowhere' (--promote-base) names no commit here; fetch it*"
    ])


def test_no_base_configured_is_an_error(pytester: pytest.Pytester, repo: Repo) -> None:
    policy = POLICY.replace('base = "main"', "").format(extra="")
    repo.commit("work", {"pyproject.toml": policy})
    promote(pytester).stdout.fnmatch_lines(
        ["*no base to measure the change from; pass --promote-base=REF*"]
    )


def test_outside_git_is_an_error(pytester: pytest.Pytester) -> None:
    pytester.makepyprojecttoml(POLICY.format(extra=""))
    result = promote(pytester)
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(["*is not a git checkout with a commit*"])


def test_a_path_leaving_the_project_is_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makepyprojecttoml(POLICY.format(extra='root = "../elsewhere"'))
    result = promote(pytester)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["*`root` = '../elsewhere' leaves the project root; it must be a relative path inside*"]
    )
