"""Hold the line on real projects: baseline, then promote each change to staging.

One command, ``python bench/holdline_bench.py``: for each project below it downloads
the sdist (``pip download --no-deps --no-binary :all:``), unpacks it into a
temporary git repository, and, timing each step:

1. ``python -m pytest_promote baseline --stage staging``, committed on ``main``;
2. ``pytest --promote-to=staging`` on a branch: GREEN expected;
3. one function with a new lint finding (an unused variable) and a new type error
   (a ``str`` returned as ``int``), with a test that runs it: RED expected, naming
   exactly those two findings;
4. ``git revert`` of that commit: GREEN expected;
5. a tested function: GREEN expected;
6. an untested function: RED expected, the coverage gate's ``new_lines`` naming its lines.

The policy (``promote.toml``, passed with ``--promote-config``) requires ``tests``,
``lint``, ``types`` and ``coverage`` at staging, with ``coverage = { new_lines = 80,
ratchet = true }`` against ``main``; the project's own ruff and pyright settings apply,
and coverage measures the package (``COVERAGE_RCFILE`` with ``source`` = the paths).
The script exits 1 when any colour or finding is not the expected one.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import textwrap
import time
from pathlib import Path

#: name, version, what lint and types look at, the module a change goes in, how a test
#: imports from it, where tests go, extra pytest arguments.
PROJECTS = [
    ("tabulate", "0.9.0", ["tabulate"], "tabulate/__init__.py", "tabulate", "test", []),
    ("idna", "3.7", ["idna"], "idna/core.py", "idna.core", "tests", []),
    ("webcolors", "1.13", ["src"], "src/webcolors/conversion.py", "webcolors.conversion",
     "tests", ["-o", "pythonpath=src"]),
]

POLICY = """
[tool.promote]
stages = ["development", "staging"]
paths = {paths}
enforce_path = false

[tool.promote.gates]
coverage = {{ base = "main" }}

[tool.promote.stage.development]
required = ["tests"]
advisory = ["lint", "types", "coverage"]

[tool.promote.stage.staging]
required = ["tests", "lint", "types", "coverage"]
coverage = {{ new_lines = 80, ratchet = true }}
"""

BAD = '''

def holdline_bad(value: int) -> int:
    """A new lint finding and a new type error."""
    unused = value
    return str(value)
'''

TESTED = '''

def holdline_tested(value: int) -> int:
    """A new, tested function."""
    if value < 0:
        return -value
    return value
'''

UNTESTED = '''

def holdline_untested(value: int) -> int:
    """A new function no test runs."""
    if value < 0:
        return -value
    return value * 2
'''

#: coverage.py settings for the runs: measure the package (none of these projects
#: configures ``source``, and without it a pytest-promote installed in editable mode,
#: outside site-packages, would be measured too).
RCFILE = ".promote-bench-coveragerc"

IGNORED = ".coverage\n.coverage.*\n.pytest_cache/\n__pycache__/\nhtmlcov/\nr.json\n"


def git(root: Path, *args: str) -> str:
    env = dict(os.environ, GIT_AUTHOR_NAME="bench", GIT_AUTHOR_EMAIL="bench@example.com",
               GIT_COMMITTER_NAME="bench", GIT_COMMITTER_EMAIL="bench@example.com")
    return subprocess.run(["git", *args], cwd=root, check=True, capture_output=True,
                          text=True, env=env).stdout.strip()


def commit(root: Path, message: str) -> None:
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", message)


def fetch(name: str, version: str, where: Path) -> Path:
    """The unpacked sdist of ``name==version``."""
    subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps",
                    "--no-binary", ":all:", f"{name}=={version}", "-d", str(where)],
                   check=True, capture_output=True)
    archive = next(where.glob(f"{name}-{version}.tar.gz"))
    with tarfile.open(archive) as tar:
        tar.extractall(where, filter="data")
    return where / f"{name}-{version}"


def promote(root: Path, extra: list[str]) -> tuple[float, dict]:
    """``pytest --promote-to=staging``: its seconds and JSON report."""
    began = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "pytest", "--promote-to=staging", "--promote-config=promote.toml",
         "--promote-report=r.json", "-p", "no:cacheprovider", "-q", *extra],
        cwd=root, capture_output=True, text=True, check=False,
        env=dict(os.environ, COVERAGE_RCFILE=str(root / RCFILE)),
    )
    took = time.perf_counter() - began
    return took, json.loads((root / "r.json").read_text(encoding="utf-8"))


def gates(report: dict) -> dict[str, dict]:
    return {g["id"]: g for g in report["gates"]}


def run_project(spec: tuple, where: Path) -> dict:
    name, version, paths, module, importable, tests, extra = spec
    root = fetch(name, version, where)
    (root / "promote.toml").write_text(POLICY.format(paths=json.dumps(paths)), encoding="utf-8")
    (root / RCFILE).write_text(f"[run]\nsource = {','.join(paths)}\n", encoding="utf-8")
    with open(root / ".gitignore", "a", encoding="utf-8") as handle:
        handle.write("\n" + IGNORED)
    git(root, "init", "-q", "-b", "main")
    commit(root, "the sdist")
    lines = sum(len(p.read_text(encoding="utf-8", errors="replace").splitlines())
                for path in paths for p in (root / path).rglob("*.py"))
    out: dict = {"project": f"{name} {version}", "lines": lines, "problems": []}

    began = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "pytest_promote", "baseline", "--stage",
                           "staging", "--config", "promote.toml"],
                          cwd=root, capture_output=True, text=True, check=False)
    out["baseline_s"] = time.perf_counter() - began
    if done.returncode:
        out["problems"].append(f"baseline failed: {done.stderr.strip()}")
        return out
    held = json.loads((root / ".promote-baseline.json").read_text(encoding="utf-8"))["gates"]
    out["baselined"] = {gid: len(entries) for gid, entries in held.items()}
    git(root, "add", "-f", ".promote-baseline.json")  # some projects ignore dotfiles
    commit(root, "baseline")
    git(root, "checkout", "-q", "-b", "change")
    test_file = root / tests / "test_holdline_probe.py"

    def step(label: str, colour: str) -> dict:
        took, report = promote(root, extra)
        out[f"{label}_s"] = took
        if report["colour"] != colour:
            out["problems"].append(f"{label}: {report['colour']}, expected {colour}: "
                                   + "; ".join(g["summary"] for g in report["gates"]))
        return gates(report)

    step("green", "green")

    with open(root / module, "a", encoding="utf-8") as handle:
        handle.write(BAD)
    test_file.write_text(f"from {importable} import holdline_bad\n\n\ndef test_bad():\n"
                         "    assert holdline_bad(2) == '2'\n", encoding="utf-8")
    commit(root, "a lint finding and a type error")
    red = step("red", "red")
    named = [(gid, f["rule"]) for gid in ("lint", "types") for f in red[gid]["findings"]]
    out["red_named"] = named
    if named != [("lint", "F841"), ("types", "reportReturnType")]:
        out["problems"].append(f"red named {named}, expected one F841 and one reportReturnType")
    if red["coverage"]["status"] != "passed":
        out["problems"].append(f"red: coverage {red['coverage']['summary']}")

    git(root, "revert", "--no-edit", "HEAD")
    step("reverted", "green")

    with open(root / module, "a", encoding="utf-8") as handle:
        handle.write(TESTED)
    test_file.write_text(textwrap.dedent(f"""\
        from {importable} import holdline_tested


        def test_tested():
            assert holdline_tested(-2) == 2
            assert holdline_tested(3) == 3
    """), encoding="utf-8")
    commit(root, "a tested function")
    step("tested", "green")

    with open(root / module, "a", encoding="utf-8") as handle:
        handle.write(UNTESTED)
    commit(root, "an untested function")
    untested = step("untested", "red")["coverage"]
    out["untested_named"] = [f"{f['file']}: {f['message']}" for f in untested["findings"]]
    if not any(f["rule"] == "new_lines" and f["file"] == module for f in untested["findings"]):
        out["problems"].append(f"untested: new_lines named {untested['findings']}")
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default=None, help="run one project (its name)")
    args = parser.parse_args()
    failed = False
    with tempfile.TemporaryDirectory(prefix="holdline-bench-") as tmp:
        for spec in PROJECTS:
            if args.only and spec[0] != args.only:
                continue
            result = run_project(spec, Path(tmp))
            print(json.dumps(result, indent=1), flush=True)
            failed |= bool(result["problems"])
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
