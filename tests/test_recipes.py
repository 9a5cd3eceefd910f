"""The CI recipes in docs/recipes: valid workflows whose commands are the documented
ones, and whose shell steps work, run here against a bare repository standing in for
the remote."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from children import PYTEST_INI
from gitrepo import run_git

ROOT = Path(__file__).resolve().parent.parent
RECIPES = ROOT / "docs" / "recipes"
GITHUB = RECIPES / "github-actions.yml"
GITLAB = RECIPES / "gitlab-ci.yml"
GITHUB_SHARDS = RECIPES / "github-actions-shards.yml"
GITLAB_SHARDS = RECIPES / "gitlab-ci-shards.yml"

POLICY = """
[tool.promote]
stages = ["development", "staging", "production"]

[tool.promote.stage.development]
required = ["tests"]
match = ["*"]

[tool.promote.stage.staging]
match = ["main"]

[tool.promote.stage.production]
match = ["v*"]
""" + PYTEST_INI  # every shell step's pytest is a process of its own

#: What GitLab puts in the push URL the recipe sets; the test's git sends it to the
#: bare repository instead.
PUSH_TOKEN = "glpat-test"
GITLAB_PUSH_URL = f"https://oauth2:{PUSH_TOKEN}@gitlab.example/shop/shop.git"


def github_steps(recipe: Path = GITHUB, job: str = "promote") -> list[dict[str, Any]]:
    return yaml.safe_load(recipe.read_text(encoding="utf-8"))["jobs"][job]["steps"]


def gitlab_job(recipe: Path = GITLAB, job: str = "promote") -> dict[str, Any]:
    return yaml.safe_load(recipe.read_text(encoding="utf-8"))[job]


def promote_options() -> set[str]:
    source = (ROOT / "pytest_promote" / "plugin.py").read_text(encoding="utf-8")
    return set(re.findall(r'"(--promote-[a-z-]+)"', source))


def test_recipes_are_valid_and_documented() -> None:
    page = (ROOT / "docs" / "ci.md").read_text(encoding="utf-8")
    for recipe in (GITHUB, GITLAB):
        assert recipe.read_text(encoding="utf-8") in page, f"docs/ci.md does not show {recipe.name}"

    workflow = yaml.safe_load(GITHUB.read_text(encoding="utf-8"))
    triggers = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` as true
    assert set(triggers) == {"push", "pull_request"}
    job = workflow["jobs"]["promote"]
    assert job["permissions"] == {"contents": "write"}
    steps = {s.get("name") or s["uses"].split("@")[0]: s for s in job["steps"]}
    assert steps["actions/checkout"]["with"]["fetch-depth"] == 0
    assert steps["Push the ledger"]["if"] == "always() && github.event_name == 'push'"
    artifacts = steps["actions/upload-artifact"]
    assert artifacts["if"] == "always()"
    assert set(artifacts["with"]["path"].split()) == {"junit.xml", "promotion.json", "promotion.md"}

    job = gitlab_job()
    assert job["variables"]["GIT_DEPTH"] == "0"
    assert job["artifacts"]["when"] == "always"
    assert job["artifacts"]["reports"]["junit"] == "junit.xml"
    assert set(job["artifacts"]["paths"]) == {"junit.xml", "promotion.json", "promotion.md"}

    commands = "\n".join([*(s.get("run", "") for s in github_steps()), *job["script"]])
    used = set(re.findall(r"--promote-[a-z-]+", commands))
    assert used and used <= promote_options(), used - promote_options()
    assert "--junitxml=junit.xml" in commands


class Remote:
    """A bare repository standing in for the CI's remote, and clones of it as CI
    checks it out (full history)."""

    def __init__(self, base: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.base = base
        gitconfig = base / "gitconfig"
        monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(gitconfig))
        monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
        self.origin = base / "origin.git"
        source = base / "source"
        source.mkdir()
        (source / "pyproject.toml").write_text(POLICY, encoding="utf-8")
        (source / "test_shop.py").write_text(
            "def test_ok():\n    assert True\n\n\ndef test_also():\n    assert True\n", encoding="utf-8"
        )
        (source / ".gitignore").write_text(".pytest_cache/\n__pycache__/\n*.xml\npromotion.*\n")
        run_git(source, "init", "-q", "-b", "main")
        run_git(source, "-c", "user.name=Ada", "-c", "user.email=ada@example.com",
                "add", "-A")
        run_git(source, "-c", "user.name=Ada", "-c", "user.email=ada@example.com",
                "commit", "-q", "-m", "shop")
        run_git(source, "branch", "feature")
        run_git(base, "clone", "-q", "--bare", str(source), str(self.origin))
        # GitLab's push URL leads here.
        run_git(base, "config", "--file", str(gitconfig),
                f"url.{self.origin}.insteadOf", GITLAB_PUSH_URL)

    def checkout(self, name: str, branch: str) -> Path:
        """actions/checkout with fetch-depth 0, or GitLab's clone with GIT_DEPTH 0."""
        work = self.base / name
        run_git(self.base, "clone", "-q", "--branch", branch, str(self.origin), str(work))
        return work

    def records(self) -> list[str]:
        """The stages of every record on the remote's ledger."""
        listed = run_git(self.origin, "notes", "--ref=promote", "list")
        stages = []
        for line in listed.splitlines():
            note = run_git(self.origin, "notes", "--ref=promote", "show", line.split()[1])
            stages += re.findall(r'"stage": "(\w+)"', note)
        return sorted(stages)


@pytest.fixture
def remote(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Remote:
    return Remote(tmp_path, monkeypatch)


def shell(script: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """``script`` as both CI systems run it: bash with errexit and pipefail, the
    Python of this test first on PATH (the recipe's install step did that)."""
    path = os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]])
    return subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
        cwd=cwd, env={**os.environ, "PATH": path, "CI": "true", **env},
        capture_output=True, text=True, check=False, timeout=300,
    )


def github_run(
    work: Path, event: str, branch: str, until: str | None = None,
    steps: list[dict[str, Any]] | None = None, matrix: dict[str, str] | None = None,
) -> list[str]:
    """Run the workflow's shell steps (not the install step: this interpreter has
    everything) as GitHub would for ``event``, stopping before step ``until``;
    the names of the steps that ran. ``steps``: another job's; ``matrix``: its
    matrix values."""
    ran = []
    for step in github_steps() if steps is None else steps:
        if "run" not in step or step["name"] == "Install":
            continue
        if step["name"] == until:
            break
        condition = step.get("if", "always()").replace("github.event_name", repr(event))
        if not eval(condition.replace("&&", "and").replace("always()", "True")):
            continue
        env = {k: v.replace("${{ github.event_name }}", event) for k, v in step.get("env", {}).items()}
        for name, value in (matrix or {}).items():
            env = {k: v.replace(f"${{{{ matrix.{name} }}}}", value) for k, v in env.items()}
        done = shell(step["run"], work, GITHUB_ACTIONS="true", GITHUB_REF_NAME=branch, **env)
        assert done.returncode == 0, f"{step['name']}:\n{done.stdout}\n{done.stderr}"
        ran.append(step["name"])
    return ran


def test_github_workflow_records_pushes_and_merges_the_ledger(remote: Remote) -> None:
    # A push to a feature branch: development, recorded and pushed.
    feature = remote.checkout("feature", "feature")
    ran = github_run(feature, "push", "feature")
    assert ran == ["Fetch the ledger", "Promote", "Push the ledger"]
    assert (feature / "junit.xml").is_file() and (feature / "promotion.json").is_file()
    assert remote.records() == ["development"]

    # The same commit on main: staging, whose path gate needs the fetched record.
    main = remote.checkout("main", "main")
    github_run(main, "push", "main", until="Push the ledger")
    # Meanwhile another job pushes a record of its own.
    other = remote.checkout("other", "feature")
    github_run(other, "push", "feature")
    assert remote.records() == ["development", "development"]
    # This job's sync merges theirs with its own record and pushes the union.
    pushed = shell(next(s["run"] for s in github_steps() if s.get("name") == "Push the ledger"), main)
    assert pushed.returncode == 0, pushed.stderr
    assert "refs/notes/promote: shared with origin" in pushed.stdout
    assert remote.records() == ["development", "development", "staging"]


def test_github_pull_request_records_and_pushes_nothing(remote: Remote) -> None:
    work = remote.checkout("pr", "feature")
    ran = github_run(work, "pull_request", "1/merge")
    assert ran == ["Fetch the ledger", "Promote"]
    assert run_git(work, "notes", "--ref=promote", "list") == ""
    assert remote.records() == []


def gitlab_script(work: Path, job: dict[str, Any] | None = None, **env: str) -> subprocess.CompletedProcess[str]:
    """The job's script (not its install line), as one bash script like the runner's."""
    lines = (job or gitlab_job())["script"]
    script = "\n".join(line for line in lines if not line.startswith("pip install"))
    ci = {"CI_SERVER_HOST": "gitlab.example", "CI_PROJECT_PATH": "shop/shop", **env}
    return shell(script, work, GITLAB_CI="true", **ci)


def test_gitlab_job_pushes_with_a_token_and_not_for_merge_requests(remote: Remote) -> None:
    work = remote.checkout("mr", "feature")
    merge_request = gitlab_script(
        work, CI_PIPELINE_SOURCE="merge_request_event", PROMOTE_PUSH_TOKEN=PUSH_TOKEN
    )
    assert merge_request.returncode == 0, merge_request.stderr
    assert "ledger not pushed" in merge_request.stdout
    assert remote.records() == []

    work = remote.checkout("branch", "feature")
    pushed = gitlab_script(work, CI_PIPELINE_SOURCE="push", PROMOTE_PUSH_TOKEN=PUSH_TOKEN)
    assert pushed.returncode == 0, pushed.stdout + pushed.stderr
    assert (work / "junit.xml").is_file()
    assert remote.records() == ["development"]


def test_gitlab_job_keeps_pytest_s_exit_status_and_still_pushes(remote: Remote) -> None:
    work = remote.checkout("red", "feature")
    (work / "test_shop.py").write_text("def test_broken():\n    assert False\n", encoding="utf-8")
    run_git(work, "-c", "user.name=Ada", "-c", "user.email=ada@example.com",
            "commit", "-qam", "broken")
    red = gitlab_script(work, CI_PIPELINE_SOURCE="push", PROMOTE_PUSH_TOKEN=PUSH_TOKEN)
    assert red.returncode == 1
    assert remote.records() == ["development"]  # the failed attempt is on the record too


def test_sharded_recipes_are_valid_and_documented() -> None:
    page = (ROOT / "docs" / "sharding.md").read_text(encoding="utf-8")
    for recipe in (GITHUB_SHARDS, GITLAB_SHARDS):
        assert recipe.read_text(encoding="utf-8") in page, f"docs/sharding.md does not show {recipe.name}"

    jobs = yaml.safe_load(GITHUB_SHARDS.read_text(encoding="utf-8"))["jobs"]
    shard, final = jobs["shard"], jobs["promote"]
    assert shard["strategy"]["fail-fast"] is False
    step = next(s for s in shard["steps"] if s.get("name") == "Shard")
    groups = shard["strategy"]["matrix"]["group"]
    assert groups == list(range(1, int(step["env"]["SPLITS"]) + 1))
    upload = next(s for s in shard["steps"] if s.get("uses", "").startswith("actions/upload-artifact"))
    assert upload["if"] == "always()" and upload["with"]["include-hidden-files"] is True
    assert upload["with"]["path"] == "shards/"
    assert final["needs"] == "shard" and final["if"] == "${{ !cancelled() }}"
    download = next(s for s in final["steps"] if s.get("uses", "").startswith("actions/download-artifact"))
    assert download["with"] == {"pattern": "shard-*", "path": "shards", "merge-multiple": True}
    assert final["permissions"] == {"contents": "write"}

    shard_job, final_job = gitlab_job(GITLAB_SHARDS, "shard"), gitlab_job(GITLAB_SHARDS)
    assert shard_job["artifacts"] == {"when": "always", "paths": ["shards/"]}
    assert isinstance(shard_job["parallel"], int) and final_job["when"] == "always"
    assert yaml.safe_load(GITLAB_SHARDS.read_text(encoding="utf-8"))["stages"] == ["test", "promote"]

    commands = "\n".join([
        *(s.get("run", "") for job in (shard, final) for s in job["steps"]),
        *shard_job["script"], *final_job["script"],
    ])
    used = set(re.findall(r"--promote-[a-z-]+", commands))
    assert {"--promote-shard", "--promote-from", "--promote-only"} <= used <= promote_options()


def take_bundles(shard_work: Path, final_work: Path) -> None:
    """What the artifacts carry from a shard job to the final job: ``shards/``."""
    for bundle in (shard_work / "shards").iterdir():
        shutil.copytree(bundle, final_work / "shards" / bundle.name)


def test_github_sharded_workflow_judges_the_shards_and_records_once(remote: Remote) -> None:
    jobs = yaml.safe_load(GITHUB_SHARDS.read_text(encoding="utf-8"))["jobs"]
    final = remote.checkout("final", "feature")
    for group in jobs["shard"]["strategy"]["matrix"]["group"]:
        work = remote.checkout(f"shard-{group}", "feature")
        ran = github_run(work, "push", "feature", steps=jobs["shard"]["steps"], matrix={"group": str(group)})
        assert ran == ["Shard"]
        assert remote.records() == []  # a shard records nothing
        take_bundles(work, final)
    ran = github_run(final, "push", "feature", steps=jobs["promote"]["steps"])
    assert ran == ["Fetch the ledger", "Promote", "Push the ledger"]
    report = json.loads((final / "promotion.json").read_text(encoding="utf-8"))
    assert report["colour"] == "green" and report["accepted"] and report["dirty"] == []
    assert len(report["shards"]) == 4 and sum(s["ran"] for s in report["shards"]) == 2
    assert remote.records() == ["development"]


def test_gitlab_sharded_pipeline_judges_the_shards_and_pushes(remote: Remote) -> None:
    final = remote.checkout("final", "feature")
    total = gitlab_job(GITLAB_SHARDS, "shard")["parallel"]
    for index in range(1, total + 1):
        work = remote.checkout(f"shard-{index}", "feature")
        done = gitlab_script(work, gitlab_job(GITLAB_SHARDS, "shard"), CI_NODE_INDEX=str(index),
                             CI_NODE_TOTAL=str(total), CI_PIPELINE_SOURCE="push")
        assert done.returncode == 0, done.stdout + done.stderr
        take_bundles(work, final)
    done = gitlab_script(final, gitlab_job(GITLAB_SHARDS), CI_PIPELINE_SOURCE="push",
                         PROMOTE_PUSH_TOKEN=PUSH_TOKEN)
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads((final / "promotion.json").read_text(encoding="utf-8"))
    assert report["colour"] == "green" and report["accepted"]
    assert [s["shard"]["index"] for s in report["shards"]] == list(range(1, total + 1))
    assert remote.records() == ["development"]
