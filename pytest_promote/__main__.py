"""``python -m pytest_promote COMMAND``: see :mod:`pytest_promote.cli`."""

import sys

from pytest_promote.cli import main

sys.exit(main())
