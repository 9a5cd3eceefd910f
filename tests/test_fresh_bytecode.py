"""Gates judge the code on disk, never a stale ``.pyc``: every Python process a gate
starts to import the project's code compiles it afresh.

Python trusts a ``__pycache__`` entry when the source's size and its mtime in whole
seconds match what the entry recorded, so a module rewritten within the second at the
same size is, to Python, unchanged. Each test here makes that case exactly (same size,
same mtime to the nanosecond), whatever the clock and whether bytecode is written.
"""

from __future__ import annotations

import json
import os
import py_compile
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.supported_range

OLD = "def contract():\n    return {'version': 1}\n"
NEW = "def contract():\n    return {'version': 3}\n"


def rewrite_behind_stale_bytecode(module: Path, old: str, new: str) -> None:
    """``module`` holds ``new``, while its ``__pycache__`` entry, compiled from ``old``,
    still matches it in size and mtime, as after an edit within the same second."""
    assert len(old.encode()) == len(new.encode())
    module.write_text(old)
    cached = module.parent / "__pycache__" / f"{module.stem}.{sys.implementation.cache_tag}.pyc"
    py_compile.compile(str(module), cfile=str(cached), doraise=True,
                       invalidation_mode=py_compile.PycInvalidationMode.TIMESTAMP)
    stat = module.stat()
    module.write_text(new)
    os.utime(module, ns=(stat.st_atime_ns, stat.st_mtime_ns))


@pytest.fixture
def app(pytester: pytest.Pytester) -> pytest.Pytester:
    """A package whose contract is version 3 on disk and version 1 in a stale .pyc."""
    pytester.mkpydir("api")
    rewrite_behind_stale_bytecode(pytester.path / "api/contract.py", OLD, NEW)
    (pytester.path / "contract.json").write_text(json.dumps({"version": 1}))
    return pytester


GATES = {
    "drift": '[tool.promote.gates.drift]\ncontract = "contract.json"\nsource = "api.contract:contract"\n',
    "command": (
        f'[tool.promote.gates.command]\ncommand = ["{sys.executable}", "-c", '
        "\"import sys, api.contract as c; sys.exit(c.contract() != {'version': 1})\"]\n"
    ),
}


@pytest.mark.parametrize("gate", sorted(GATES))
def test_a_gate_judges_the_module_as_it_is_on_disk(app: pytest.Pytester, gate: str) -> None:
    # The stale .pyc says version 1, which the canonical contract and the command
    # accept: a gate that loaded it would pass code that changed.
    app.makepyprojecttoml(
        f'[tool.promote]\nstages = ["ci"]\n\n{GATES[gate]}\n'
        f'[tool.promote.stage.ci]\nrequired = ["{gate}"]\n'
    )
    result = app.runpytest("--promote-to=ci", "-v")
    result.stdout.fnmatch_lines([f"promote::{gate} FAILED*"])
    if gate == "drift":
        result.stdout.fnmatch_lines(["contract.json: drift ~ version: 1 -> 3"])
    assert list((app.path / "api/__pycache__").iterdir()) == [
        app.path / "api/__pycache__" / f"contract.{sys.implementation.cache_tag}.pyc"
    ], "the gate wrote into the project's own bytecode cache"


def test_the_whole_suite_is_counted_from_the_code_on_disk(project) -> None:
    """The collect-only count of the whole suite imports the tests' helpers afresh."""
    pytester = project(
        test_many="import pytest, cases\n\n@pytest.mark.parametrize('i', range(cases.N))\n"
                  "def test_case(i):\n    pass\n"
    )
    pytester.makepyfile(test_app="def test_works():\n    pass\n")
    rewrite_behind_stale_bytecode(pytester.path / "cases.py", "N = 1\n", "N = 4\n")
    result = pytester.runpytest("--promote-to=development", "test_app.py")
    # On disk: 1 selected + 4 cases; the stale .pyc would say 1 + 1.
    result.stdout.fnmatch_lines(["*partial 4 of 5 tests left out by the arguments test_app.py*"])
