"""Third-party gates through the public hook, exactly as the documentation shows them."""

from __future__ import annotations

import re
from pathlib import Path

GUIDE = Path(__file__).parent.parent / "docs" / "custom-gates.md"


def guide_block(lang: str) -> str:
    match = re.search(rf"```{lang}\n(.*?)```", GUIDE.read_text(), re.S)
    assert match, f"no {lang} block in {GUIDE.name}"
    return match.group(1)


def test_documented_custom_gate_works(pytester) -> None:
    pytester.makeconftest(guide_block("python"))
    pytester.makepyprojecttoml(
        '[tool.promote]\nstages = ["production"]\n'
        + guide_block("toml")
    )
    pytester.makepyfile(test_app="def test_ok():\n    pass\n")
    (pytester.path / "CHANGELOG.md").write_text("# Changes\n## Unreleased\n- more\n")
    result = pytester.runpytest("--promote-to=production", "-v")
    result.stdout.fnmatch_lines(
        ["promote::changelog FAILED*", "CHANGELOG.md still has an Unreleased section"]
    )
    (pytester.path / "CHANGELOG.md").write_text("# Changes\n## 1.0\n- more\n")
    result = pytester.runpytest("--promote-to=production", "-v")
    result.stdout.fnmatch_lines(["promote::changelog PASSED*"])
    assert result.ret == 0


def test_gate_that_raises_fails_closed(pytester) -> None:
    pytester.makeconftest(
        """
        import pytest_promote as promote

        class Broken(promote.Gate):
            def evaluate(self):
                raise RuntimeError("service unreachable")

        @promote.hookimpl
        def pytest_promote_gate_kinds():
            return {"broken": Broken}
        """
    )
    pytester.makepyprojecttoml(
        '[tool.promote]\nstages = ["dev"]\n[tool.promote.stage.dev]\nadvisory = ["broken"]\n'
    )
    result = pytester.runpytest("--promote-to=dev", "-rx")
    result.stdout.fnmatch_lines(
        ["XFAIL promote::broken - *advisory: could not evaluate: RuntimeError: service unreachable"]
    )
