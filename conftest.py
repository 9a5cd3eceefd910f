"""The plugin's own tests drive pytest the way users do, through pytester."""

# pytester's in-process runs restore sys.modules afterwards, so a module first
# imported inside one is imported again by the next. Load these once, up front:
# coverage.py's C tracer cannot be imported twice, and re-importing hypothesis
# (its pytest plugin loads it in every run) costs most of a second each time.
import importlib
import pkgutil

import coverage  # noqa: F401
import hypothesis  # noqa: F401

import pytest_promote

# And every module of pytest-promote: one first imported inside a run would be a new
# copy in the next, beside the copies the tests and earlier runs hold, each with its
# own classes and stash keys, and a run would mix them (a key set through one copy,
# looked up through another) in ways that depend on which tests ran before.
for _module in pkgutil.walk_packages(pytest_promote.__path__, "pytest_promote."):
    if _module.name != "pytest_promote.__main__":  # it runs the command line
        importlib.import_module(_module.name)

pytest_plugins = ["pytester"]
