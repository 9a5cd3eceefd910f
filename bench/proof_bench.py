"""What proving the suite costs: the share of a warm promotion run spent on the proof.

One command, ``python bench/proof_bench.py [--tests N] [--runs R]``: it builds a
project of N trivial tests (default 2,000) in a git repository in a temporary
directory, then runs ``pytest --promote-to=development`` in this process R times
(the first fills pytest's cache; the others are warm re-runs) and times every part
of the proof: reading the invocation, the cache key, the cache, the comparison of
node ids, any collect-only child. It prints the proof's seconds against the run's,
and how many collect-only children started (none: a run from the rootdir with no
option that changes collection proves its suite from its own collection).

``--repository DIR [--stage STAGE] [-- PYTEST_ARGS]`` does the same on a clone of a
real repository's HEAD (this one: ``python bench/proof_bench.py --repository . --runs 2
-- -n 2``), promoted to development (or STAGE) with its own policy and suite, in
an environment where the repository's test dependencies are installed. The verdict
does not matter there, only where the time goes. A run from the rootdir with no
option that changes collection proves its suite from its own collection, cache or
not, so ``--runs 1`` measures it there too.
"""

from __future__ import annotations

import argparse
import functools
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from statistics import median

import pytest

from pytest_promote.runner import canonical, suite

POLICY = """
[tool.promote]
stages = ["development"]
enforce_path = false

[tool.promote.stage.development]
required = ["tests"]
"""

#: Timed parts called inside other timed parts (counted once, in their callers).
NESTED = ("cache_key",)
spent: dict[str, float] = {}
children = 0


def timed(owner: object, name: str) -> None:
    """Add the time of every call of ``owner.name`` to ``spent``."""
    original = getattr(owner, name)

    @functools.wraps(original)
    def wrapper(*args: object, **kwargs: object) -> object:
        begin = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            spent[name] = spent.get(name, 0.0) + time.perf_counter() - begin

    setattr(owner, name, wrapper)


def project(path: Path, tests: int) -> None:
    """``tests`` trivial tests in modules of 50, committed."""
    (path / "pyproject.toml").write_text(POLICY)
    (path / ".gitignore").write_text(".pytest_cache/\n__pycache__/\n")
    for module in range(tests // 50):
        body = "".join(f"def test_{i}():\n    assert {i} >= 0\n\n" for i in range(50))
        (path / f"test_m{module}.py").write_text(body)
    for args in (["init", "-q"], ["add", "-A"],
                 ["-c", "user.name=b", "-c", "user.email=b@b", "commit", "-qm", "bench"]):
        subprocess.run(["git", *args], cwd=path, check=True)


def clone(source: Path, path: Path) -> None:
    """A clean clone of ``source``'s HEAD at ``path``."""
    subprocess.run(["git", "clone", "-q", str(source.resolve()), str(path)], check=True)


def main() -> int:
    global children
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tests", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--repository", type=Path, default=None,
                        help="time the proof on a clone of this repository instead")
    parser.add_argument("--stage", default="development")
    parser.add_argument("pytest_args", nargs="*", help="after --: more pytest arguments (e.g. -n 2)")
    args = parser.parse_args()
    for name in ("not_canonical", "cache_key"):
        timed(canonical, name)
    for name in ("start", "from_session", "suite"):
        timed(canonical.Canonical, name)
    timed(suite.SuiteCount, "compare")
    start = canonical.BackgroundTool.start

    def counting(self: object) -> None:
        global children
        children += 1
        start(self)  # type: ignore[arg-type]

    canonical.BackgroundTool.start = counting  # type: ignore[method-assign]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "project"
        if args.repository is None:
            path.mkdir()
            project(path, args.tests)
        else:
            clone(args.repository, path)
        os.chdir(path)
        shares, runs, proofs = [], [], []
        for index in range(args.runs):
            spent.clear()
            begin = time.perf_counter()
            code = pytest.main([f"--promote-to={args.stage}", "--promote-no-ledger", "-q", "--no-header",
                                *args.pytest_args])
            took = time.perf_counter() - begin
            if code not in (0, 1) or (code and args.repository is None):
                print(f"run {index + 1} exited {code}", file=sys.stderr)
                return 1
            proof = sum(v for k, v in spent.items() if k not in NESTED)
            print(f"run {index + 1}{' (cold)' if index == 0 else ''}: {took:.3f} s, proof "
                  f"{proof * 1000:.1f} ms ({proof / took:.2%}): "
                  + ", ".join(f"{k} {v * 1000:.1f} ms" for k, v in sorted(spent.items())))
            if index or args.runs == 1:  # a run proving from its own collection is never colder
                shares.append(proof / took)
                runs.append(took)
                proofs.append(proof)
    what = f"{args.repository.resolve().name} (its own suite)" if args.repository else f"{args.tests} tests"
    print(f"\n{what}, warm re-runs (median of {len(shares)}): run {median(runs):.3f} s, "
          f"proof {median(proofs) * 1000:.1f} ms = {median(shares):.2%} (goal < 5%); "
          f"collect-only children started: {children}"
          + (" (with those of the suite's own in-process runs, whose proof parts are counted too)"
             if args.repository else ""))
    return 0 if median(shares) < 0.05 and children == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
