"""The example project of the README's first command: RED with readable findings, and
GREEN after the changes its README describes, run as the README prints it (the
console script ``pytest``, through a shell)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from gitrepo import Repo

ROOT = Path(__file__).resolve().parent.parent
SHOP = ROOT / "examples" / "shop"
#: The installing steps the Quickstart's commands start with: this test's environment.
INSTALL = ("python3 -m venv .venv", ". .venv/bin/activate")


def quickstart(number: int) -> str:
    """The README's Quickstart command ``number`` as printed, less the installing steps
    (creating and activating the environment, ``pip install``) that this test's
    environment stands for."""
    block = (ROOT / "README.md").read_text(encoding="utf-8").split("## Quickstart")[1].split("```bash")[1]
    line = block.split(f"# {number}. ")[1].splitlines()[1]
    steps = line.split(" && ")
    assert tuple(steps[:2]) == INSTALL and steps[2].startswith("pip install -e "), line
    return " && ".join(steps[3:])


@pytest.fixture
def shop(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> Repo:
    """A clone of this repository as far as the example goes: examples/shop in a git
    repository (the secrets gate scans tracked files)."""
    shutil.copytree(SHOP, pytester.path / "examples" / "shop", ignore=shutil.ignore_patterns(
        ".pytest_cache", ".ruff_cache", ".coverage", "__pycache__"))
    repo = Repo(pytester.path, monkeypatch)
    repo.commit("the shop")
    return repo


def shell(repo: Repo, command: str) -> pytest.RunResult:
    """``command`` through a shell at the clone's root, with this environment active
    (its console scripts first on PATH, as ``. .venv/bin/activate`` puts them)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "PYTHONPATH"))}
    env.update(PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
               VIRTUAL_ENV=sys.prefix)
    done = subprocess.run(["bash", "-c", command], cwd=repo.path, env=env, capture_output=True,
                          text=True, check=False, timeout=600)
    return pytest.RunResult(done.returncode, done.stdout.splitlines(), done.stderr.splitlines(), 0)


def promote(repo: Repo, stage: str) -> pytest.RunResult:
    return shell(repo, f"cd examples/shop && pytest --promote-to={stage} --promote-no-ledger")


def test_first_run_is_red_with_findings_then_green_after_the_readme_s_changes(shop: Repo) -> None:
    readme = (SHOP / "README.md").read_text(encoding="utf-8")
    command = quickstart(1)
    assert command == "(cd examples/shop && pytest --promote-to=staging --promote-no-ledger)"
    red = shell(shop, command)
    assert red.ret == 1, red.outlines + red.errlines
    shown = "\n".join(line for line in red.outlines if line.startswith("  "))
    for line in readme.split("The run is RED, and says why:")[1].split("```")[1].strip("\n").splitlines():
        assert line in shown, line  # the README shows what the run shows
    red.stdout.fnmatch_lines([
        "shop/cart.py:33: reportAssignmentType Type \"int\" is not assignable to declared type \"str\"",
        "coverage 85% < 90% required for staging",
        "shop/shipping.py: covered 64% (5 missing lines)",
    ])
    assert shop.git("notes", "--ref=promote", "list") == ""

    cart = shop.path / "examples" / "shop" / "shop" / "cart.py"
    cart.write_text(cart.read_text().replace("cents: str = self.total()", "cents = self.total()"))
    (new_tests,) = re.findall(r"```python\n(.*?)```", readme, re.S)
    with open(shop.path / "examples" / "shop" / "tests" / "test_cart.py", "a", encoding="utf-8") as tests:
        tests.write("\n\n" + "\n".join(line.removeprefix("   ") for line in new_tests.splitlines()))
    uncommitted = promote(shop, "staging")
    uncommitted.stdout.fnmatch_lines(
        ["stage staging: YELLOW (advisory gate lint failed)*not accepted*working tree dirty: 2 paths differ*"])
    assert uncommitted.ret == 0  # a local pre-check: the colour decides the exit status
    shop.commit("type error mended, shipping tested")
    yellow = promote(shop, "staging")
    yellow.stdout.fnmatch_lines(["stage staging: YELLOW (advisory gate lint failed): accepted*"])
    assert yellow.ret == 0

    cart.write_text(cart.read_text().replace("import json\n", ""))
    shop.commit("unused import removed")
    green = promote(shop, "production")
    green.stdout.fnmatch_lines(["stage production: GREEN: accepted, production accepts green"])
    assert green.ret == 0


TTA = ROOT / "examples" / "tta"


def test_tta_promotes_one_component_to_staging_while_the_other_fails_development(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """examples/tta as its README runs it: the commands as printed, the verdicts, the status."""
    shutil.copytree(TTA, pytester.path, dirs_exist_ok=True, ignore=shutil.ignore_patterns(
        ".pytest_cache", ".ruff_cache", ".coverage", "__pycache__"))
    repo = Repo(pytester.path, monkeypatch)
    repo.commit("tta")
    readme = (TTA / "README.md").read_text(encoding="utf-8")
    commands = readme.split("```bash")[1].split("```")[0].strip().splitlines()[2:]
    runs = [shell(repo, command) for command in commands]
    assert [r.ret for r in runs] == [0, 1, 0, 0]
    orchestration, player, staging, status = runs
    orchestration.stdout.fnmatch_lines([
        "tests/agent_orchestration/test_router.py ...*",
        "component agent_orchestration, stage development: GREEN: accepted, development accepts yellow",
        "  coverage  required  passed     measured 100%, threshold 60%",
    ])
    assert "player_experience" not in orchestration.stdout.str()
    red = readme.split("The second is RED:")[1].split("```")[1].strip()
    player.stdout.fnmatch_lines([red, "  coverage  required  failed     measured 22%, threshold 60%"])
    staging.stdout.fnmatch_lines([
        "component agent_orchestration, stage staging: GREEN: accepted, staging accepts green",
        "  types     required  passed     measured 0, threshold 0",
        "  path      required  passed     measured development accepted on *",
    ])
    head = repo.git("rev-parse", "HEAD")[:12]
    status.stdout.fnmatch_lines([
        "component * stage * last accepted (rollback target) * last failed * HEAD",
        f"agent_orchestration  development  {head} GREEN * - * accepted",
        f"agent_orchestration  staging      {head} GREEN * - * accepted",
        "agent_orchestration  production   - * - * not recorded",
        f"player_experience    development  - * {head} RED * failed",
    ])

    repo.commit("player_experience greets warmly", {
        "src/player_experience/session.py":
            (pytester.path / "src/player_experience/session.py").read_text().replace("Welcome back", "Hello")})
    later = shell(repo, "pytest --promote-status")
    later.stdout.fnmatch_lines([f"agent_orchestration  staging * accepted (unchanged since {head})"])
    production = shell(repo, "pytest --promote-to=production --promote-component=agent_orchestration")
    production.stdout.fnmatch_lines([
        "component agent_orchestration, stage production: GREEN: accepted, production accepts green",
        "  coverage  required  passed     measured 100%, threshold 85%",
        f"  path      required  passed     measured staging accepted on {head}, threshold staging accepted",
    ])
