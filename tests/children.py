"""What the tests' projects carry so that pytest started as a separate process costs little."""

from __future__ import annotations

#: The pytest option for a test's project that pytest runs in processes of
#: its own (a measuring promotion, ``coverage run -m pytest``, xdist workers, a
#: shard job): pytest there runs without hypothesis's plugin, which these projects'
#: tests do not use. The plugin imports all of hypothesis at the end of every session
#: (in its terminal summary), more than a second of CPU, about half of what such a
#: process costs; the suite starts several hundred of them.
#:
#: It is the project's own configuration, not ``-p`` on the command line nor
#: ``PYTEST_ADDOPTS``: those would make the run differ from the canonical suite, so a
#: promotion would list that suite in one more process (``pytest --collect-only``); the
#: configuration leaves the run canonical, and that listing, when another option starts
#: it, reads the table too.
ADDOPTS = 'addopts = "-p no:hypothesispytest"'
#: :data:`ADDOPTS` as a table of its own, for a ``pyproject.toml`` that has none.
PYTEST_INI = f"\n[tool.pytest.ini_options]\n{ADDOPTS}\n"
