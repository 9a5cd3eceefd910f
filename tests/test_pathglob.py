"""Policy globs: ``**``, segment-bound ``*``, basename patterns, directories."""

from __future__ import annotations

import pytest

from pytest_promote._util.paths import matches, matches_any


@pytest.mark.parametrize(
    ("path", "pattern", "expected"),
    [
        ("README.md", "*.md", True),
        ("docs/a/b.md", "*.md", True),  # no slash: the name, at any depth
        ("docs/a/b.py", "*.md", False),
        ("docs/x.py", "docs/**", True),
        ("docs/deep/x.py", "docs/**", True),
        ("src/docs/x.py", "docs/**", False),  # a slash anchors at the root
        ("src/app/x.py", "src/app", True),  # a directory covers what is below it
        ("src/app/x.py", "src/app/", True),
        ("src/app2/x.py", "src/app", False),
        ("src/c.py", "src/**/*.py", True),  # ** may be no directory at all
        ("src/a/b/c.py", "src/**/*.py", True),
        ("src/a/c.py", "src/*.py", False),  # * stays inside one segment
        ("src/c.pyc", "src/*.py", False),
        ("a.txt", "[ab].txt", True),
        ("c.txt", "[!ab].txt", True),
        ("a.txt", "[!ab].txt", False),
        ("x/a.b", "x/a?b", True),
        ("x/a/b", "x/a?b", False),
        ("src/a.py", "./src/*.py", True),
        ("a+b(1).py", "a+b(1).py", True),  # regex characters are literal
    ],
)
def test_matches(path: str, pattern: str, expected: bool) -> None:
    assert matches(path, pattern) is expected


def test_matches_any() -> None:
    assert matches_any("docs/x.txt", ["*.md", "docs/**"])
    assert not matches_any("src/x.py", ["*.md", "docs/**"])
    assert not matches_any("src/x.py", [])
