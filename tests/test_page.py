"""The promotion drawn: ``--promote-html=DIR`` on a run and ``pytest-promote report
html`` from the ledger (one self-contained page), and ``pytest-promote badge``.

A real repository is promoted over two commits (one advisory lint finding, an override
at staging, then a failing test), and the pages are read as a person reads them: in
headless Chromium when it is installed (Debian's ``chromium``; ``.ci/run`` installs it).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from gitrepo import NO_CACHE, Repo, run_git

from conftest import CI_VARIABLES
from pytest_promote.cli.main import main
from pytest_promote.report.page import render

POLICY = """
[tool.promote]
stages = ["development", "staging", "production"]
enforce_path = false

[tool.promote.gates]
smoke = { command = ["false"] }

[tool.promote.stage.development]
accept = "yellow"
required = ["tests"]
advisory = ["lint"]

[tool.promote.stage.staging]
accept = "yellow"
required = ["tests", "smoke"]
"""

FILES = {
    "app": "import os\n\n\ndef add(a, b):\n    return a + b\n",
    "test_app": "from app import add\n\n\ndef test_add():\n    assert add(1, 2) == 3\n",
}


def browser() -> str | None:
    """The Chromium to drive: ``PROMOTE_TEST_BROWSER`` (CI sets it, so a missing one
    fails there), else Debian's ``chromium`` when installed."""
    named = os.environ.get("PROMOTE_TEST_BROWSER")
    if named:
        assert Path(named).is_file(), f"PROMOTE_TEST_BROWSER={named} does not exist"
        return named
    return shutil.which("chromium")


def promote(root: Path, env: dict[str, str], *args: str) -> int:
    """A promotion of ``root`` as a user runs it, in a process of its own."""
    return subprocess.run(
        [sys.executable, "-m", "pytest", *args, *NO_CACHE, "-q"], cwd=root, env=env,
        capture_output=True, check=False, timeout=600,
    ).returncode


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """Two commits promoted (once for the module): the first through development
    (YELLOW, lint failed) and staging (YELLOW, smoke overridden by octocat); the second
    RED at development, with ``--promote-html=run-page`` and a Markdown summary, where
    GitLab says its Pages are."""
    root = tmp_path_factory.mktemp("promoted")
    env = {k: v for k, v in os.environ.items() if k not in CI_VARIABLES and k != "PYTEST_ADDOPTS"}
    env.update(GIT_CONFIG_GLOBAL=str(root / ".no-global-gitconfig"), GIT_CONFIG_NOSYSTEM="1",
               GITHUB_ACTOR="octocat")
    with pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        repo = Repo(root, patch)
        repo.commit("first", {"pyproject.toml": POLICY, **{f"{k}.py": v for k, v in FILES.items()}})
        assert promote(root, env, "--promote-to=development") == 0
        assert promote(root, env, "--promote-to=staging", "--promote-override=smoke:staging env down, INC-7") == 0
        repo.commit("a failing test", {"test_more.py": "def test_broken():\n    assert False\n"})
        pages = {**env, "CI_PAGES_URL": "https://octo.pages.example/app/"}
        assert promote(root, pages, "--promote-to=development", "--promote-html=run-page",
                       "--promote-summary=summary.md") == 1
    return root, env


@pytest.fixture
def history(built, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """A copy of the promoted repository (notes included), the working directory."""
    source, env = built
    root = tmp_path / "repo"
    shutil.copytree(source, root)
    for name in ("GIT_CONFIG_GLOBAL", "GIT_CONFIG_NOSYSTEM", "GITHUB_ACTOR"):
        monkeypatch.setenv(name, env[name])
    monkeypatch.chdir(root)
    first, second = run_git(root, "rev-list", "--reverse", "HEAD").split()
    return {"first": first, "second": second, "root": str(root)}


def page_of(history: dict[str, str], name: str) -> Path:
    return Path(history["root"]) / name / "index.html"


def test_the_run_and_the_ledger_draw_one_self_contained_page(history, capsys) -> None:
    assert main(["report", "html", "--out", "ledger-page"]) == 0
    assert capsys.readouterr().out.startswith("report html: wrote ")
    first, second = history["first"][:12], history["second"][:12]
    for name in ("run-page", "ledger-page"):
        html = page_of(history, name).read_text(encoding="utf-8")
        # Self-contained: no script, and nothing fetched from anywhere.
        assert "<script" not in html
        assert not re.search(r"""(src|href)=["']?(https?:)?//""", html)
        # The history: both commits, newest first, each cell labelled in words.
        assert html.index(f"<code>{second}</code>") < html.index(f"<code>{first}</code>")
        assert "RED not accepted" in html and "YELLOW</span>" in html
        assert "development → staging" in html  # the path the first commit took
        # The override, and who authorised it.
        assert re.search(r"<td>smoke</td><td>octocat</td><td>[^<]*</td><td>staging env down, INC-7</td>", html)
        # The trends: the failed test count went from 0 to 1 at development.
        assert "tests failed at development: from 0 to 1 over 2 commits" in html
    run_page = page_of(history, "run-page").read_text(encoding="utf-8")
    assert "This run." in run_page and "· this run" in run_page
    # A finding links to its file:line, relative from the page to the checkout.
    assert '<a href="../app.py">app.py:1</a>' in run_page
    # Each stage's badge beside the page, and the summary links the published one.
    root = Path(history["root"])
    assert f">YELLOW {history['first'][:7]}</text>" in (root / "run-page" / "badge-staging.svg").read_text()
    assert ">none accepted</text>" in (root / "ledger-page" / "badge-production.svg").read_text()
    summary = (root / "summary.md").read_text()
    assert "![development](https://octo.pages.example/app/badge-development.svg)" in summary
    ledger_page = page_of(history, "ledger-page").read_text(encoding="utf-8")
    assert f"The ledger&#39;s newest record of HEAD: commit {second}" in ledger_page


def test_findings_link_to_the_repository_the_ci_names(tmp_path: Path) -> None:
    github = {"GITHUB_SERVER_URL": "https://github.example", "GITHUB_REPOSITORY": "octo/app"}
    gitlab = {"CI_PROJECT_URL": "https://gitlab.example/octo/app"}
    assert render.repository_url(github, "abc") == "https://github.example/octo/app/blob/abc/"
    assert render.repository_url(gitlab, "abc") == "https://gitlab.example/octo/app/-/blob/abc/"
    assert render.repository_url({}, "abc") is None and render.repository_url(github, None) is None
    on_github = render.linker(tmp_path, tmp_path / "page", render.repository_url(github, "abc"))
    assert on_github("pkg/app.py", 7) == "https://github.example/octo/app/blob/abc/pkg/app.py#L7"
    local = render.linker(tmp_path, tmp_path / "out" / "page", None)
    assert local("pkg/app.py", 7) == "../../pkg/app.py" and local(None, None) is None


def test_the_badge_shows_the_newest_accepted_commit(history, capsys) -> None:
    assert main(["badge", "--stage", "staging", "--out", "staging.svg"]) == 0
    svg = (Path(history["root"]) / "staging.svg").read_text()
    assert f">YELLOW {history['first'][:7]}</text>" in svg and 'aria-label="staging: YELLOW' in svg
    # The RED second commit is not accepted: development's badge stays on the first.
    assert main(["badge", "--stage", "development", "--out", "dev.svg"]) == 0
    assert f">YELLOW {history['first'][:7]}</text>" in (Path(history["root"]) / "dev.svg").read_text()
    assert main(["badge", "--stage", "production", "--out", "prod.svg"]) == 0
    assert ">none accepted</text>" in (Path(history["root"]) / "prod.svg").read_text()
    capsys.readouterr()
    assert main(["badge", "--stage", "prod", "--out", "x.svg"]) == 4
    said = capsys.readouterr().err
    assert "badge: --stage 'prod' is not a stage of pyproject.toml [tool.promote]; valid: development, " in said


def test_an_unwritable_page_directory_fails_saying_where(history, capsys) -> None:
    Path(history["root"], "taken").write_text("a file, not a directory")
    assert main(["report", "html", "--out", "taken"]) == 4
    assert "report html: --out 'taken' cannot be written" in capsys.readouterr().err


@pytest.mark.skipif(browser() is None, reason="no chromium installed (apt-get install chromium)")
def test_the_page_as_a_person_sees_it(history, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    assert main(["report", "html", "--out", "ledger-page"]) == 0
    url = page_of(history, "run-page").as_uri()
    with sync_playwright() as play:
        chromium = play.chromium.launch(executable_path=browser(), args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run",
        ])
        try:
            page = chromium.new_page(viewport={"width": 1100, "height": 900})
            errors: list[str] = []
            requests: list[str] = []
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("request", lambda r: requests.append(r.url))
            page.goto(url)
            assert requests == [url] and errors == []
            # Every gate of the run, with its status in words.
            assert page.locator("table.gates tr.gate").evaluate_all(
                "rows => rows.map(r => [r.dataset.gate, r.cells[2].innerText])"
            ) == [["tests", "failed"], ["lint", "failed"]]
            assert page.locator("[data-label]").inner_text() == "RED not accepted"
            # The grid: two commits x three stages, three of them recorded.
            assert page.locator("table.grid tbody tr").count() == 2
            assert page.locator("table.grid td.cell").count() == 3
            assert page.locator("table.grid td.empty").count() == 3
            assert page.locator("svg.chart").count() >= 2
            page.screenshot(path=str(tmp_path / "wide.png"), full_page=True)
            # Keyboard: the first Tab reaches the skip link, Enter follows it.
            page.keyboard.press("Tab")
            assert page.evaluate("document.activeElement.textContent") == "Skip to the scorecard"
            page.keyboard.press("Enter")
            assert page.evaluate("location.hash") == "#scorecard"
            # Phone width: the page itself never scrolls sideways (wide tables scroll
            # inside their own box).
            page.set_viewport_size({"width": 360, "height": 740})
            assert page.evaluate("document.documentElement.scrollWidth") <= 360
            page.screenshot(path=str(tmp_path / "phone.png"), full_page=True)
        finally:
            chromium.close()
    assert (tmp_path / "wide.png").stat().st_size > 10_000


def test_a_record_without_a_statement_shows_its_gate_statuses(tmp_path: Path) -> None:
    from pytest_promote.ledger.records import Record
    from pytest_promote.report.page import history

    old = Record(commit="a" * 40, stage="development", colour="green", accepted=True,
                 time="2026-01-01T00:00:00+00:00", gates={"tests": "passed", "lint": "failed"})
    card = render.scorecard(render.from_record(old), "an old record", render.linker(tmp_path, tmp_path, None))
    shown = history.build([old], ["development"], [None], ([], lambda stage: (), False), 10)
    html = render.page("old", None, [card], shown)
    assert '<tr class="gate" data-gate="lint"><th scope="row">lint</th><td></td>' in html
    assert "GREEN</span>" in html and "unsigned" in html
