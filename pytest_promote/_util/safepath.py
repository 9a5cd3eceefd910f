"""The commands that hold keys or judge signatures (``pytest-promote sign``, ``verify``,
``approve``, ``ledger sync``...) never import code from the checkout they run in.

``python -m pytest_promote`` puts the working directory first on the module search
path, so a ``base64.py`` committed at the repository root would run inside the sign
job. Before anything else is imported, :func:`guard` drops that entry. Any other entry
that lies inside the checkout (``PYTHONPATH=.``, the ``.pth`` file of an editable
install of the project), unless it belongs to the Python environment running the
command (a virtual environment made inside the checkout), makes ``sign``, ``verify``
and ``approve`` refuse to run (exit 4: the job that holds a key or judges signatures is
set up wrong) and is dropped for the other commands (``ledger sync`` after the tests,
in the job that installed the project). It uses only modules Python has loaded before
any script runs (``sys``, ``os``).
"""

import os
import sys


def checkout(start: str) -> str:
    """The git work tree holding ``start`` (the nearest directory with ``.git``), or ``start``."""
    here = start
    while True:
        if os.path.exists(os.path.join(here, ".git")):
            return here
        parent = os.path.dirname(here)
        if parent == here:
            return start
        here = parent


def inside(path: str, directory: str) -> bool:
    """Whether ``path`` is ``directory`` or lies under it (both real paths)."""
    return path == directory or path.startswith(directory.rstrip(os.sep) + os.sep)


def reaching(paths: list[str], cwd: str) -> list[str]:
    """The entries of ``paths`` through which an import could load a file of the
    checkout around ``cwd``, other than the running environment's own."""
    root = checkout(cwd)
    prefixes = {os.path.realpath(p) for p in (sys.prefix, sys.exec_prefix, sys.base_prefix, sys.base_exec_prefix)}
    own = [p for p in prefixes if not inside(root, p)]  # an environment around the checkout vouches for nothing
    found = []
    for entry in paths:
        path = os.path.realpath(entry or cwd)
        if inside(path, root) and not any(inside(path, p) for p in own):
            found.append(entry or "'' (the working directory)")
    return found


#: The commands that hold a key or judge signatures: they refuse a search path reaching the checkout.
STRICT = ("sign", "verify", "approve")


def command(argv: list[str]) -> str | None:
    """The command named on the command line (its first word that is no option)."""
    return next((a for a in argv[1:] if not a.startswith("-")), None)


def module_run() -> str | None:
    """The module ``python -m MODULE`` runs (read from the interpreter's own command
    line), or None when Python was not started with ``-m``."""
    args = list(getattr(sys, "orig_argv", ()))[1:]
    i = 0
    while i < len(args) and args[i].startswith("-") and args[i] != "-":
        arg = args[i]
        i += 1
        if arg.startswith("--"):
            continue
        for at, flag in enumerate(arg[1:], start=2):
            rest = arg[at:]
            if flag == "m":
                return rest or (args[i] if i < len(args) else None)
            if flag == "c":
                return None
            if flag in "WX":  # an option with a value: the rest of the word, or the next one
                i += 0 if rest else 1
                break
    return None


def is_command() -> bool:
    """Whether this process runs pytest-promote's commands: the console script, or
    ``python -m pytest_promote``; not another module of the package run with ``-m``
    (the coverage gate restarts pytest through one, with pytest's search path)."""
    if sys.argv and sys.argv[0].endswith(("pytest-promote", "pytest-promote.exe")):
        return True
    return sys.argv[:1] == ["-m"] and module_run() in ("pytest_promote", "pytest_promote.__main__")


def guard() -> None:
    """Drop the working directory ``python -m`` put on ``sys.path``; then drop every
    other entry reaching the checkout, or for :data:`STRICT` commands exit 4 with the fix."""
    cwd = os.path.realpath(os.getcwd())
    minus_m = sys.argv[:1] == ["-m"] and not getattr(sys.flags, "safe_path", False)
    if minus_m and sys.path and os.path.realpath(sys.path[0] or cwd) == cwd:
        del sys.path[0]
    found = reaching(sys.path, cwd)
    if found and command(sys.argv) not in STRICT:
        sys.path[:] = [p for p in sys.path if not reaching([p], cwd)]
    elif found:
        sys.stderr.write(
            "pytest-promote: refused: the module search path reaches the checkout at "
            f"{checkout(cwd)} through {', '.join(found)}, so its files could run inside this "
            "command (which may hold a signing key). Unset PYTHONPATH and install pytest-promote "
            "apart from the project (not the project itself), then run pytest-promote COMMAND "
            "or python -I -m pytest_promote COMMAND.\n"
        )
        raise SystemExit(4)
