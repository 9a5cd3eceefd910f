"""What the tests' projects carry so that pytest started as a separate process costs little."""

from __future__ import annotations

#: The pytest option for a test's project that pytest runs in processes of its own
#: (a measuring promotion, ``coverage run -m pytest``, a shard job, the listing of the
#: canonical suite a partial run starts): no hypothesis plugin, which these projects'
#: tests do not use. It imports all of hypothesis at every session's end, over a second
#: of CPU, about half of such a process.
#:
#: In the project's configuration, not ``-p`` or ``PYTEST_ADDOPTS``: those make the run
#: differ from the canonical suite, which a promotion then lists in one more process;
#: that listing reads the configuration too.
ADDOPTS = 'addopts = "-p no:hypothesispytest"'
#: :data:`ADDOPTS` as a table of its own, for a ``pyproject.toml`` that has none.
PYTEST_INI = f"\n[tool.pytest.ini_options]\n{ADDOPTS}\n"
