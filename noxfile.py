"""The supported range, each session saying what it proves.

``.ci/run`` runs the README's test command first: the whole suite once, on Python
3.11 with the newest releases of everything. Then ``nox -s range-3.12 range-3.13
lowest sdist``: what differs between versions (the tests marked
``supported_range``: import paths, the pytest, xdist, coverage and tool APIs) on
Python 3.12 and 3.13, and on Python 3.11 with every direct dependency at its lower
bound; and that the sdist builds, installs and its tests start. Running the whole
suite four times over would prove little more for four times the wait.

By hand: ``nox -s tests-3.13`` runs the whole suite on one Python, ``nox -s load``
runs it beside two CPU-bound processes (once per change to the suite: no test may
depend on timing), ``nox -s timing`` prints where the suite's time goes by file.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

import nox
from packaging.requirements import Requirement

nox.options.default_venv_backend = "venv"
nox.options.error_on_missing_interpreters = True

PYTHONS = ["3.11", "3.12", "3.13"]
SUITE = ("python", "-m", "pytest", "-n", "2", "-p", "no:cacheprovider", "-q")
#: What differs between supported versions (see the ``supported_range`` marker).
RANGE = (*SUITE, "-m", "supported_range")
#: The extra the suite installs; the ``lowest`` session pins the lower bounds of the
#: base install, of this extra and of every extra it names (``pytest-promote[all]``...).
SUITE_EXTRA = "test"


def lower_bounds() -> list[str]:
    """``name==bound`` for each direct requirement's ``>=`` bound in pyproject.toml."""
    project = tomllib.loads(Path("pyproject.toml").read_text(encoding="utf-8"))["project"]
    extras = project["optional-dependencies"]
    wanted = [Requirement(text) for text in project["dependencies"]]
    todo, seen = [SUITE_EXTRA], set()
    while todo:
        extra = todo.pop()
        if extra in seen:
            continue
        seen.add(extra)
        for text in extras[extra]:
            req = Requirement(text)
            if req.name == project["name"]:
                todo.extend(req.extras)
            else:
                wanted.append(req)
    pins = []
    for req in wanted:
        text = str(req)
        bound = [spec.version for spec in req.specifier if spec.operator == ">="]
        if len(bound) != 1:
            raise SystemExit(f"pyproject.toml: {text!r} needs exactly one '>=' lower bound")
        pins.append(f"{req.name}=={bound[0]}")
    return pins


@nox.session(python=PYTHONS)
def tests(session: nox.Session) -> None:
    """The whole suite with the newest releases of everything."""
    session.install("-e", ".[test]")
    session.run(*SUITE, *session.posargs)


@nox.session(name="range", python=PYTHONS[1:])
def supported_range(session: nox.Session) -> None:
    """The tests of what differs between Pythons, with the newest releases: the
    plugin's load and hooks, the policy's parsing, bytecode and processes, signals,
    the coverage, xdist, detect-secrets, SBOM, signing, ruff and pyright seams."""
    session.install("-e", ".[test]")
    session.run(*RANGE, *session.posargs)


@nox.session(python=PYTHONS[0])
def lowest(session: nox.Session) -> None:
    """The ``supported_range`` tests with pytest, pytest-xdist and every other direct
    dependency at the lower bound pyproject.toml declares: the bounds are what the
    code works with.
    The bounds are pinned as pip constraints (what the others depend on floats),
    and ``pip check`` proves the set is consistent."""
    # Not session.create_tmp(): it points TMPDIR into the checkout, where the tests'
    # own projects would find this repository's pyproject.toml.
    with tempfile.TemporaryDirectory(prefix="pytest-promote-lowest-") as where:
        constraints = Path(where) / "lowest.txt"
        constraints.write_text("\n".join(lower_bounds()) + "\n", encoding="utf-8")
        session.install("-c", str(constraints), "-e", ".[test]")
    session.run("python", "-m", "pip", "check")
    session.run("python", "-m", "pip", "freeze", "--exclude-editable", silent=False)
    session.run(*RANGE, *session.posargs)


@nox.session(python=PYTHONS[-1])
def sdist(session: nox.Session) -> None:
    """The sdist holds what its own tests need: build it, install it, collect its whole
    suite (every test module and fixture imports) and run its command-line tests."""
    session.install("build")
    # Outside the checkout: the tests' own projects must not sit under this pyproject.toml.
    with tempfile.TemporaryDirectory(prefix="pytest-promote-sdist-") as where:
        tmp = Path(where)
        session.run("python", "-m", "build", "--sdist", "--outdir", str(tmp), ".")
        (archive,) = tmp.glob("pytest_promote-*.tar.gz")
        session.run("tar", "xzf", str(archive), "-C", str(tmp), external=True)
        with session.chdir(archive.with_name(archive.name.removesuffix(".tar.gz"))):
            session.install(".[test]")
            session.run("python", "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider")
            session.run(*SUITE, "tests/test_cli.py")


@nox.session(python=PYTHONS[0])
def load(session: nox.Session) -> None:
    """The whole suite while two CPU-bound processes run beside it, as on a busy
    machine: a test that waits a guessed time instead of for an event fails here."""
    session.install("-e", ".[test]")
    burn = "while True: pass"
    burners = [subprocess.Popen([sys.executable, "-c", burn]) for _ in range(2)]
    try:
        session.run(*SUITE, *session.posargs)
    finally:
        for burner in burners:
            burner.kill()
            burner.wait()


@nox.session(python=PYTHONS[0])
def timing(session: nox.Session) -> None:
    """Where the suite's time goes, by test file (``bench/suite_timing.py``)."""
    session.install("-e", ".[test]")
    session.run("python", "bench/suite_timing.py", *session.posargs)
