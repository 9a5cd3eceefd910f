"""Paths users write: one gitignore glob dialect (pathspec), one inside-the-root
check, one tree walker."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_promote._util.paths import check_inside, find, matcher, matches_any, walk


@pytest.mark.parametrize(
    ("path", "pattern", "expected"),
    [
        ("README.md", "*.md", True),
        ("docs/a/b.md", "*.md", True),  # no slash: the name, at any depth
        ("docs/a/b.py", "*.md", False),
        ("docs/x.py", "docs/**", True),
        ("docs/deep/x.py", "docs/**", True),
        ("src/docs/x.py", "docs/**", False),  # a slash anchors at the root
        ("src/docs/x.py", "docs", True),  # ... but a bare name matches at any depth
        ("src/docs/x.py", "/docs", False),  # a leading slash anchors it
        ("docs/x.py", "/docs", True),
        ("src/app/x.py", "src/app", True),  # a directory covers what is below it
        ("src/app/x.py", "src/app/", True),
        ("src/app2/x.py", "src/app", False),
        ("src/c.py", "src/**/*.py", True),  # ** may be no directory at all
        ("src/a/b/c.py", "src/**/*.py", True),
        ("src/a/c.py", "src/*.py", False),  # * stays inside one segment
        ("tests/fixtures/deep/k.pem", "tests/fixtures/*", True),  # ... but covers a directory it matches
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
def test_one_pattern(path: str, pattern: str, expected: bool) -> None:
    assert matcher([pattern])(path) is expected


def test_matches_any_and_negation() -> None:
    assert matches_any("docs/x.txt", ["*.md", "docs/**"])
    assert not matches_any("src/x.py", ["*.md", "docs/**"])
    assert not matches_any("src/x.py", [])
    patterns = ["src/**", "!src/generated/**", "src/generated/keep.py"]  # the last match wins
    assert matches_any("src/a.py", patterns)
    assert not matches_any("src/generated/b.py", patterns)
    assert matches_any("src/generated/keep.py", patterns)


@pytest.mark.parametrize(
    ("value", "glob", "ok"),
    [
        ("src", False, True),
        ("src/../../etc", False, False),
        ("/etc/passwd", False, False),
        ("", False, False),
        ("/docs/**", True, True),  # in a glob, a leading slash anchors at the root
        ("!/docs/**", True, True),
        ("docs/../../x", True, False),
        ("!../x", True, False),
    ],
)
def test_inside_the_root(value: str, glob: bool, ok: bool) -> None:
    if ok:
        assert check_inside("paths", value, glob=glob) == value
    else:
        with pytest.raises(ValueError, match=r"`paths` = .* leaves the project root"):
            check_inside("paths", value, glob=glob)


def test_find_and_walk(tmp_path: Path) -> None:
    for name in ["dist/a.whl", "dist/sub/b.whl", "c.whl", "node_modules/x/d.whl", ".hidden/e.whl",
                 ".venv/f.whl", "venv/lib/g.whl", ".git/h.whl"]:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x")
    (tmp_path / "venv" / "pyvenv.cfg").write_text("home = /usr\n")

    def names(found: list[Path]) -> list[str]:
        return sorted(f.relative_to(tmp_path).as_posix() for f in found)

    assert names(find(tmp_path, "dist/*.whl")) == ["dist/a.whl"]
    assert names(find(tmp_path, "dist/")) == ["dist/a.whl", "dist/sub/b.whl"]
    assert names(find(tmp_path, "*.whl")) == [".hidden/e.whl", ".venv/f.whl", "c.whl", "dist/a.whl",
                                              "dist/sub/b.whl"]
    assert names(find(tmp_path, "/*.whl")) == ["c.whl"]
    assert names(find(tmp_path, "missing/*.whl")) == []
    assert names(walk(tmp_path)) == ["c.whl", "dist/a.whl", "dist/sub/b.whl"]
