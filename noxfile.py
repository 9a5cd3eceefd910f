"""The supported range, as CI runs it (``.ci/run``): ``nox`` runs the suite on each
supported Python with the newest releases, on the oldest with every direct
dependency at its declared lower bound, and from the sdist."""

from __future__ import annotations

import tempfile
from pathlib import Path

import nox

nox.options.default_venv_backend = "uv|virtualenv"
nox.options.error_on_missing_interpreters = True

PYTHONS = ["3.11", "3.12", "3.13"]
SUITE = ("python", "-m", "pytest", "-n", "2", "-p", "no:cacheprovider", "-q")
#: Each requirement of the base install and of the [test] extra, at its lower bound.
CHECK_LOWEST = """
import sys, tomllib
from importlib.metadata import version
from packaging.requirements import Requirement
from packaging.version import Version
project = tomllib.load(open("pyproject.toml", "rb"))["project"]
extras = project["optional-dependencies"]
wanted = project["dependencies"] + [r for name in ("lint", "types", "secrets", "sbom", "test")
                                    for r in extras[name] if not r.startswith("pytest-promote")]
wrong = []
for text in wanted:
    req = Requirement(text)
    lowest = next(s.version for s in req.specifier if s.operator == ">=")
    if Version(version(req.name)) != Version(lowest):
        wrong.append(f"{req.name} {version(req.name)} installed, lower bound {lowest}")
print(sys.version.split()[0], "\\n".join(wrong) or f"all {len(wanted)} direct requirements at their lower bound")
sys.exit(1 if wrong else 0)
"""


@nox.session(python=PYTHONS)
def tests(session: nox.Session) -> None:
    """The suite with the newest releases of everything."""
    session.install("-e", ".[test]")
    session.run(*SUITE, *session.posargs)


@nox.session(python=PYTHONS[0], venv_backend="uv")
def lowest(session: nox.Session) -> None:
    """The suite with pytest, pytest-xdist and every other direct dependency at the
    lower bound pyproject.toml declares: the bounds are what the code works with."""
    session.install("--resolution=lowest-direct", "-e", ".[test]")
    session.run("python", "-c", CHECK_LOWEST)
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
