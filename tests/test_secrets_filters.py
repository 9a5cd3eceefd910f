"""The linear filters decide exactly as the detect-secrets filters they replace."""

from __future__ import annotations

import re
import sys
import time

import pytest
from detect_secrets.filters.allowlist import is_line_allowlisted as original_allowlisted
from detect_secrets.filters.heuristic import is_indirect_reference as original
from detect_secrets.util.code_snippet import get_code_snippet
from hypothesis import example, given, settings
from hypothesis import strategies as st

from pytest_promote.gates.secrets import filters
from pytest_promote.gates.secrets.filters import FILTERS, is_indirect_reference, is_line_allowlisted

# The characters the original regex cares about, and some it does not.
#: Seconds: a safety net that only backtracking matching reaches. The original filters
#: take over 30 s on each timed loop below; linear matching, milliseconds even on a
#: loaded machine.
BACKTRACKING = 20.0
RELEVANT = list(" \t\v\n\r\f\x1c\u00a0\u2028\u3000:=![]()a_.-Z9\u00e9\u0663")
WHITESPACE_RUN = st.builds(
    lambda ch, n: ch * n, st.sampled_from([" ", "\t", "\v", "\u3000"]), st.integers(0, 60)
)
PIECES = st.one_of(
    st.text(alphabet=st.sampled_from(RELEVANT), max_size=10),
    WHITESPACE_RUN,
    st.sampled_from(
        ["=", "==", "!==", ":=", ":", "get_secret(", "request.headers['", "])", "x.y-z["]
    ),
)


@settings(max_examples=500, deadline=None)
@given(st.lists(PIECES, max_size=10).map("".join))
@example("password = get_secret_key()")
@example("secret = request.headers['apikey']")
@example("a = b(\v)")
@example("=a(\v=\vb[)")
@example("=a(=a(\v)")
@example("|  opt  |" + " " * 300 + "Default: ``x``" + " " * 150 + "|")
def test_same_answer_on_lines_built_from_the_regexs_pieces(line: str) -> None:
    assert is_indirect_reference(line) == original(line)


@settings(max_examples=400, deadline=None)
@given(st.text(max_size=60))
def test_same_answer_on_any_text(line: str) -> None:
    assert is_indirect_reference(line) == original(line)


@pytest.mark.parametrize("length", [999, 1000, 1001, 1500])
@pytest.mark.parametrize("reference", [True, False])
def test_same_line_length_cut_off(length: int, reference: bool) -> None:
    head = "key = get_secret(x)" if reference else "key = 'not a call'"
    line = head + "y" * (length - len(head))
    assert len(line) == length
    assert is_indirect_reference(line) == original(line)
    assert is_indirect_reference(line) is (reference and length <= 1000)


def test_the_proofs_assumptions_hold_for_every_code_point() -> None:
    r"""``\s``, ``[\w.-]``, the operator characters and brackets never overlap."""
    space, word = re.compile(r"\s"), re.compile(r"[\w.-]")
    both = [c for c in map(chr, range(sys.maxunicode + 1)) if space.match(c) and word.match(c)]
    assert both == []
    for ch in ":!=[(":
        assert not space.match(ch) and not word.match(ch)


def test_pathological_table_rows_take_linear_time() -> None:
    row = "| ``option_name`` |" + " " * 240 + "| Default: ``None`` |" + " " * 220 + "|"
    worst = "=a(" * 330 + "\v"
    began = time.perf_counter()
    for _ in range(16_000):
        assert is_indirect_reference(row) is False
    for _ in range(1_000):
        assert is_indirect_reference(worst) is False
    # The original needs about 40 ms for one such row, over ten minutes for these; a
    # linear match takes milliseconds. The bound is only a safety net against the
    # backtracking coming back, never a guess at this machine's speed.
    assert time.perf_counter() - began < BACKTRACKING


ALLOW_PIECES = st.one_of(
    st.sampled_from([
        "#", "//", "/*", "*/", "'", "--", "<!--", "-->", "# ", "pragma: allowlist secret",
        "pragma:whitelist-secret", "pragma: allowlist nextline secret", "pragma: allowlist",
        " secret", "-nextline", "x = 'v'", "\n", "\t", " ",
    ]),
    WHITESPACE_RUN,
    st.text(alphabet=st.sampled_from(list(" \t\n#/*'-<>!ap:x")), max_size=6),
)
ALLOW_LINES = st.lists(ALLOW_PIECES, max_size=8).map("".join)


@settings(max_examples=800, deadline=None)
@given(
    st.sampled_from(["a.py", "b.yaml", "c.yml", "d.xml", "e.sql", "noext"]),
    ALLOW_LINES,
    ALLOW_LINES,
)
@example("a.py", 'password = "x"  # pragma: allowlist secret', "")
@example("a.py", 'password = "x"', "# pragma: allowlist nextline secret")
@example("a.py", "/* pragma: allowlist secret */  \t", "")
@example("a.py", "<!-- # pragma: whitelist secret -->\n", "")
@example("b.yaml", "x // pragma: allowlist secret", "// pragma: allowlist nextline secret")
@example("a.py", "# pragma: allowlist secret\nmore", "")
@example("a.py", "x = 1  # pragma: allowlist secret\n", "")
@example("a.py", "<!--\tpragma: allowlist secret -->", "")
@example("a.py", "x", "\t// pragma: allowlist nextline secret\n")
@example("a.py", "x" + " " * 400 + "# pragma: allowlist secret" + " " * 300, "")
def test_allowlist_same_answer(filename: str, line: str, previous: str) -> None:
    context = get_code_snippet([previous, line], 2)
    assert is_line_allowlisted(filename, line, context) == original_allowlisted(
        filename=filename, line=line, context=context
    )


def test_allowlist_is_linear_on_wide_rows() -> None:
    row = "| x |" + " " * 240 + "| Default: y |" + " " * 220 + "|"
    context = get_code_snippet([row, row], 2)
    began = time.perf_counter()
    for _ in range(16_000):
        assert is_line_allowlisted("t.rst", row, context) is False
    assert time.perf_counter() - began < BACKTRACKING  # the original: about 2 ms a row, 32 s


def test_the_worker_swaps_exactly_these_filters() -> None:
    from detect_secrets.settings import Settings

    assert set(FILTERS) <= set(Settings().filters)
    for twin in FILTERS.values():
        assert callable(getattr(filters, twin))
