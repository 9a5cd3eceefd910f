"""Redaction hides secrets and nothing else: whatever secret a run finds or reads from
the environment, every output keeps its structure and shows none of it."""

from __future__ import annotations

import base64
import json
import re
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from signing import Key  # before any run in this process (pytester restores sys.modules)

from pytest_promote._util.redact import LONG, MASK, MIN_LENGTH, RUN, VOCABULARY, Redactor
from pytest_promote.cli.main import main

#: Passwords people put in test data.
COMMON = ("pass", "test", "admin", "root", "secret", "hunter2", "qwerty", "letmein", "1234",
          "password", "changeme", "guest", "main", "dev", "smoke")
#: Realistic token characters (no brackets: the mask is made of them).
TOKEN = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_"  # pragma: allowlist secret


def tokens(min_size: int, max_size: int) -> st.SearchStrategy[str]:
    """Random tokens with at least one letter and one digit, as passwords have."""
    return st.text(TOKEN, min_size=min_size, max_size=max_size).filter(
        lambda s: any(c.isalpha() for c in s) and any(c.isdigit() for c in s) and s[0].isalnum()
    )


def runs(secret: str) -> set[str]:
    return {secret[i:i + RUN] for i in range(len(secret) - RUN + 1)}


def whole(secret: str, text: str) -> bool:
    """Whether ``secret`` stands in ``text`` as a whole token."""
    return re.search(rf"(?<![0-9A-Za-z_]){re.escape(secret)}(?![0-9A-Za-z_])", text) is not None


def reveals(secret: str, text: str) -> bool:
    """Whether ``text`` shows ``secret`` (or a cut of it) as the redactor would mask it."""
    if len(secret) >= RUN:
        return any(r in text for r in runs(secret))
    if len(secret) >= LONG:
        return secret in text
    return whole(secret, text)


# -- the redactor alone: tool-message shapes ---------------------------------------------

SHAPES = (
    "Type \"Literal['{s}']\" is not assignable to \"int\"",
    "Type \"Literal['{cut}…']\" is not assignable",  # pyright cuts at 50 characters
    "Dictionary key literal `'{s}'` repeated",
    "connecting\npassword = \"{s}\"\nrefused",
    "token={s}&x=1",
    "prefix{s}suffix",
    "{head} and {tail}",
    "x{middle}y",
    "{s}",
)


@settings(max_examples=150, deadline=None)
@given(secret=tokens(LONG, 72), shape=st.sampled_from(SHAPES), by_environment=st.booleans(),
       around=st.text(TOKEN + " :=\n", max_size=30))
def test_no_run_of_a_long_secret_survives_any_tool_message(
    secret: str, shape: str, by_environment: bool, around: str
) -> None:
    if by_environment:
        redact = Redactor(environ={"DEPLOY_API_KEY": secret})
    else:
        redact = Redactor(environ={})
        redact.add([secret])
    third = max(RUN, len(secret) // 3)
    text = around + shape.format(
        s=secret, cut=secret[:50], head=secret[:third], tail=secret[-third:],
        middle=secret[1:-1] if len(secret) > RUN + 1 else secret,
    ) + around
    out = redact(text)
    assert MASK in out
    assert not reveals(secret, out)
    assert redact(out) == out


@settings(max_examples=100, deadline=None)
@given(secret=st.one_of(tokens(MIN_LENGTH, LONG - 1),
                        st.sampled_from([c for c in COMMON if len(c) < LONG])),
       word=st.text("abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=4))
def test_a_short_secret_is_masked_as_a_whole_token_only(secret: str, word: str) -> None:
    redact = Redactor(environ={})
    redact.add([secret])
    inside = f"{word}{secret}{word} {secret}_{word}"
    text = f"login {secret}: refused ({inside}) '{secret}'"
    out = redact(text)
    if secret.casefold() in VOCABULARY or len(secret) < MIN_LENGTH:
        assert out == text  # our own word, or too short: masked only on its own line
    else:
        assert out == f"login {MASK}: refused ({inside}) '{MASK}'"


@settings(max_examples=60, deadline=None)
@given(secret=st.one_of(st.sampled_from(sorted(VOCABULARY)), st.sampled_from(COMMON),
                        tokens(1, 40)))
def test_our_own_text_is_never_changed_by_a_word_secret(secret: str) -> None:
    ours = {"smoke", "dev", "prod"}  # the run's gate ids and stage names
    redact = Redactor(vocabulary=ours, environ={})
    redact.add([secret])
    texts = ("tests: 1 passed, 0 failed", "secrets: 1 potential secret and no baseline "
             "(0 allowed for dev)", "advisory gate smoke failed", "not run")
    for text in texts:
        if secret.casefold() in VOCABULARY | ours or not whole(secret, text):
            assert redact(text) == text


def test_a_word_secret_is_masked_where_a_finding_on_its_line_quotes_code() -> None:
    from pytest_promote.api import Finding, Secret

    redact = Redactor(environ={})
    redact.add([Secret("passed", "a.py", 3)])
    quoted = Finding("Dictionary key literal `'passed'` repeated", file="a.py", line=3, rule="F601")
    assert redact.finding(quoted).message == f"Dictionary key literal `'{MASK}'` repeated"
    elsewhere = Finding("Dictionary key literal `'passed'` repeated", file="a.py", line=4)
    assert redact.finding(elsewhere) == elsewhere
    assert redact("tests: 1 passed") == "tests: 1 passed"


# -- whole promotions: every output ----------------------------------------------------------

POLICY = """
[tool.promote]
stages = ["dev", "prod"]
enforce_path = false

[tool.promote.gates.smoke]
command = ["python", "-c", "import os; print('login', os.environ['DEPLOY_TOKEN']); raise SystemExit(1)"]

[tool.promote.stage.dev]
accept = "yellow"
required = ["tests"]
advisory = ["secrets", "smoke"]
"""

#: Each gate's id, mode and status, as the run must report them whatever the secrets.
GATES = [("tests", "required", "passed"), ("secrets", "advisory", "failed"),
         ("smoke", "advisory", "failed")]


def data_file(secrets: list[str]) -> str:
    """A test module whose data holds one URL with each password, one per line."""
    lines = [f'URL_{i} = "https://user:{s}@example.com/x"' for i, s in enumerate(secrets)]
    return "\n".join([*lines, "", "def test_urls():", "    assert URL_0.startswith('https')", ""])


def promote(pytester: pytest.Pytester, root: Path, secrets: list[str], env_secret: str,
            key: Path) -> tuple[str, dict[str, str]]:
    """Run a dev promotion of a fresh repository in ``root``; the terminal and each
    output file by name."""
    from gitrepo import run_git

    root.mkdir()
    (root / "pyproject.toml").write_text(textwrap.dedent(POLICY))
    (root / "test_data.py").write_text(data_file(secrets))
    (root / ".gitignore").write_text("out/\n.pytest_cache/\n__pycache__/\n")
    for args in (("init", "-q", "-b", "main"), ("config", "user.name", "T"),
                 ("config", "user.email", "t@e"), ("add", "-A"), ("commit", "-q", "-m", "first")):
        run_git(root, *args)
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(root)
        mp.setenv("DEPLOY_TOKEN", env_secret)
        mp.setenv("GITHUB_ACTIONS", "true")
        result = pytester.runpytest_inprocess(
            "--promote-to=dev", "--promote-report=out/r.json", "--promote-summary=out/s.md",
            "--junitxml=out/j.xml", "--promote-sarif=out/r.sarif",
            "--promote-codequality=out/cq.json", f"--promote-sign-key={key}", "-rA",
        )
    assert result.ret == 0, result.stdout.str()
    outputs = {p.name: p.read_text() for p in (root / "out").iterdir()}
    outputs["ledger"] = run_git(root, "notes", "--ref=promote", "show", "HEAD")
    outputs.update({str(p.relative_to(root)): p.read_text(errors="replace")
                    for p in (root / ".pytest_cache").rglob("*") if p.is_file()})
    return result.stdout.str() + result.stderr.str(), outputs


def statement_of(report: dict[str, Any]) -> dict[str, Any]:
    payload = report["attestation"]["payload"]
    return json.loads(base64.b64decode(payload))


def check(root: Path, terminal: str, outputs: dict[str, str], secrets: list[str],
          env_secret: str) -> list[str]:
    """Every output parses, its structure is the run's typed values, and no free text
    or finding line shows a secret; the secrets detect-secrets found (its filters drop
    some, such as ``1234``)."""
    from gitrepo import run_git

    head = run_git(root, "rev-parse", "HEAD")
    report = json.loads(outputs["r.json"])
    # Structure: the report, the statement, the ledger record, JUnit, SARIF, Code Quality.
    assert (report["stage"], report["colour"], report["accepted"], report["branch"],
            report["commit"]) == ("dev", "yellow", True, "main", head)
    assert [(g["id"], g["mode"], g["status"]) for g in report["gates"]] == GATES
    assert report["reasons"] == ["advisory gate secrets failed", "advisory gate smoke failed"]
    gates = {g["id"]: g for g in report["gates"]}
    assert gates["tests"]["measured"] == "1 passed, 0 failed"
    lines = {(f["file"], f["line"], f["rule"]) for f in gates["secrets"]["findings"]}
    assert lines <= {("test_data.py", i + 1, "Basic Auth Credentials") for i in range(len(secrets))}
    assert gates["secrets"]["measured"] == len(lines) > 0
    found = [secrets[line - 1] for _, line, _ in sorted(lines)]
    assert report["signature"].startswith("signed with SHA256:")
    statement = statement_of(report)
    assert statement["subject"][0]["digest"]["gitCommit"] == head
    predicate = statement["predicate"]
    assert (predicate["passedTests"], predicate["warnedTests"], predicate["failedTests"]) == (
        ["tests"], ["secrets", "smoke"], [])
    record = json.loads(outputs["ledger"].splitlines()[-1])
    assert (record["stage"], record["colour"], record["accepted"]) == ("dev", "yellow", True)
    assert record["gates"] == {g: s for g, _, s in GATES}
    assert record["tree"] == run_git(root, "rev-parse", "HEAD^{tree}")
    junit = ET.fromstring(outputs["j.xml"])
    props = {p.get("name"): p.get("value") for p in junit.iter("property")}
    assert {g: props[f"promote.{g}.status"] for g, _, _ in GATES} == {g: s for g, _, s in GATES}
    assert {c.get("name") for c in junit.iter("testcase")} >= {"tests", "secrets", "smoke"}
    sarif = json.loads(outputs["r.sarif"])
    located = {(loc["physicalLocation"]["artifactLocation"]["uri"],
                loc["physicalLocation"]["region"]["startLine"])
               for run in sarif["runs"] for res in run["results"] for loc in res["locations"]}
    # A gate's failure without a location stands at the policy's first line.
    assert located == {(file, line) for file, line, _ in lines} | {("pyproject.toml", 1)}
    sarif_messages = [res["message"]["text"] for run in sarif["runs"] for res in run["results"]]
    quality = json.loads(outputs["cq.json"])
    quality_messages = [q["description"] for q in quality]
    junit_text = " ".join(" ".join([e.text or "", *e.attrib.values()]) for e in junit.iter())
    assert {(q["location"]["path"], q["location"]["lines"]["begin"]) for q in quality} == located
    table = [line for line in outputs["s.md"].splitlines() if line.startswith("| ")]
    assert len({line.count("|") for line in table}) == 1
    assert [row for row in table if row.startswith(("| tests ", "| secrets ", "| smoke "))]
    shown = re.findall(r"^  (\S+) +(required|advisory) +(\S+) ", terminal, re.MULTILINE)
    assert shown == GATES
    assert main(["verify", str(root / "out" / "r.json"), "--root", str(root), "--stage", "dev"]) == 0
    # Nothing revealed: no free text holds a found secret (words of our own vocabulary
    # show anyway: they only must not show on their own line), no output holds a long
    # one, a run of one, or the environment's, and each finding quotes its line masked.
    texts = [terminal, *outputs.values(), json.dumps(predicate)]
    free = [g["summary"] for g in report["gates"]] + [
        f["message"] for g in report["gates"] for f in g["findings"]]
    for secret in found:
        ours = secret.casefold() in VOCABULARY | {"dev", "prod", "smoke"}
        if len(secret) >= LONG and not ours:
            assert not [t for t in texts if reveals(secret, t)]
        if len(secret) >= MIN_LENGTH and not ours:
            assert not [t for t in free if reveals(secret, t)], secret
    for i, secret in enumerate(secrets):
        line = f'URL_{i} = "https://user:{secret}@example.com/x"'
        assert not [t for t in texts if line in t]
        if secret not in found:
            continue
        excerpt = f'URL_{i} = "https://user:{MASK}@example.com/x"'
        finding = next(f for f in gates["secrets"]["findings"] if f["line"] == i + 1)
        assert finding["message"].endswith(excerpt)
        assert [m for m in sarif_messages if m.endswith(excerpt)]
        assert [m for m in quality_messages if m.endswith(excerpt)]
    # The summary and JUnit show the first findings of a gate (then how many more).
    first = f'URL_{secrets.index(found[0])} = "https://user:{MASK}@example.com/x"'
    assert first in outputs["s.md"] and first in junit_text
    assert not [t for t in texts if reveals(env_secret, t)]
    assert f"login {MASK}" in gates["smoke"]["summary"]
    return found


@pytest.fixture
def key(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return Key.generate(tmp_path_factory.mktemp("key") / "ci.pem").path


def test_every_word_of_our_vocabulary_as_a_secret_changes_no_structure(
    pytester: pytest.Pytester, key: Path
) -> None:
    secrets = sorted(VOCABULARY | {"dev", "prod", "smoke"} | set(COMMON))
    env_secret = "dPl0y-Tk9QzX7mW2vB4nR8"  # pragma: allowlist secret
    root = pytester.path / "words"
    terminal, outputs = promote(pytester, root, secrets, env_secret, key)
    found = check(root, terminal, outputs, secrets, env_secret)
    assert set(secrets) - set(found) <= {"1234", "no"}  # what detect-secrets' filters drop


#: A password detect-secrets always reports, so that every generated run has a finding
#: (its filters drop some generated ones, such as ``1234``, and the structure checked is
#: that of a run whose secrets gate failed).
FOUND = "hunter2"  # pragma: allowlist secret


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(more=st.lists(st.one_of(st.sampled_from(COMMON), tokens(MIN_LENGTH, 40)).filter(lambda s: s != FOUND),
                     max_size=2, unique=True),
       env_secret=tokens(LONG, 40))
# once drawn: detect-secrets reported none of it
@example(more=["1234"], env_secret="0000000A")  # pragma: allowlist secret
def test_any_found_or_environment_secret_changes_no_structure_and_shows_nowhere(
    pytester: pytest.Pytester, key: Path, more: list[str], env_secret: str
) -> None:
    secrets = [*more, FOUND]
    root = pytester.path / f"run{len(list(pytester.path.glob('run*')))}"
    terminal, outputs = promote(pytester, root, secrets, env_secret, key)
    check(root, terminal, outputs, secrets, env_secret)
