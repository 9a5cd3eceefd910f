"""The field path syntax shared by the metrics, health and drift gates."""

from __future__ import annotations

import pytest

from pytest_promote._util import jsonpath

DOC = {
    "a": {"b": [{"c": 3}, {"c": 4}]},
    "odd.key": {"x": True},
    "benchmarks": [
        {"name": "test_a", "stats": {"mean": 0.1}},
        {"name": "test_b", "stats": {"mean": 0.2}},
    ],
}


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("a.b[0].c", 3),
        ("a.b[-1].c", 4),
        ('["odd.key"].x', True),
        ("benchmarks[name=test_b].stats.mean", 0.2),
        ("a", {"b": [{"c": 3}, {"c": 4}]}),
    ],
)
def test_get_follows_the_path(path: str, value: object) -> None:
    assert jsonpath.get(DOC, path) == value


@pytest.mark.parametrize(
    "path", ["a.b[0].c", "benchmarks[name=test_b].stats.mean", '["odd.key"].x', "x[-1]"]
)
def test_render_is_the_inverse_of_parse(path: str) -> None:
    assert jsonpath.render(jsonpath.parse(path)) == path


def test_odd_keys_render_quoted_and_parse_back() -> None:
    steps = ("a b", "c.d", 0)
    assert jsonpath.render(steps) == '["a b"]["c.d"][0]'
    assert jsonpath.parse(jsonpath.render(steps)) == steps


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("", "an empty path"),
        ("a..b", "a key is missing at 2"),
        ("a.", "a key is missing at 2"),
        ("a[0", "is never closed"),
        ("a[x]", "neither an index"),
        ('a["x"y]', "expected ']'"),
        ("a]b", "unexpected"),
    ],
)
def test_malformed_paths_say_where(path: str, message: str) -> None:
    with pytest.raises(jsonpath.PathError, match=message):
        jsonpath.parse(path)


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("a.x", "a.x is missing"),
        ("a.b[2].c", "a.b has 2 element"),
        ("a.b.c", "a.b is a list, not an object"),
        ("a.b[0].c.d", r"a.b\[0\].c is 3 \(int\)"),
        ("a[0]", "a is an object, not a list"),
        ("benchmarks[name=test_z].stats", "no element of benchmarks has name = 'test_z'"),
    ],
)
def test_missing_steps_are_named(path: str, message: str) -> None:
    with pytest.raises(jsonpath.PathError, match=message):
        jsonpath.get(DOC, path)
