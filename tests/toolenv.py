"""Helpers for the tool gates' tests: the real tools, and an environment without them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
from collections.abc import Sequence
from pathlib import Path
from typing import Any

BIN = Path(sys.executable).parent


def plain(tool: str, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run the real ``tool`` (the one installed beside this interpreter) as a user would."""
    env = dict(os.environ, PATH=os.pathsep.join([str(BIN), os.environ.get("PATH", "")]))
    return subprocess.run(
        [str(BIN / tool), *args], cwd=cwd, env=env, capture_output=True, text=True, check=False
    )


def plain_ruff(cwd: Path, *paths: str) -> list[dict[str, Any]]:
    """Plain ``ruff check --output-format=json`` on ``paths``."""
    return json.loads(plain("ruff", cwd, "check", "--output-format=json", *paths).stdout)


def plain_pyright(cwd: Path, *paths: str) -> dict[str, Any]:
    """Plain ``pyright --outputjson`` on ``paths``."""
    return json.loads(plain("pyright", cwd, "--outputjson", *paths).stdout)


def bare_python(where: Path, without: Sequence[str] = ()) -> Path:
    """A virtualenv sharing this one's packages but with no tool beside its python.

    pytest, pytest-promote and the ``ruff``/``pyright`` Python packages import as
    usual, but no ``ruff`` or ``pyright`` executable sits next to ``sys.executable``,
    so which tool a gate finds is decided by the ``PATH`` a test gives. The top-level
    modules named in ``without`` are left out, as in an install without the extra
    that brings them.
    """
    venv = where / "bare-venv"
    (venv / "bin").mkdir(parents=True)
    base = Path(os.path.realpath(sys.executable))
    (venv / "bin" / "python").symlink_to(base)
    (venv / "pyvenv.cfg").write_text(
        f"home = {base.parent}\ninclude-system-site-packages = false\n", encoding="utf-8"
    )
    purelib = Path(sysconfig.get_paths()["purelib"])
    target = venv / purelib.relative_to(sys.prefix)
    if not without:
        target.parent.mkdir(parents=True)
        target.symlink_to(purelib)
        return venv / "bin" / "python"
    target.mkdir(parents=True)
    for entry in purelib.iterdir():
        stem = entry.name.split("-")[0].split(".")[0].lower()
        if stem not in {name.lower() for name in without}:
            (target / entry.name).symlink_to(entry)
    return venv / "bin" / "python"


def fake_tool(where: Path, name: str, script: str) -> Path:
    """An executable ``name`` in ``where/fakebin`` running the Python ``script``."""
    fakebin = where / "fakebin"
    fakebin.mkdir(exist_ok=True)
    exe = fakebin / name
    exe.write_text(f"#!{sys.executable}\n{script}\n", encoding="utf-8")
    exe.chmod(0o755)
    return fakebin


def run_bare(
    pytester: Any, monkeypatch: Any, python: Path, path: list[Path], *args: str
) -> Any:
    """``python -m pytest args`` in a subprocess whose ``PATH`` is exactly ``path``."""
    monkeypatch.setenv("PATH", os.pathsep.join(str(p) for p in path))
    return pytester.run(python, "-m", "pytest", "-p", "no:cacheprovider", *args)
