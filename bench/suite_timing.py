"""Where the test suite's time goes: each test file's share, slowest first.

Runs the suite (``python -m pytest -n 2`` and any extra arguments) with a JUnit XML
report, or reads one already written (``--junit FILE``), and prints the time of each
file (the sum of its tests' times, set-up and teardown included), its share and its
number of tests, so that the next slowdown shows where it came from.

    python bench/suite_timing.py [--top N] [--junit FILE] [-- PYTEST_ARGS...]
"""

from __future__ import annotations

import argparse
import collections
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path


def by_file(junit: Path) -> dict[str, tuple[float, int]]:
    """Each test file's summed time and its number of tests, from a JUnit XML report."""
    seconds: dict[str, float] = collections.defaultdict(float)
    counts: collections.Counter[str] = collections.Counter()
    for case in ET.parse(junit).iter("testcase"):
        name = case.get("file") or case.get("classname", "?").replace(".", "/") + ".py"
        seconds[name] += float(case.get("time") or 0)
        counts[name] += 1
    return {name: (seconds[name], counts[name]) for name in seconds}


def run_suite(junit: Path, extra: list[str]) -> float:
    """Run the suite, writing ``junit``; its wall-clock time."""
    began = time.monotonic()
    argv = [sys.executable, "-m", "pytest", "-n", "2", "-q", "-p", "no:cacheprovider",
            f"--junitxml={junit}", "-o", "junit_family=xunit1", *extra]
    subprocess.run(argv, check=False)
    return time.monotonic() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--top", type=int, default=25, help="files to list (default 25)")
    parser.add_argument("--junit", type=Path, help="read this JUnit XML instead of running the suite")
    parser.add_argument("pytest_args", nargs="*", help="more arguments for pytest (after --)")
    args = parser.parse_args()
    wall = None
    with tempfile.TemporaryDirectory(prefix="suite-timing-") as where:
        junit = args.junit or Path(where) / "junit.xml"
        if args.junit is None:
            wall = run_suite(junit, args.pytest_args)
        files = by_file(junit)
    total = sum(seconds for seconds, _ in files.values())
    print(f"{'file':<44} {'seconds':>8} {'share':>6} {'tests':>6}")
    for name, (seconds, count) in sorted(files.items(), key=lambda kv: -kv[1][0])[: args.top]:
        print(f"{name:<44} {seconds:8.1f} {seconds / total:6.1%} {count:6d}")
    tests = sum(count for _, count in files.values())
    print(f"{'all ' + str(len(files)) + ' files':<44} {total:8.1f} {1:6.0%} {tests:6d}")
    if wall is not None:
        print(f"wall-clock time of the run: {wall:.0f}s (the sum above counts both workers)")


if __name__ == "__main__":
    main()
