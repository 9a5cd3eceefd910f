"""What the final job of a sharded promotion costs, against the number of shards and tests.

One command, ``python bench/shards_bench.py``: for each ``--tests`` size it builds a
project in a temporary directory (a package, generated tests that import it, a policy
requiring ``tests``, ``coverage`` and ``lint``, in a git repository) and

- runs it unsharded (``pytest --promote-to=development``) for the reference verdict;
- for each ``--shards`` count N: runs N shards (pytest-split ``--splits N --group i``)
  one after another as separate processes, each in its own clone of the repository,
  then the final job ``--promote-only --promote-from`` in another clone, and measures
  that job's own wall time and peak memory (its maximum resident set, from ``wait4``);
- times ``ruff check`` alone, the tool gate's own cost;

and prints, per size and shard count, the final job's time and memory, its time per
bundle above one shard's, and whether its verdict and gates (status, summary, numbers,
findings) equal the unsharded run's. The final job should cost about the tools' time
plus a small cost per bundle, linear in the shards and tests.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

TESTS_PER_MODULE = 50
POLICY = """
[tool.promote]
stages = ["development", "staging", "production"]
paths = ["app"]
enforce_path = false

[tool.promote.stage.development]
required = ["tests", "coverage", "lint"]
coverage = { min = 80 }

[tool.coverage.run]
source = ["app"]
"""
MODULE = '''"""Module {m} of the benchmark package."""


def scaled_{m}(value: int) -> int:
    if value % 3 == 0:
        return value * 3
    if value % 3 == 1:
        return value + 1
    return value - 1


def never_{m}() -> int:
    return {m}
'''
TEST = '''

def test_{m}_{t}():
    assert scaled_{m}({t}) in ({t} * 3, {t} + 1, {t} - 1)
'''


def build(root: Path, tests: int) -> None:
    """The project, committed: ``tests`` tests over ``tests / 50`` modules."""
    (root / "app").mkdir(parents=True)
    (root / "tests").mkdir()
    (root / "app" / "__init__.py").write_text("", encoding="utf-8")
    (root / "pyproject.toml").write_text(POLICY, encoding="utf-8")
    (root / ".gitignore").write_text(
        ".pytest_cache/\n__pycache__/\n.coverage\nwhole.json\nfinal-*.json\n", encoding="utf-8"
    )
    for m in range(max(1, tests // TESTS_PER_MODULE)):
        (root / "app" / f"mod{m}.py").write_text(MODULE.format(m=m), encoding="utf-8")
        body = f"from app.mod{m} import scaled_{m}\n" + "".join(
            TEST.format(m=m, t=t) for t in range(TESTS_PER_MODULE)
        )
        (root / "tests" / f"test_mod{m}.py").write_text(body, encoding="utf-8")
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "-c", "user.name=Bench", "-c", "user.email=bench@example.com", "commit", "-qm", "bench")


def git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


def clone(source: Path, target: Path) -> Path:
    git(source.parent, "clone", "-q", str(source), str(target))
    return target


def measured(argv: list[str], cwd: Path) -> tuple[float, float, float, int]:
    """Run ``argv`` in ``cwd``: wall seconds, CPU seconds (its children's included),
    peak resident MiB, exit status. On a shared machine the CPU seconds are the
    steadier figure. The output goes to ``cwd``'s ``../last-run.log``."""
    begin = time.perf_counter()
    with (cwd.parent / "last-run.log").open("wb") as log:
        proc = subprocess.Popen(argv, cwd=cwd, stdout=log, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    cpu = usage.ru_utime + usage.ru_stime
    return time.perf_counter() - begin, cpu, usage.ru_maxrss / 1024, proc.returncode


def pytest(*args: str) -> list[str]:
    return [sys.executable, "-m", "pytest", "--promote-to=development", "-p", "no:cacheprovider",
            "-q", "--promote-no-ledger", *args]


def judged(report_path: Path) -> dict[str, Any]:
    """The verdict and every gate but its duration."""
    report = json.loads(report_path.read_text(encoding="utf-8"))
    gates = [{k: v for k, v in g.items() if k not in ("duration", "cached")} for g in report["gates"]]
    return {"colour": report["colour"], "accepted": report["accepted"], "gates": gates,
            "partial": report["partial"], "caveats": report["caveats"]}


def bench_size(base: Path, tests: int, shard_counts: list[int]) -> list[dict[str, Any]]:
    """Every shard count for one project size."""
    source = base / "source"
    build(source, tests)
    final = clone(source, base / "final")
    whole_s, whole_cpu, whole_mib, code = measured(pytest("--promote-report=whole.json"), final)
    expected = judged(final / "whole.json")
    ruff_s, ruff_cpu, _, _ = measured([sys.executable, "-m", "ruff", "check", "app"], final)
    print(f"{tests} tests: unsharded promotion {whole_s:.2f} s ({whole_cpu:.2f} CPU s), "
          f"{whole_mib:.0f} MiB (exit {code}, {expected['colour']}); ruff check alone "
          f"{ruff_s:.2f} s ({ruff_cpu:.2f} CPU s)", flush=True)
    rows = []
    for count in shard_counts:
        for group in range(1, count + 1):
            work = clone(source, base / f"n{count}-shard{group}")
            bundle = final / f"shards-{count}" / str(group)
            _, _, _, code = measured(
                pytest(f"--promote-shard={bundle}", "--splits", str(count), "--group", str(group)), work
            )
            if code != 0:
                raise SystemExit(f"shard {group} of {count} exited {code}")
            shutil.rmtree(work)
        report = final / f"final-{count}.json"
        seconds, cpu, mib, code = measured(
            pytest("--promote-only", f"--promote-from=shards-{count}/*", f"--promote-report={report.name}"),
            final,
        )
        if not report.is_file():
            said = (base / "last-run.log").read_text(encoding="utf-8", errors="replace")[-3000:]
            raise SystemExit(f"the final job of {count} shards exited {code} with no report:\n{said}")
        same = judged(report) == expected
        rows.append({"tests": tests, "shards": count, "seconds": seconds, "cpu": cpu, "mib": mib,
                     "same": same, "exit": code})
        print(f"  {count} shards: final job {seconds:.2f} s ({cpu:.2f} CPU s), {mib:.0f} MiB, exit {code}, "
              f"verdict and gates {'equal' if same else 'DIFFER'}", flush=True)
    return rows


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; exit 1 when a sharded verdict differs from the unsharded one."""
    parser = argparse.ArgumentParser(description="Time the final job of a sharded promotion.")
    parser.add_argument("--tests", type=int, nargs="+", default=[1000, 4000],
                        help="project sizes, in tests")
    parser.add_argument("--shards", type=int, nargs="+", default=[1, 2, 4, 8], help="shard counts")
    parser.add_argument("--keep", action="store_true", help="keep the projects")
    args = parser.parse_args(argv)
    base = Path(tempfile.mkdtemp(prefix="promote-shards-bench-"))
    rows = []
    try:
        for tests in args.tests:
            rows += bench_size(base / f"t{tests}", tests, args.shards)
    finally:
        if not args.keep:
            shutil.rmtree(base, ignore_errors=True)
    print("\n| tests | shards | final job (s) | its CPU (s) | CPU per bundle above the fewest (s) "
          "| peak memory (MiB) | verdict and gates |")
    print("|---|---|---|---|---|---|---|")
    for row in rows:
        one = next(r for r in rows if r["tests"] == row["tests"] and r["shards"] == min(args.shards))
        extra = row["shards"] - one["shards"]
        per = f"{(row['cpu'] - one['cpu']) / extra:.3f}" if extra else "-"
        same = "equal" if row["same"] else "DIFFER"
        print(f"| {row['tests']:,} | {row['shards']} | {row['seconds']:.2f} | {row['cpu']:.2f} | {per} "
              f"| {row['mib']:.0f} | {same} |")
    return 0 if all(r["same"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
