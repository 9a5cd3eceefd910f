"""Third-party gates through the public hook, exactly as the README shows them."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).parent.parent / "README.md"


def readme_block(after: str, lang: str) -> str:
    text = README.read_text()
    section = text[text.index(after):]
    match = re.search(rf"```{lang}\n(.*?)```", section, re.S)
    assert match, f"no {lang} block after {after!r} in README"
    return match.group(1)


def test_readme_custom_gate_works(pytester) -> None:
    pytester.makeconftest(readme_block("## Custom gates", "python"))
    pytester.makepyprojecttoml(
        '[tool.promote]\nstages = ["production"]\n'
        + readme_block("## Custom gates", "toml")
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
        ["XFAIL promote::broken - advisory: could not evaluate: RuntimeError: service unreachable"]
    )
