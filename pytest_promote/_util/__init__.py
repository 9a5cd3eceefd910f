"""Private helpers shared across the package, with no pytest: git, processes, paths and
globs, files, clock; and the commands' guard of the module search path (``safepath``),
which runs before anything else is imported, so this ``__init__`` imports nothing."""
