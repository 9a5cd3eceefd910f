"""Cost of the HTML page: ``pytest-promote report html`` on a ledger of 1,000 records,
the page's size, and how long headless Chromium takes to load and lay it out.

Makes a repository with 250 commits and four records on each (development, staging,
production and one failed retry, with figures), then times the command as a user runs
it (a process of its own, CPU time, median of the rounds) against ``git notes list``
plus reading every note (what any reader of the ledger pays). Targets: generation
under 2 s, the page under 1 MB, the browser's load under 1 s.

    python bench/page_bench.py [--rounds N] [--commits N]

``--repository DIR`` times the command on DIR's own ledger instead (this repository
after promoting a few commits: ``python bench/page_bench.py --repository .``).
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

POLICY = '[tool.promote]\nstages = ["development", "staging", "production"]\n'


def git(root: Path, *args: str, text: str | None = None) -> str:
    done = subprocess.run(["git", *args], cwd=root, input=text, capture_output=True, text=True, check=True)
    return done.stdout.strip()


def make_ledger(root: Path, commits: int) -> None:
    """``commits`` commits, each with four records in its note."""
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.name", "Bench")
    git(root, "config", "user.email", "bench@example.com")
    (root / "pyproject.toml").write_text(POLICY)
    git(root, "add", "pyproject.toml")
    git(root, "commit", "-q", "-m", "policy")
    tree = git(root, "rev-parse", "HEAD^{tree}")
    parent = git(root, "rev-parse", "HEAD")
    for n in range(commits):
        parent = git(root, "commit-tree", tree, "-p", parent, "-m", f"change {n}")
        lines = []
        for k, (stage, colour, accepted) in enumerate((
            ("development", "red", False), ("development", "green", True),
            ("staging", "yellow", True), ("production", "green", True),
        )):
            lines.append(json.dumps({
                "stage": stage, "colour": colour, "accepted": accepted, "headline": colour.upper(),
                "time": f"2026-01-01T00:{n // 60 % 60:02d}:{n % 60:02d}.{k:06d}+00:00",
                "gates": {"tests": "passed", "coverage": "passed", "lint": "failed"},
                "figures": {"coverage": {"total": 80 + n % 17}, "lint": {"count": n % 5},
                            "tests": {"passed": 100 + n, "failed": 0}},
                "caveats": [], "dirty": 0, "environment": {}, "actor": "bench",
            }, sort_keys=True))
        git(root, "notes", "--ref=promote", "add", "-f", "-F", "-", parent, text="\n".join(lines) + "\n")
    git(root, "reset", "-q", "--hard", parent)


def cpu(cmd: list[str], root: Path) -> float:
    """CPU time (user + system) of one run of ``cmd`` in ``root``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(cmd, cwd=root, check=True, stdout=subprocess.DEVNULL)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def browser_load(page: Path) -> float | None:
    """Seconds from navigation start to the end of the load event in headless Chromium
    (None when Chromium or Playwright is not installed)."""
    chromium = shutil.which("chromium")
    if chromium is None:
        return None
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return None
    with sync_playwright() as play:
        browser = play.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--disable-gpu"])
        tab = browser.new_page()
        tab.goto(page.as_uri())
        took = tab.evaluate("performance.getEntriesByType('navigation')[0].loadEventEnd") / 1000
        browser.close()
    return took


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--commits", type=int, default=250)
    parser.add_argument("--repository", type=Path, default=None, help="time the page of this repository's ledger")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="page-bench-") as where:
        if args.repository is None:
            root = Path(where)
            make_ledger(root, args.commits)
            out = "page"
        else:
            root, out = args.repository.resolve(), str(Path(where) / "page")
        draw = [sys.executable, "-m", "pytest_promote", "report", "html", "--out", out, "--last", "250"]
        read = ["sh", "-c", "git notes --ref=promote list | cut -d' ' -f1 | git cat-file --batch >/dev/null"]
        drawn, plain = [], []
        for _ in range(args.rounds):
            drawn.append(cpu(draw, root))
            plain.append(cpu(read, root))
        page = root / out / "index.html"
        size = page.stat().st_size
        load = browser_load(page)
        noted = len(git(root, "notes", "--ref=promote", "list").splitlines())
        print(f"ledger: {args.repository or 'generated'}: notes on {noted} commits")
        took, base = statistics.median(drawn), statistics.median(plain)
        print(f"report html: {took:.2f} s CPU (target < 2 s); reading the notes alone: "
              f"{base:.2f} s; ratio {took / max(base, 1e-3):.1f}")
        print(f"page: {size / 1024:.0f} KiB (target < 1024 KiB)")
        print("browser load: " + ("not measured (no chromium/playwright)" if load is None
                                  else f"{load:.2f} s (target < 1 s)"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
