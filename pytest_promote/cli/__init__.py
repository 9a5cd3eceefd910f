"""``python -m pytest_promote COMMAND``: ``main`` dispatches to one module per command."""
