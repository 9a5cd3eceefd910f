"""Secrets at scale: plain ``detect-secrets scan`` against the ``secrets`` gate.

    python bench/secrets_bench.py [--plain-timeout SECONDS] [--skip-plain] [--keep DIR]

Builds a git repository shaped like the one in the issue (about 700 files,
~100k lines of Python, one 16,000-line reStructuredText table of ~500-character
rows with long runs of spaces and a ``:`` in each, a few notebooks, a handful of
planted secrets), then measures in the same run: plain
``detect-secrets scan $(git ls-files)``, the gate's cold scan, its warm scan after
touching one file and after editing one, an end-to-end ``pytest --promote-only``
cold and warm, and whether the gate's findings equal plain detect-secrets' (files,
lines, types, hashed secrets). The machine's cores may be shared: figures are noisy,
so the load average is printed along, and the CPU seconds the scans' processes
used (which load does not inflate much).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from pytest_promote.gates.secrets.gate import files_to_scan
from pytest_promote.gates.secrets.scan import scan

DETECT_SECRETS = str(Path(sys.executable).with_name("detect-secrets"))
WORDS = [
    "alpha", "beta", "gamma", "delta", "value", "index", "record", "batch", "model", "store",
    "cache", "query", "field", "result", "table", "column", "window", "buffer", "stream",
    "token", "parser", "render", "handler",
]
PLANTED = {
    "src/pkg_3/settings.py": 'AWS_ACCESS_KEY_ID = "AKIAIOSFODNN7EXAMPLE"\n',
    "scripts/deploy.py": 'GITHUB = "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"\n',
    "tests/fixtures/server.pem": "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA0notreal\n",
    "config/app.yaml": "database:\n  password: benchPlantedPw42\n",
}


class FileStore:
    """A JSON file standing in for pytest's cache, for the in-process timings."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def get(self, key: str, default: object) -> object:
        data = json.loads(self.path.read_text()) if self.path.exists() else {}
        return data.get(key, default)

    def set(self, key: str, value: object) -> None:
        self.path.write_text(json.dumps({key: value}))


def python_module(rng: random.Random, index: int, lines: int) -> str:
    """A plausible module: imports, constants, classes and functions."""
    out = [f'"""Module {index} of the generated package."""', "", "import os", "import re", ""]
    while len(out) < lines:
        name = f"{rng.choice(WORDS)}_{rng.randrange(1000)}"
        out += [
            f"class {name.title().replace('_', '')}:",
            f'    """Keeps the {rng.choice(WORDS)} of a {rng.choice(WORDS)}."""',
            "",
            "    def __init__(self, source, limit=10):",
            "        self.source = source",
            f"        self.limit = limit * {rng.randrange(2, 9)}",
            f"        self.{rng.choice(WORDS)} = "
            f"load_{rng.choice(WORDS)}(source, key='{rng.choice(WORDS)}')",
            "",
            f"    def {name}(self, items):",
            f"        result = [item for item in items if item.{rng.choice(WORDS)} > self.limit]",
            f"        mapping = {{'{rng.choice(WORDS)}': len(result), "
            "'path': os.path.join('a', 'b')}",
            f"        if re.match(r'^{rng.choice(WORDS)}[0-9]+$', str(mapping)):",
            "            return mapping",
            f"        return self.{rng.choice(WORDS)}.get('{rng.choice(WORDS)}', result)",
            "",
        ]
    return "\n".join(out[:lines]) + "\n"


def wide_table(rows: int) -> str:
    """A reStructuredText-like table: ~500-character rows, long space runs, one ':' each."""
    lines = [".. list of settings", ""]
    for i in range(rows):
        cells = (f"``setting_{i}``".ljust(110), f"Default: ``{i % 97}``".ljust(170),
                 f"Controls the {WORDS[i % len(WORDS)]} "
                 f"of the {WORDS[(i * 7) % len(WORDS)]}".ljust(200))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def notebook(rng: random.Random, cells: int, secret: str = "") -> str:
    sources = [
        [f"x_{i} = compute_{rng.choice(WORDS)}({i})\n", f"print(x_{i})\n"] for i in range(cells)
    ]
    if secret:
        sources[1].append(secret)
    return json.dumps({
        "cells": [{"cell_type": "code", "execution_count": i, "metadata": {},
                   "outputs": [{"name": "stdout", "output_type": "stream", "text": [f"{i}\n"]}],
                   "source": src} for i, src in enumerate(sources)],
        "metadata": {"kernelspec": {"name": "python3"}}, "nbformat": 4, "nbformat_minor": 5,
    }, indent=1) + "\n"


def build(root: Path) -> dict[str, int]:
    """Write the repository; what it holds."""
    rng = random.Random(20240601)
    files: dict[str, str] = {}
    for i in range(660):
        files[f"src/pkg_{i % 12}/mod_{i}.py"] = python_module(rng, i, rng.randrange(120, 185))
    for i in range(24):
        files[f"docs/page_{i}.rst"] = f"Page {i}\n=======\n\n" + "Some prose here.\n" * 40
    files["docs/ref/settings.rst"] = wide_table(16_000)
    for i in range(4):
        secret = "slack = 'xoxb-34532454-e039d02840a0b9379c'\n" if i == 2 else ""
        files[f"notebooks/nb_{i}.ipynb"] = notebook(rng, 30, secret)
    for path, body in PLANTED.items():
        files[path] = files.get(path, "") + body
    files["pyproject.toml"] = ('[tool.promote]\nstages = ["development"]\n'
                               '[tool.promote.stage.development]\nrequired = ["secrets"]\n')
    for path, body in files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(body)
    git = ["git", "-c", "user.name=bench", "-c", "user.email=bench@example.invalid"]
    subprocess.run([*git, "init", "-q"], cwd=root, check=True)
    subprocess.run([*git, "add", "-A"], cwd=root, check=True)
    subprocess.run([*git, "commit", "-qm", "corpus"], cwd=root, check=True)
    python = sum(body.count("\n") for path, body in files.items() if path.endswith(".py"))
    return {"files": len(files), "python_lines": python, "planted": len(PLANTED) + 1}


def load() -> str:
    """The 1, 5 and 15 minute load averages."""
    return "load " + " ".join(f"{x:.2f}" for x in os.getloadavg())


def child_cpu() -> float:
    """CPU seconds used so far by the finished child processes (and theirs)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def plain(root: Path, files: list[str], timeout: float) -> tuple[float, set | None]:
    began = time.perf_counter()
    try:
        done = subprocess.run([DETECT_SECRETS, "scan", *files], cwd=root, capture_output=True,
                              text=True, timeout=timeout, check=True)
    except subprocess.TimeoutExpired:
        return time.perf_counter() - began, None
    results = json.loads(done.stdout)["results"]
    rows = {
        (p, e["line_number"], e["type"], e["hashed_secret"])
        for p, es in results.items()
        for e in es
    }
    return time.perf_counter() - began, rows


def gate(root: Path, store: FileStore) -> tuple[float, set, str]:
    began = time.perf_counter()
    report = scan(root, files_to_scan(root, None, ()), baseline=None, store=store, reuse=True)
    took = time.perf_counter() - began
    rows = {(h.path, h.line, h.type, h.hashed_secret) for h in report.hits}
    return took, rows, f"{report.scanned} scanned, {report.reused} reused, {report.workers} workers"


def end_to_end(root: Path) -> float:
    began = time.perf_counter()
    subprocess.run([sys.executable, "-m", "pytest", "--promote-to=development", "--promote-only",
                    "-q", "-p", "no:randomly"], cwd=root, capture_output=True, check=False)
    return time.perf_counter() - began


def main() -> int:
    parser = argparse.ArgumentParser(
        description="Secrets at scale: plain detect-secrets scan against the secrets gate."
    )
    parser.add_argument("--plain-timeout", type=float, default=3600.0)
    parser.add_argument("--skip-plain", action="store_true")
    parser.add_argument("--keep", type=Path, help="build the repository here and keep it")
    args = parser.parse_args()
    root = args.keep or Path(tempfile.mkdtemp(prefix="secrets-bench-"))
    root.mkdir(parents=True, exist_ok=True)
    try:
        shape = build(root)
        files = files_to_scan(root, None, ())
        print(f"corpus: {shape['files']} files, {shape['python_lines']:,} lines of Python, "
              f"a 16,000-line wide table, 4 notebooks, {shape['planted']} planted secrets; "
              f"{os.cpu_count()} cores (shared: figures are noisy)", flush=True)
        store = FileStore(root / ".bench-cache.json")
        print(load(), flush=True)
        cpu = child_cpu()
        cold, rows, how = gate(root, store)
        print(f"gate cold: {cold:.1f} s ({how}), {len(rows)} findings, "
              f"{child_cpu() - cpu:.1f} CPU s; {load()}", flush=True)
        os.utime(root / "src/pkg_0/mod_0.py")
        touched, touched_rows, how = gate(root, store)
        print(f"gate warm, one file touched: {touched:.2f} s ({how})", flush=True)
        with (root / "src/pkg_1/mod_1.py").open("a") as handle:
            handle.write("EXTRA = compute(1)\n")
        edited, edited_rows, how = gate(root, store)
        print(f"gate warm, one file edited: {edited:.2f} s ({how})", flush=True)
        e2e_cold = end_to_end(root)
        e2e_warm = end_to_end(root)
        print(f"pytest --promote-only end to end: cold {e2e_cold:.1f} s, warm {e2e_warm:.2f} s; "
              f"{load()}", flush=True)
        if args.skip_plain:
            return 0
        cpu = child_cpu()
        took, plain_rows = plain(root, files, args.plain_timeout)
        cpu = child_cpu() - cpu
        if plain_rows is None:
            print(f"plain detect-secrets scan: capped at {took:.0f} s (did not finish); "
                  f"cold is at most 1/{took / cold:.0f} of it")
            return 0
        print(f"plain detect-secrets scan: {took:.1f} s, {len(plain_rows)} findings, "
              f"{cpu:.1f} CPU s; {load()}")
        print(f"cold / plain = 1/{took / cold:.1f} (target 1/50 or better); "
              f"warm {max(touched, edited):.2f} s (target 1 s or less)")
        same = plain_rows == rows == touched_rows == edited_rows
        print(f"findings identical: {'yes' if same else 'NO'}")
        return 0 if same else 1
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
