"""Cost of the installed plugin on a plain pytest run (no --promote-to).

Runs ``pytest`` on a generated project with the plugin and with ``-p no:promote``,
alternating, and prints the ratio of the medians. Target: at most 1.02.

    python bench/inert_bench.py [--rounds N] [--tests N]
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path


def make_project(root: Path, tests: int) -> None:
    """A project with ``tests`` trivial tests in 20 modules."""
    per_module = max(tests // 20, 1)
    for m in range(20):
        body = "\n".join(f"def test_{m}_{i}():\n    assert {i} + 1 > {i}\n" for i in range(per_module))
        (root / f"test_mod{m}.py").write_text(body)
    (root / "pyproject.toml").write_text("[tool.pytest.ini_options]\n")


def timed(root: Path, *extra: str) -> float:
    """CPU time (user + system) of one ``pytest -q`` run in ``root``.

    CPU time, not wall time: on a shared, noisy machine it is what the plugin costs.
    """
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *extra]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(cmd, cwd=root, check=True, stdout=subprocess.DEVNULL)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    """Measure both variants in the same run and print the ratio."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--tests", type=int, default=2000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        make_project(root, args.tests)
        timed(root)  # warm the file system cache and byte-code
        with_plugin, without = [], []
        for _ in range(args.rounds):
            with_plugin.append(timed(root))
            without.append(timed(root, "-p", "no:promote"))
    a, b = statistics.median(with_plugin), statistics.median(without)
    print(f"pytest with plugin (inert):  median {a:.3f}s CPU over {args.rounds} runs")
    print(f"pytest -p no:promote:        median {b:.3f}s CPU over {args.rounds} runs")
    print(f"ratio with/without: {a / b:.3f} (target <= 1.02)")


if __name__ == "__main__":
    main()
