"""How much a promotion costs: ``pytest --promote-to=production`` against the plain script.

One command, ``python bench/promotion_bench.py``: it builds a realistic project in a
temporary directory (a package of at least 20,000 lines with tests that import it,
in a git repository) and, in the same run, times

(a) the plain sequential script::

        coverage run -m pytest; coverage report --fail-under=N; ruff check; pyright;
        detect-secrets scan

(b) ``pytest --promote-to=production`` with a policy requiring tests, coverage, lint,
    types and secrets (the gates whose kinds are installed: it says which are not),

(c) a warm ``pytest --promote-to=production --promote-only`` with nothing changed,

and prints b/a (target <= 0.6), b over the slowest single step of (a) (target
<= 1.15) and c/b (target <= 0.2). ``--runs N`` rounds of (a) then (b) alternate,
and their medians are compared: one round on a shared machine is mostly noise.
Each step's CPU seconds (its children's included) are shown too, with the bound
they set: (b) cannot end before its CPU seconds over the cores.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from statistics import median

WANTED_GATES = ("tests", "coverage", "lint", "types", "secrets")
COVERAGE_MIN = 80
BLOCKS_PER_MODULE = 12  # about 35 lines each


def installed_gates() -> list[str]:
    """The wanted gate kinds this installation of pytest-promote provides."""
    return [
        g for g in WANTED_GATES if importlib.util.find_spec(f"pytest_promote.gates.{g}")
    ]


MODULE_HEAD = '''"""Module {i} of the benchmark package: records, totals and text helpers."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
'''

BLOCK = '''

@dataclasses.dataclass(frozen=True)
class Record{j}:
    """A named, weighted value."""

    name: str
    value: int
    weight: float = 1.0

    def scaled(self, factor: float) -> float:
        """The value scaled by ``factor`` and the weight."""
        return self.value * factor * self.weight


def total_{j}(records: Iterable[Record{j}]) -> float:
    """The weighted sum; negative values count half."""
    result = 0.0
    for record in records:
        if record.value < 0:
            result -= record.scaled(0.5)
        else:
            result += record.scaled(1.0)
    return result


def label_{j}(words: Sequence[str], width: int = {width}) -> str:
    """The words joined, cut to ``width`` characters."""
    text = "-".join(word.strip().lower() for word in words if word.strip())
    if len(text) > width:
        return text[: width - 1] + "~"
    return text or "empty"
'''

TEST_HEAD = '''"""Tests of benchpkg.mod_{i}."""

from __future__ import annotations

from benchpkg import mod_{i}
'''

TEST_BLOCK = '''

def test_total_{j}() -> None:
    records = [mod_{i}.Record{j}(f"r{{n}}", n - 50, 1.5) for n in range(3000)]
    assert mod_{i}.total_{j}(records) > 0


def test_label_{j}() -> None:
    assert mod_{i}.label_{j}(["Alpha", " beta ", ""]) == "alpha-beta"
    assert mod_{i}.label_{j}([]) == "empty"
'''


def build(root: Path, modules: int) -> int:
    """Write the project; returns the number of source lines of the package."""
    pkg, tests = root / "benchpkg", root / "tests"
    pkg.mkdir()
    tests.mkdir()
    (pkg / "__init__.py").write_text('"""The benchmark package."""\n', encoding="utf-8")
    lines = 1
    for i in range(modules):
        body = MODULE_HEAD.format(i=i) + "".join(
            BLOCK.format(j=j, width=20 + j) for j in range(BLOCKS_PER_MODULE)
        )
        (pkg / f"mod_{i}.py").write_text(body, encoding="utf-8")
        lines += body.count("\n")
        test = TEST_HEAD.format(i=i) + "".join(
            TEST_BLOCK.format(i=i, j=j) for j in range(BLOCKS_PER_MODULE)
        )
        (tests / f"test_mod_{i}.py").write_text(test, encoding="utf-8")
    gates = installed_gates()
    (root / "pyproject.toml").write_text(
        f"""[project]
name = "benchpkg"
version = "0"

[tool.pytest.ini_options]
testpaths = ["tests"]
pythonpath = ["."]

[tool.coverage.run]
source = ["benchpkg"]

[tool.ruff.lint]
select = ["E", "F", "W", "I", "B", "UP"]

[tool.pyright]
include = ["benchpkg", "tests"]

[tool.promote]
stages = ["production"]

[tool.promote.stage.production]
required = {json.dumps(gates)}
{f"coverage = {{ min = {COVERAGE_MIN} }}" if "coverage" in gates else ""}
""",
        encoding="utf-8",
    )
    git = ["git", "-c", "user.name=bench", "-c", "user.email=bench@example.invalid"]
    subprocess.run([*git, "init", "-q"], cwd=root, check=True)
    subprocess.run([*git, "add", "."], cwd=root, check=True)
    subprocess.run([*git, "commit", "-qm", "benchmark project"], cwd=root, check=True)
    return lines


def tool(name: str) -> str:
    """The executable installed beside this interpreter (else on PATH)."""
    beside = Path(sys.executable).parent / name
    return str(beside) if beside.exists() else shutil.which(name) or name


def timed(argv: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float, int]:
    """Seconds ``argv`` took, the CPU seconds it and its children used, its exit status."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    begin = time.perf_counter()
    done = subprocess.run(argv, cwd=cwd, env=env, stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL, check=False)
    wall = time.perf_counter() - begin
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, done.returncode


def forget(root: Path) -> None:
    """Drop every cache and data file a run leaves, so the next run is cold."""
    for name in (".pytest_cache", ".ruff_cache", ".coverage", "report.json", "junit.xml"):
        path = root / name
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)


def main(argv: list[str] | None = None) -> int:
    """Build, time, print."""
    parser = argparse.ArgumentParser(description="Time a promotion against the plain script.")
    parser.add_argument("--modules", type=int, default=52, help="modules in the package")
    parser.add_argument("--runs", type=int, default=3,
                        help="rounds of (a) then (b); medians are compared (default 3)")
    parser.add_argument("--keep", action="store_true", help="keep the project directory")
    args = parser.parse_args(argv)

    root = Path(tempfile.mkdtemp(prefix="promote-bench-"))
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "GITHUB_ACTIONS")}
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    python = sys.executable
    try:
        lines = build(root, args.modules)
        gates = installed_gates()
        print(f"project: {root} ({lines} lines in benchpkg, {args.modules} test modules)")
        print(f"cores: {len(os.sched_getaffinity(0))}, rounds: {args.runs} (medians below)")
        missing = [g for g in WANTED_GATES if g not in gates]
        if missing:
            print(f"NOTE: gate kinds not installed, left out of (b): {', '.join(missing)}")
            print("      (b) does less work than (a): its figures are not comparable")

        steps = {
            "coverage run -m pytest": [python, "-m", "coverage", "run", "-m", "pytest", "-q"],
            f"coverage report --fail-under={COVERAGE_MIN}": [
                python, "-m", "coverage", "report", f"--fail-under={COVERAGE_MIN}",
            ],
            "ruff check": [tool("ruff"), "check"],
            "pyright": [tool("pyright")],
            "detect-secrets scan": [tool("detect-secrets"), "scan"],
        }
        promote = [python, "-m", "pytest", "-q", "--promote-to=production"]
        runs: dict[str, list[tuple[float, float, int]]] = {name: [] for name in [*steps, "(b)"]}
        for _ in range(args.runs):  # alternating, so a slow spell hits both sides
            forget(root)
            for name, step in steps.items():
                runs[name].append(timed(step, root, env))
            forget(root)
            runs["(b)"].append(timed(
                [*promote, "--junitxml=junit.xml", "--promote-report=report.json"], root, env
            ))

        print("\n(a) the plain sequential script                seconds   CPU s")
        times = {name: median(r[0] for r in runs[name]) for name in steps}
        for name in steps:
            cpu = median(r[1] for r in runs[name])
            codes = sorted({r[2] for r in runs[name]})
            print(f"    {name:<40} {times[name]:7.2f} {cpu:7.2f}  (exit {codes})")
        a = sum(times.values())
        a_cpu = sum(median(r[1] for r in runs[name]) for name in steps)
        slowest = max(times, key=lambda k: times[k])
        print(f"    {'total':<40} {a:7.2f} {a_cpu:7.2f}")

        b, b_cpu = median(r[0] for r in runs["(b)"]), median(r[1] for r in runs["(b)"])
        codes = sorted({r[2] for r in runs["(b)"]})
        print(f"\n(b) pytest --promote-to=production              {b:7.2f} {b_cpu:7.2f}  "
              f"(exit {codes}; every round: {' '.join(f'{r[0]:.2f}' for r in runs['(b)'])})")
        show_gates(root / "report.json")

        c, _, code = timed([*promote, "--promote-only", "--promote-junit=junit.xml",
                            "--promote-report=report.json"], root, env)
        print(f"\n(c) warm --promote-only, nothing changed         {c:7.2f}  (exit {code})")
        show_gates(root / "report.json")

        print()
        verdict("b/a", b / a, 0.6)
        verdict(f"b/slowest ({slowest})", b / times[slowest], 1.15)
        verdict("c/b (warm re-run / cold run)", c / b, 0.2)
        cores = len(os.sched_getaffinity(0))
        print(f"(b) used {b_cpu:.2f} CPU s: on {cores} cores no schedule of that work ends "
              f"before {b_cpu / cores:.2f} s ({b_cpu / cores / times[slowest]:.2f} x the slowest "
              "step)")
    finally:
        if args.keep:
            print(f"kept {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)
    return 0


def show_gates(report: Path) -> None:
    """One line per gate of a JSON report."""
    try:
        data = json.loads(report.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        print("    (no JSON report)")
        return
    for gate in data["gates"]:
        cached = "  (cached)" if gate.get("cached") else ""
        print(f"    {gate['id']:<9} {gate['status']:<8} {gate['duration']:6.2f}s  "
              f"{gate['summary'].splitlines()[0][:70]}{cached}")


def verdict(name: str, ratio: float, target: float) -> None:
    """A ratio against its target."""
    mark = "ok" if ratio <= target else "MISSED"
    print(f"{name:<44} {ratio:5.2f}  (target <= {target}: {mark})")


if __name__ == "__main__":
    sys.exit(main())
