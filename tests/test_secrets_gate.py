"""The ``secrets`` gate on small projects, against the real detect-secrets."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.supported_range

DETECT_SECRETS = Path(sys.executable).with_name("detect-secrets")
HOOK = Path(sys.executable).with_name("detect-secrets-hook")
POLICY = """
[tool.promote]
stages = ["development"]
{extra}
[tool.promote.stage.development]
required = ["secrets"]
"""
OLD = "AKIAIOSFODNN7EXAMPLE"
NEW = "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"
AUDITED = "n0tAsecretReally9"


def git(root: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=root, check=True, capture_output=True, text=True
    ).stdout


def project(pytester: pytest.Pytester, extra: str = "", use_git: bool = True) -> Path:
    pytester.makepyprojecttoml(POLICY.format(extra=extra))
    pytester.makepyfile(test_ok="def test_ok():\n    pass\n")
    if use_git:
        git(pytester.path, "init", "-q")
        git(pytester.path, "add", "-A")
    return pytester.path


def add(root: Path, path: str, body: str | bytes, track: bool = True) -> None:
    target = root / path
    target.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(body, bytes):
        target.write_bytes(body)
    else:
        target.write_text(body)
    if track:
        git(root, "add", path)


def make_baseline(root: Path, *args: str) -> None:
    """``detect-secrets scan [ARGS] > .secrets.baseline``, as a user makes one."""
    done = subprocess.run(
        [DETECT_SECRETS, "scan", *args], cwd=root, check=True, capture_output=True
    )
    (root / ".secrets.baseline").write_bytes(done.stdout)
    git(root, "add", ".secrets.baseline")


def report(root: Path) -> dict[str, Any]:
    data = json.loads((root / "report.json").read_text())
    return next(g for g in data["gates"] if g["id"] == "secrets")


def test_a_new_secret_fails_and_a_baselined_or_audited_one_does_not(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = project(pytester)
    add(root, "app/old.py", f'aws = "{OLD}"\npassword = "{AUDITED}"\n')
    make_baseline(root)
    baseline = json.loads((root / ".secrets.baseline").read_text())
    for entry in baseline["results"]["app/old.py"]:
        if entry["type"] == "Secret Keyword":
            entry["is_secret"] = False  # audited: not a secret
    (root / ".secrets.baseline").write_text(json.dumps(baseline, indent=2))
    git(root, "add", ".secrets.baseline")
    add(root, "app/new.py", f'\n\ntoken = "{NEW}"\n')
    add(root, "data/latin1.txt", 'caf\xe9 password = "latinSecret1"\n'.encode("latin-1"))  # pragma: allowlist secret
    add(root, "data/utf16.txt", 'password = "wideSecret12"\n'.encode("utf-16"))  # pragma: allowlist secret
    add(root, "data/blob.dat", b"\x00\xff\xfe\x00 binary")
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    result = pytester.runpytest(
        "--promote-to=development", "--junitxml=junit.xml", "--promote-report=report.json",
        "--promote-summary=summary.md",
    )
    result.assert_outcomes(passed=1, failed=2)
    result.stdout.fnmatch_lines([
        "secrets: 4 new potential secrets not in .secrets.baseline (0 allowed for development);"
        " 8 files (1 excluded by detect-secrets' filters, 2 not UTF-8, scanned in their encoding,"
        " 1 binary, not scanned)*",
        # The finding quotes its line, the value masked there.
        'app/new.py:3: Base64 High Entropy String potential secret not in the baseline: token = "[[]REDACTED]"',
        'app/new.py:3: GitHub Token potential secret not in the baseline: token = "[[]REDACTED]"',
        "::error file=app/new.py,line=3,title=promote secrets::GitHub Token *",
    ])
    assert "app/old.py:" not in result.stdout.str()
    gate = report(root)
    assert (gate["status"], gate["measured"]) == ("failed", 4)
    # The same new secrets as detect-secrets' own pre-commit hook reports, and those of
    # the files it skips as not UTF-8 (Latin-1, UTF-16), which the gate reads.
    hook = subprocess.run(
        [HOOK, "--json", "--baseline", ".secrets.baseline", *git(root, "ls-files").split()],
        cwd=root, capture_output=True, text=True,
    )
    new = json.loads(hook.stdout)["results"]
    assert {(f["file"], f["line"], f["rule"]) for f in gate["findings"]} == {
        (path, e["line_number"], e["type"]) for path, entries in new.items() for e in entries
    } | {("data/latin1.txt", 1, "Secret Keyword"), ("data/utf16.txt", 1, "Secret Keyword")}
    # A secret's value appears nowhere: terminal, JUnit, JSON, Markdown, annotations, cache.
    outputs = [result.stdout.str(), result.stderr.str()]
    outputs += [(root / name).read_text() for name in ("junit.xml", "report.json", "summary.md")]
    outputs += [p.read_text() for p in (root / ".pytest_cache").rglob("*") if p.is_file()]
    for secret in (OLD, NEW, AUDITED, "latinSecret1", "wideSecret12"):
        assert not [text for text in outputs if secret in text]


def test_counts_equal_detect_secrets_scan_without_a_baseline(pytester: pytest.Pytester) -> None:
    root = project(pytester)
    add(root, "a.py", f'aws = "{OLD}"\ntoken = "{NEW}"\npassword = "hunter2hunter2"\n')
    add(root, "notebook.ipynb", json.dumps({"cells": [{"source": [f"k = '{NEW}'\n"]}]}))
    files = git(root, "ls-files").split()
    plain = json.loads(subprocess.run(
        [DETECT_SECRETS, "scan", *files], cwd=root, check=True, capture_output=True, text=True
    ).stdout)["results"]
    result = pytester.runpytest("--promote-to=development", "--promote-report=report.json")
    result.assert_outcomes(passed=1, failed=2)
    result.stdout.fnmatch_lines(
        ["*record accepted ones with `detect-secrets scan > .secrets.baseline`"]
    )
    assert report(root)["measured"] == sum(len(entries) for entries in plain.values()) == 6


MARKER_PLUGIN = """
import re
from pathlib import Path

from detect_secrets.constants import VerifiedResult
from detect_secrets.plugins.base import RegexBasedDetector


class MarkerDetector(RegexBasedDetector):
    \"\"\"Marker tokens; verifying one leaves a note, and its service says it is dead.\"\"\"

    secret_type = "Marker Token"  # pragma: allowlist secret
    denylist = [re.compile(r"mk_[0-9a-f]{16}")]

    def verify(self, secret):
        with Path("verified.log").open("a") as log:
            log.write("asked\\n")
        return VerifiedResult.VERIFIED_FALSE
"""


def new_per_hook(root: Path, *flags: str) -> int:
    """How many new secrets detect-secrets' own hook finds in app.py."""
    hook = subprocess.run(
        [HOOK, "--json", "--baseline", ".secrets.baseline", *flags, "app.py"],
        cwd=root, capture_output=True, text=True,
    )
    found = len(json.loads(hook.stdout or "{}").get("results", {}).get("app.py", []))
    assert hook.returncode == found, hook.stderr
    return found


def test_verification_is_detect_secrets_own_and_can_be_turned_off(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CI", raising=False)
    root = project(pytester)
    add(root, "marker.py", MARKER_PLUGIN)
    make_baseline(root, "--plugin", "marker.py")
    add(root, "app.py", "# mk_0123456789abcdef\n")
    # Its service says the token is dead: detect-secrets drops it, unless not asked.
    assert (new_per_hook(root), new_per_hook(root, "--no-verify")) == (0, 1)
    log = root / "verified.log"
    log.unlink()
    args = ("--promote-to=development", "--promote-report=report.json")

    pytester.runpytest(*args).assert_outcomes(passed=3)
    assert report(root)["measured"] == 0 and log.exists()

    log.unlink()
    pytester.makepyprojecttoml(
        POLICY.format(extra="[tool.promote.gates]\nsecrets = { verify = false }")
    )
    pytester.runpytest(*args).assert_outcomes(passed=1, failed=2)
    gate = report(root)
    assert (gate["measured"], gate["cached"]) == (1, False)  # not the verified run's result
    assert not log.exists()


def test_warm_runs_reuse_results_but_ci_never_does(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = project(pytester)
    add(root, "a.py", f'aws = "{OLD}"\n')
    make_baseline(root)
    args = ("--promote-to=development", "--promote-report=report.json")
    pytester.runpytest(*args).assert_outcomes(passed=3)
    assert not report(root)["cached"]
    pytester.runpytest(*args).assert_outcomes(passed=3)
    gate = report(root)
    assert gate["cached"] and "cached, inputs unchanged" in gate["summary"]
    add(root, "b.py", "x = 1\n")
    pytester.runpytest(*args).assert_outcomes(passed=3)
    assert "1 scanned, 4 unchanged since the last run" in report(root)["summary"]
    monkeypatch.setenv("CI", "true")
    pytester.runpytest(*args).assert_outcomes(passed=3)
    assert not report(root)["cached"] and "unchanged" not in report(root)["summary"]
    monkeypatch.delenv("CI")
    pytester.runpytest(*args, "--promote-no-cache").assert_outcomes(passed=3)
    assert "unchanged" not in report(root)["summary"]


def test_paths_and_exclude_choose_the_files(pytester: pytest.Pytester) -> None:
    root = project(pytester, extra='paths = ["src"]\n[tool.promote.gates]\n'
                   'secrets = { exclude = ["src/fixtures/*"] }')
    add(root, "src/pkg/mod.py", f'token = "{NEW}"\n')
    add(root, "src/fixtures/sample.py", f'aws = "{OLD}"\n')
    add(root, "elsewhere.py", f'aws = "{OLD}"\n')
    result = pytester.runpytest("--promote-to=development")
    result.assert_outcomes(passed=1, failed=2)
    result.stdout.fnmatch_lines(["*; 1 file;*", "src/pkg/mod.py:1: GitHub Token *"])
    assert "elsewhere.py" not in result.stdout.str()
    assert "sample.py" not in result.stdout.str()


def test_exclude_globs_read_as_gitignore_lines(pytester: pytest.Pytester) -> None:
    """``*`` stays inside one directory; a pattern without ``/`` matches at any depth."""
    root = project(pytester, extra='[tool.promote.gates]\nsecrets = { exclude = ["src/gen/*.py", "*.pem"] }')
    add(root, "src/gen/made.py", f'aws = "{OLD}"\n')
    add(root, "keys/deep/server.pem", f'aws = "{OLD}"\n')
    add(root, "src/gen/deep/kept.py", f'token = "{NEW}"\n')
    result = pytester.runpytest("--promote-to=development")
    result.stdout.fnmatch_lines(["src/gen/deep/kept.py:1: GitHub Token *"])
    assert "made.py" not in result.stdout.str()
    assert "server.pem" not in result.stdout.str()


def test_untracked_files_git_would_add_are_scanned_and_named_untracked(
    pytester: pytest.Pytester,
) -> None:
    """A pre-check before ``git add`` sees what the commit will hold; what git ignores,
    and what earlier promotion runs wrote, it leaves out."""
    root = project(pytester)
    add(root, ".gitignore", "ignored/\n")
    git(root, "-c", "user.name=T", "-c", "user.email=t@example.com", "commit", "-q", "-m", "first")
    pytester.runpytest("--promote-to=development", "--promote-report=report.json").assert_outcomes(passed=3)
    assert "untracked" not in report(root)["summary"]  # its own report is left out
    add(root, "creds.py", f'aws = "{OLD}"\n', track=False)
    add(root, "ignored/creds.py", f'token = "{NEW}"\n', track=False)

    result = pytester.runpytest("--promote-to=development", "--promote-report=report.json")

    result.assert_outcomes(passed=1, failed=2)
    result.stdout.fnmatch_lines([
        "*1 potential secret and no baseline*; 4 files (1 untracked)*",
        "creds.py:1: AWS Access Key potential secret (in a file git does not track yet*",
    ])
    assert "ignored/creds.py" not in result.stdout.str()


def test_outside_git_every_file_is_walked_except_environments(pytester: pytest.Pytester) -> None:
    root = project(pytester, use_git=False)
    add(root, "cfg/settings.py", f'token = "{NEW}"\n', track=False)
    add(root, "env/pyvenv.cfg", "home = /usr/bin\n", track=False)
    add(root, "env/lib/site.py", f'aws = "{OLD}"\n', track=False)
    result = pytester.runpytest("--promote-to=development")
    result.assert_outcomes(passed=1, failed=2)
    result.stdout.fnmatch_lines(["cfg/settings.py:1: GitHub Token *"])
    assert "env/lib/site.py" not in result.stdout.str()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ('[tool.promote.gates]\nsecrets = { baseline = "missing.baseline" }',
         "*the configured baseline missing.baseline does not exist*"),
        ('paths = ["nowhere"]', "*the configured path nowhere does not exist*"),
        ('paths = ["empty"]', "*no files to scan under empty (git tracks none and ignores the others)*"),
    ],
)
def test_what_cannot_be_scanned_fails_closed(
    pytester: pytest.Pytester, extra: str, message: str
) -> None:
    root = project(pytester, extra=extra)
    add(root, "empty/ignored.py", "x = 1\n", track=False)
    (root / ".git" / "info" / "exclude").write_text("empty/ignored.py\n")
    result = pytester.runpytest("--promote-to=development")
    result.assert_outcomes(passed=1, failed=2)
    result.stdout.fnmatch_lines(["secrets: cannot scan for secrets: " + message.lstrip("*")])


def test_bad_options_are_usage_errors(pytester: pytest.Pytester) -> None:
    project(pytester, extra='[tool.promote.gates]\nsecrets = { paths = ["../outside"] }')
    result = pytester.runpytest("--promote-to=development")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*`paths` = '../outside' leaves the project root; it must be a relative path inside*"])
