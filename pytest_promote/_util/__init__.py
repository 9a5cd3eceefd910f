"""Private helpers shared across the package: git, processes, paths and globs, files, clock."""
