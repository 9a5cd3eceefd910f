"""The commands that hold a key or judge a signature never import the checkout's files:
a repository that commits ``base64.py``, ``json.py``, ``hashlib.py`` and ``typing.py``
at its root cannot read the signing key nor make ``verify`` accept a file."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from signing import Key

HOSTILE = (
    "import os\n"
    "with open(os.environ['MARKER'], 'a') as out:\n"
    "    out.write(__name__ + ' saw ' + os.environ.get('PROMOTE_SIGNING_KEY', '') + '\\n')\n"
)
MODULES = ("base64", "json", "hashlib", "typing")


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """A git repository whose root commits the hostile modules, and an environment
    holding a signing key (and where a hostile module would leave its mark)."""
    root = tmp_path_factory.mktemp("hostile")
    for name in MODULES:
        (root / f"{name}.py").write_text(HOSTILE)
    (root / "report.json").write_text('{"not": "a report"}\n')
    for args in (["init", "-q"], ["add", "-A"], ["-c", "user.name=e", "-c", "user.email=e@example.com",
                                                 "commit", "-q", "-m", "hostile"]):
        subprocess.run(["git", *args], cwd=root, check=True, capture_output=True)
    key = Key.generate(tmp_path_factory.mktemp("key") / "ci")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONSAFEPATH")}
    env |= {"PROMOTE_SIGNING_KEY": key.path.read_text(), "MARKER": str(root.parent / "hostile-ran")}
    return root, env


COMMANDS = {
    "python -m": [sys.executable, "-m", "pytest_promote"],
    "console script": [str(Path(sys.executable).with_name("pytest-promote"))],
    "python -I -m": [sys.executable, "-I", "-m", "pytest_promote"],
}


def run(hostile: tuple[Path, dict[str, str]], command: list[str], *args: str,
        **env: str) -> subprocess.CompletedProcess[str]:
    root, environ = hostile
    return subprocess.run([*command, *args], cwd=root, env={**environ, **env},
                          capture_output=True, text=True, check=False, timeout=300)


def nothing_ran(hostile: tuple[Path, dict[str, str]], done: subprocess.CompletedProcess[str]) -> None:
    marker = Path(hostile[1]["MARKER"])
    assert not marker.exists(), marker.read_text()
    assert "PRIVATE KEY" not in done.stdout + done.stderr


@pytest.mark.parametrize("how", list(COMMANDS))
def test_sign_and_verify_never_import_the_checkout(hostile: tuple[Path, dict[str, str]], how: str) -> None:
    signed = run(hostile, COMMANDS[how], "sign", "report.json", "--stage", "production",
                 "--key", "env:PROMOTE_SIGNING_KEY")
    nothing_ran(hostile, signed)
    assert signed.returncode == 1, signed.stderr
    assert "report.json: NOT signed: not a report whose digest matches its content" in signed.stderr

    verified = run(hostile, COMMANDS[how], "verify", "report.json", "--stage", "production")
    nothing_ran(hostile, verified)
    assert verified.returncode == 1
    assert "report.json: REJECTED: schema None; this verify reads schema" in verified.stderr


@pytest.mark.parametrize("how", ["python -m", "console script"])
@pytest.mark.parametrize("path", [".", "", "sub/.."])
def test_a_search_path_reaching_the_checkout_is_refused(
    hostile: tuple[Path, dict[str, str]], how: str, path: str
) -> None:
    (hostile[0] / "sub").mkdir(exist_ok=True)
    done = run(hostile, COMMANDS[how], "sign", "report.json", "--stage", "production",
               "--key", "env:PROMOTE_SIGNING_KEY", PYTHONPATH=os.pathsep.join([path, "/nonexistent"]))
    nothing_ran(hostile, done)
    assert done.returncode == 4
    assert done.stderr.startswith("pytest-promote: refused: the module search path reaches the checkout at ")
    assert "Unset PYTHONPATH" in done.stderr
    assert done.stdout == ""


@pytest.mark.parametrize("how", ["python -m", "console script"])
def test_other_commands_run_without_the_checkout_on_the_search_path(
    hostile: tuple[Path, dict[str, str]], how: str
) -> None:
    # The job that ran the tests (the project installed) shares the ledger afterwards.
    done = run(hostile, COMMANDS[how], "ledger", "sync", "--remote", "nowhere", PYTHONPATH=".")
    nothing_ran(hostile, done)
    assert "refused" not in done.stderr
    assert "nowhere" in done.stderr  # it ran, and failed on the remote it was given


@pytest.mark.parametrize(("argv", "module"), [
    (["python", "-m", "pytest_promote", "sign"], "pytest_promote"),
    (["python", "-I", "-m", "pytest_promote"], "pytest_promote"),
    (["python", "-Im", "pytest_promote"], "pytest_promote"),
    (["python", "-mpytest_promote"], "pytest_promote"),
    (["python", "-W", "error", "-Xdev", "-m", "pytest_promote"], "pytest_promote"),
    (["python", "-m", "pytest_promote.gates.coverage.firstline", "module"], "pytest_promote.gates.coverage.firstline"),
    (["python", "x.py", "-m", "pytest_promote"], None),
    (["python", "-c", "pass", "-m", "pytest_promote"], None),
])
def test_only_the_command_module_is_guarded(
    monkeypatch: pytest.MonkeyPatch, argv: list[str], module: str | None
) -> None:
    """The guard reads which module ``-m`` runs: the commands are guarded, another module
    of the package (the coverage gate's restart of pytest) keeps pytest's search path."""
    from pytest_promote._util import safepath

    monkeypatch.setattr(sys, "orig_argv", argv)
    monkeypatch.setattr(sys, "argv", ["-m"])
    assert safepath.module_run() == module
    assert safepath.is_command() is (module == "pytest_promote")
