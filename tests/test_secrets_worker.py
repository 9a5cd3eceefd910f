"""The worker's line pass yields exactly what detect-secrets' own line pass yields."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from detect_secrets.core.scan import _process_line_based_plugins
from detect_secrets.settings import default_settings, get_plugins
from hypothesis import example, given, settings
from hypothesis import strategies as st

from pytest_promote.gates.secrets import filters, scan, worker
from tests import secrets_corpus

pytestmark = pytest.mark.supported_range

Found = list[tuple[int, str, str, bool]]

# Pieces of lines: the corpus's secrets and keywords, quotes, operators and spaces,
# so random lines land on both sides of every plugin's expressions.
WORDS = sorted({
    word
    for body in (secrets_corpus.TOKENS, secrets_corpus.FILTERED, *secrets_corpus.KEYWORDS.values())
    for line in body.splitlines()
    for word in line.replace("'", " ").replace('"', " ").split()
})
PIECES = st.one_of(
    st.sampled_from(WORDS),
    st.sampled_from(["'", '"', "=", ": ", ":=", "=>", "://", "@", "-", "_", ".", "#", "\t"]),
    st.builds(lambda n: " " * n, st.integers(0, 6)),
    st.text(alphabet=st.sampled_from(list("aZ9+/=_-.:'\" ")), max_size=8),
)
NAMES = ["app/settings.py", "web/config.js", "deploy/values.yaml", "deploy/app.ini", "notes.txt"]


@pytest.fixture(scope="module", autouse=True)
def configured() -> Iterator[None]:
    """detect-secrets set up as the worker sets it up (its twins included)."""
    with default_settings():
        worker.configure(None, str(Path(filters.__file__).resolve()), str(scan.PLUGINS))
        yield


def both(lines: list[str], filename: str) -> tuple[Found, Found]:
    numbered = list(enumerate(lines, start=1))
    ours = [(s.line_number, s.type, s.secret_hash, s.is_verified)
            for s in worker.line_pass(numbered, filename)]
    theirs = [(s.line_number, s.type, s.secret_hash, s.is_verified)
              for s in _process_line_based_plugins(lines=numbered, filename=filename)]
    return ours, theirs


def test_only_plain_regex_plugins_are_screened() -> None:
    made = worker.screens(get_plugins())
    always = sorted(type(p).__name__ for p, screen in made if screen is None)
    assert always == [
        "Base64HighEntropyString", "HexHighEntropyString", "JwtTokenDetector", "KeywordDetector",
    ]
    assert len(made) - len(always) >= 20
    assert worker.can_chunk(str(Path(filters.__file__).resolve()), str(scan.PLUGINS))


@pytest.mark.parametrize("path", sorted(secrets_corpus.files()))
def test_same_secrets_in_the_same_order_on_every_corpus_file(path: str) -> None:
    body = secrets_corpus.files()[path].decode("utf-8", "replace")
    ours, theirs = both(body.splitlines(keepends=True), path)
    assert ours == theirs
    if path == "app/tokens.py":  # the screens let every kind of token through
        assert len({kind for _, kind, _, _ in ours}) >= 20


@pytest.fixture
def no_verify() -> Iterator[None]:
    """Verification off (``--no-verify``): it asks each token's service over the
    network, which takes long here and is the same call in both passes."""
    from detect_secrets.settings import get_filters, get_settings

    name = "detect_secrets.filters.common.is_ignored_due_to_verification_policies"
    saved = get_settings().filters.pop(name)
    get_filters.cache_clear()
    yield
    get_settings().filters[name] = saved
    get_filters.cache_clear()


@settings(max_examples=400, deadline=None)
@given(st.lists(st.lists(PIECES, max_size=10).map("".join), min_size=1, max_size=8),
       st.sampled_from(NAMES))
@example(["# pragma: allowlist nextline secret", "aws = 'AKIAIOSFODNN7EXAMPLE'"], "app/settings.py")
@example(["url = 'https://alice:n0tApassw0rd@example.com/path'   "], "notes.txt")
@pytest.mark.usefixtures("no_verify")
def test_same_secrets_in_the_same_order_on_random_lines(lines: list[str], name: str) -> None:
    ours, theirs = both([line + "\n" for line in lines], name)
    assert ours == theirs
