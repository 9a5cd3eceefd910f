"""Signed approvals and break-glass authorisations, recorded by the real ``approve``
command with real keys: with a trust policy only signatures count, never names."""

from __future__ import annotations

import json

import pytest
from gitrepo import Repo
from signing import Key

POLICY = """
[tool.promote]
stages = ["dev", "test", "prod"]
enforce_path = false

[tool.promote.gates]
approval = { reviewers = ["rita@example.com", "ada@example.com", "sam@example.com"] }
smoke = { command = ["false"] }

[tool.promote.stage.dev]
required = []

[tool.promote.stage.test]
required = ["approval"]

[tool.promote.stage.prod]
required = ["smoke"]

[tool.promote.trust]
allowed_signers = "allowed_signers"

[tool.promote.trust.stage.prod]
signers = ["ci@example.com"]
break_glass = ["lead@example.com"]
"""
RUN = ("--promote-only", "-p", "no:cacheprovider", "--promote-report=promote-report.json")


@pytest.fixture
def keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Key]:
    where = tmp_path_factory.mktemp("keys")
    return {name: Key.generate(where / f"{name}.pem") for name in ("ada", "rita", "lead", "mallory")}


@pytest.fixture
def repo(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, keys: dict[str, Key]) -> Repo:
    """Ada Author's commit; Ada, Rita and the lead hold keys the policy trusts."""
    repo = Repo(pytester.path, monkeypatch)
    signers = "".join(keys[n].line(f"{n}@example.com") for n in ("ada", "rita", "lead"))
    repo.commit("work", {"pyproject.toml": POLICY, "allowed_signers": signers})
    return repo


def approve(repo: Repo, *args: str) -> str:
    done = repo.approve(*args)
    assert done.returncode == 0, done.stderr
    return done.stdout


def gate(pytester: pytest.Pytester, gid: str) -> dict:
    report = json.loads((pytester.path / "promote-report.json").read_text())
    return next(g for g in report["gates"] if g["id"] == gid)


def test_only_an_approval_signed_by_a_reviewers_key_counts(
    pytester: pytest.Pytester, repo: Repo, keys: dict[str, Key]
) -> None:
    head = repo.git("rev-parse", "HEAD")[:12]
    approve(repo, "--stage", "test", "--as", "rita@example.com")  # unsigned: a name proves nothing
    approve(repo, "--stage", "test", "--as", "rita@example.com", "--key", str(keys["mallory"].path))
    approve(repo, "--stage", "test", "--as", "sam@example.com", "--key", str(keys["ada"].path))
    result = pytester.runpytest("--promote-to=test", *RUN)
    result.assert_outcomes(failed=2)
    findings = [f["message"] for f in gate(pytester, "approval")["findings"]]
    assert findings == [
        f"approval by rita@example.com on {head}: unsigned: no attestation; only signed approvals count",
        f"approval by rita@example.com on {head}: untrusted: no signature verifies with a key "
        f"of the allowed signers (signed as {keys['mallory'].keyid()}); only signed approvals count",
        f"approval by sam@example.com on {head}: signed by ada@example.com: authored the commit",
    ]

    said = approve(repo, "--stage", "test", "--key", str(keys["rita"].path))
    assert f"signed with {keys['rita'].keyid()}" in said
    result = pytester.runpytest("--promote-to=test", *RUN)
    result.assert_outcomes(passed=2)
    assert gate(pytester, "approval")["summary"] == "approval: 1/1 approvals for test (rita@example.com)"


def test_an_override_where_records_are_signed_needs_a_signed_break_glass(
    pytester: pytest.Pytester, repo: Repo, keys: dict[str, Key]
) -> None:
    override = "--promote-override=smoke@2099-01-01:smoke host down, INC-42"
    result = pytester.runpytest("--promote-to=prod", override, *RUN)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([
        "*smoke*needs a break-glass authorisation of HEAD signed by lead@example.com: "
        "pytest-promote approve --stage prod --break-glass 'smoke:REASON' --key KEY*",
    ])
    unsigned = repo.approve("--stage", "prod", "--break-glass", "smoke:host down")
    assert unsigned.returncode == 1 and "--break-glass needs --key" in unsigned.stderr

    approve(repo, "--stage", "prod", "--break-glass", "smoke:host down", "--key", str(keys["rita"].path))
    assert pytester.runpytest("--promote-to=prod", override, *RUN).ret == pytest.ExitCode.USAGE_ERROR

    said = approve(
        repo, "--stage", "prod", "--break-glass", "smoke:host down", "--key", str(keys["lead"].path)
    )
    assert "authorised the override 'smoke:host down'" in said
    approve(repo, "--stage", "prod", "--key", str(keys["rita"].path))  # prod inherits approval
    result = pytester.runpytest("--promote-to=prod", override, *RUN)
    result.assert_outcomes(passed=2, xfailed=1)
    result.stdout.fnmatch_lines([
        "override smoke (failed) by * (authorised by lead@example.com, signed) until 2099-01-01: *",
    ])
    report = json.loads((pytester.path / "promote-report.json").read_text())
    assert report["overrides"][0]["signed_by"] == "lead@example.com"
    # The lead's authorisation is no approval: Rita's alone is counted.
    assert gate(pytester, "approval")["summary"] == "approval: 1/1 approvals for prod (rita@example.com)"


def test_a_committed_override_where_records_are_signed_needs_a_signed_break_glass(
    pytester: pytest.Pytester, repo: Repo, keys: dict[str, Key]
) -> None:
    committed = '\n[[tool.promote.override]]\ngate = "smoke"\nreason = "host down"\nby = "ops"\nuntil = 2099-01-01\n'
    repo.commit("break glass", {"pyproject.toml": POLICY + committed})
    approve(repo, "--stage", "prod", "--key", str(keys["rita"].path))
    result = pytester.runpytest("--promote-to=prod", *RUN)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "pyproject.toml [tool.promote]: override[0].gate = 'smoke': an override at prod, " in result.stderr.str()

    approve(repo, "--stage", "prod", "--break-glass", "smoke:host down", "--key", str(keys["lead"].path))
    result = pytester.runpytest("--promote-to=prod", *RUN)
    result.assert_outcomes(passed=2, xfailed=1)
    report = json.loads((pytester.path / "promote-report.json").read_text())
    assert (report["overrides"][0]["origin"], report["overrides"][0]["signed_by"]) == (
        "override[0]", "lead@example.com"
    )


@pytest.mark.parametrize("patterns_may", [False, True])
def test_the_author_never_counts_whatever_pattern_names_their_key(
    pytester: pytest.Pytester, repo: Repo, keys: dict[str, Key], patterns_may: bool
) -> None:
    signers = (
        keys["ada"].line("*@example.com") + keys["mallory"].line('"*@example.com,!ada@example.com,!rita@example.com"')
        + keys["lead"].line("lead@example.com")
    )
    setting = f"\npattern_reviewers = {str(patterns_may).lower()}\n"
    policy = POLICY.replace('allowed_signers = "allowed_signers"\n', f'allowed_signers = "allowed_signers"{setting}')
    repo.commit("trust patterns", {"pyproject.toml": policy, "allowed_signers": signers})
    head = repo.git("rev-parse", "HEAD")[:12]
    approve(repo, "--stage", "test", "--as", "rita@example.com", "--key", str(keys["ada"].path))
    approve(repo, "--stage", "test", "--as", "sam@example.com", "--key", str(keys["mallory"].path))
    result = pytester.runpytest("--promote-to=test", *RUN)
    approval = gate(pytester, "approval")
    findings = [f["message"] for f in approval["findings"]]
    assert findings[0] == f"approval by rita@example.com on {head}: signed by *@example.com: authored the commit"
    if patterns_may:
        # Mallory's pattern stands for a reviewer it matches (not the author nor rita, excluded).
        result.assert_outcomes(passed=2)
        assert approval["summary"] == "approval: 1/1 approvals for test (sam@example.com)"
        assert len(findings) == 1
    else:
        result.assert_outcomes(failed=2)
        assert findings[1] == (
            f"approval by sam@example.com on {head}: signed by *@example.com,!ada@example.com,!rita@example.com: "
            "its key names "
            "no reviewer (a key listed under a pattern names nobody unless trust.pattern_reviewers = true)"
        )

    # Ada's key matches lead@example.com through its pattern: still the author's, never a break glass.
    override = "--promote-override=smoke@2099-01-01:smoke host down, INC-42"
    approve(repo, "--stage", "prod", "--break-glass", "smoke:host down", "--key", str(keys["ada"].path))
    assert pytester.runpytest("--promote-to=prod", override, *RUN).ret == pytest.ExitCode.USAGE_ERROR
