"""``python -m pytest_promote COMMAND``: see :mod:`pytest_promote.cli.main`."""

import sys

from pytest_promote.cli.main import main

sys.exit(main())
