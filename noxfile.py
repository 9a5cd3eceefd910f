"""The supported range: ``nox`` runs the suite on each supported Python with the
newest releases, on the oldest with every direct dependency at its declared lower
bound, and from the sdist. ``.ci/run`` runs ``tests-3.12 tests-3.13 lowest sdist``
after the README's test command (which is ``tests-3.11`` in the CI's own
environment)."""

from __future__ import annotations

import tempfile
import tomllib
from pathlib import Path

import nox
from packaging.requirements import Requirement

nox.options.default_venv_backend = "venv"
nox.options.error_on_missing_interpreters = True

PYTHONS = ["3.11", "3.12", "3.13"]
SUITE = ("python", "-m", "pytest", "-n", "2", "-p", "no:cacheprovider", "-q")
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
    """The suite with the newest releases of everything."""
    session.install("-e", ".[test]")
    session.run(*SUITE, *session.posargs)


@nox.session(python=PYTHONS[0])
def lowest(session: nox.Session) -> None:
    """The suite with pytest, pytest-xdist and every other direct dependency at the
    lower bound pyproject.toml declares: the bounds are what the code works with.
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
    session.run(*SUITE, *session.posargs)


@nox.session(python=PYTHONS[-1])
def sdist(session: nox.Session) -> None:
    """The sdist holds what its own tests need: build it, install it, run tests from it."""
    session.install("build")
    # Outside the checkout: the tests' own projects must not sit under this pyproject.toml.
    with tempfile.TemporaryDirectory(prefix="pytest-promote-sdist-") as where:
        tmp = Path(where)
        session.run("python", "-m", "build", "--sdist", "--outdir", str(tmp), ".")
        (archive,) = tmp.glob("pytest_promote-*.tar.gz")
        session.run("tar", "xzf", str(archive), "-C", str(tmp), external=True)
        with session.chdir(archive.with_name(archive.name.removesuffix(".tar.gz"))):
            session.install(".[test]")
            session.run(*SUITE, "tests/test_cli.py", "tests/test_extras.py", "tests/test_policy.py")
