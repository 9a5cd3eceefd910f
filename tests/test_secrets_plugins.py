"""The IBM Cloud IAM twin finds exactly what detect-secrets' own plugin finds."""

from __future__ import annotations

import time

from detect_secrets.plugins.ibm_cloud_iam import IbmCloudIamDetector as Original
from hypothesis import example, given, settings
from hypothesis import strategies as st

from pytest_promote.gates.secrets import plugins
from pytest_promote.gates.secrets.plugins import IbmCloudIamDetector

TOKEN = "abcdefghijABCDEFGHIJ0123456789_-abcdefghijKL"  # 44 characters, a test string
PIECES = st.one_of(
    st.sampled_from([
        "ibm", "cloud", "iam", "api", "key", "pwd", "password", "pass", "token", "_", "-",
        "IBM_CLOUD_IAM_API_KEY", "pa\u017fs", "\u212aey", '"', "'", "[", "]", "=", ":", ":=",
        "=>", "::", ">", "\t", "x", TOKEN, TOKEN[:43], TOKEN + "z", TOKEN + "'",
    ]),
    st.builds(lambda n: " " * n, st.integers(0, 12)),
    st.text(alphabet=st.sampled_from(list(" =:'\"[]_-aZ9\u017f\u212a\u00e9.")), max_size=6),
)


def found(plugin: Original, line: str) -> list[str]:
    return list(plugin.analyze_string(line))


@settings(max_examples=1500, deadline=None)
@given(st.lists(PIECES, max_size=12).map("".join))
@example(f"ibm_cloud_iam_api_key = '{TOKEN}'")
@example(f"key   {TOKEN}")
@example(f"token :=   \"{TOKEN}\"")
@example(f"[\"iam-pass\"] => {TOKEN}, pwd:: {TOKEN}")
@example(f"pa\u017fs: {TOKEN}")
@example(f"key := {TOKEN}z")
def test_same_secrets_as_the_original_on_lines_built_from_its_pieces(line: str) -> None:
    assert found(IbmCloudIamDetector(), line) == found(Original(), line)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80))
def test_same_secrets_on_any_text(line: str) -> None:
    assert found(IbmCloudIamDetector(), line) == found(Original(), line)


def test_the_twin_is_for_this_detect_secrets_and_fast_on_wide_rows() -> None:
    assert plugins.usable()
    assert IbmCloudIamDetector.secret_type == Original.secret_type
    assert IbmCloudIamDetector.__name__ in plugins.PLUGINS
    row = "| Controls the store of the token" + " " * 150 + "| Default: ``x``" + " " * 150 + "|"
    began = time.perf_counter()
    for _ in range(100):
        assert found(IbmCloudIamDetector(), row) == []
    linear = time.perf_counter() - began
    began = time.perf_counter()
    assert found(Original(), row) == []
    assert linear < time.perf_counter() - began  # 100 rows sooner than the original's one
