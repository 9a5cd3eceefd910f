"""Signed promotion records: real Ed25519 keys, real git repositories, and the
commands as a user runs them (a promotion, ``sign``, ``verify``, ``approve``)."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import cli
import pytest
from gitrepo import NO_CACHE, THREE_STAGES
from signing import TRUST, Key, openssh_public, ssh_keygen

from pytest_promote.cli.main import main
from pytest_promote.ledger.signing import dsse
from pytest_promote.ledger.signing.statement import PROMOTION, STATEMENT_TYPE

pytestmark = pytest.mark.supported_range

POLICY = THREE_STAGES + TRUST


@pytest.fixture
def keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Key]:
    """Keys kept outside the repository: the CI's, the lead's, a reviewer's, a stranger's."""
    where = tmp_path_factory.mktemp("keys")
    return {name: Key.generate(where / f"{name}.pem") for name in ("ci", "lead", "rita", "mallory")}


@pytest.fixture
def trusted(git_project, git, keys):
    """A repository whose policy requires the CI's signature at every stage."""
    pytester = git_project(POLICY)
    (pytester.path / "allowed_signers").write_text(
        keys["ci"].line("ci@example.com") + keys["lead"].line("lead@example.com")
        + keys["rita"].line("rita@example.com")
    )
    git("add", "allowed_signers")
    git("commit", "-q", "-m", "trust the CI key")
    return pytester


def promote(pytester: pytest.Pytester, stage: str, *args: str) -> pytest.RunResult:
    return pytester.runpytest(f"--promote-to={stage}", "--promote-report=r.json", *NO_CACHE, *args)


def report(pytester: pytest.Pytester) -> dict:
    return json.loads((pytester.path / "r.json").read_text())


def path_gate(pytester: pytest.Pytester) -> dict:
    return next(g for g in report(pytester)["gates"] if g["id"] == "path")


def payload(envelope: dict) -> dict:
    return json.loads(base64.b64decode(envelope["payload"]))


def verify(pytester: pytest.Pytester, path: Path, stage: str) -> int:
    return main(["verify", str(path), "--stage", stage, "--root", str(pytester.path)])


def sign(pytester: pytest.Pytester, path: Path, stage: str, key: Key) -> int:
    return main(["sign", str(path), "--stage", stage, "--key", str(key.path), "--root", str(pytester.path)])


def test_a_signed_chain_development_staging_production(trusted, git, keys, capsys) -> None:
    ci = f"--promote-sign-key={keys['ci'].path}"
    result = promote(trusted, "development", ci)
    assert result.ret == 0
    head, tree = git("rev-parse", "HEAD"), git("rev-parse", "HEAD^{tree}")
    result.stdout.fnmatch_lines([f"ledger: recorded development GREEN on {head[:12]} *, signed with SHA256:*"])
    data = report(trusted)
    statement = payload(data["attestation"])
    assert statement["_type"] == STATEMENT_TYPE and statement["predicateType"] == PROMOTION
    assert statement["subject"][0]["digest"] == {"gitCommit": head, "gitTree": tree}
    predicate = statement["predicate"]
    assert (predicate["result"], predicate["passedTests"], predicate["failedTests"]) == ("PASSED", ["tests"], [])
    assert (predicate["stage"], predicate["accepted"], predicate["dirty"]) == ("development", True, [])
    assert predicate["policy"]["digest"].startswith("sha256:") and "pytest" in predicate["tools"]
    keyid = data["attestation"]["signatures"][0]["keyid"]
    assert keyid.startswith("SHA256:") and data["signature"] == f"signed with {keyid}"
    note = json.loads(git("notes", "--ref=refs/notes/promote", "show", "HEAD"))
    assert note["attestation"] == data["attestation"]

    assert promote(trusted, "staging", ci).ret == 0
    assert "signed by ci@example.com" in path_gate(trusted)["summary"]
    assert promote(trusted, "production", ci).ret == 0
    assert verify(trusted, trusted.path / "r.json", "production") == 0
    assert "accepted, signed by ci@example.com" in capsys.readouterr().out

    status = json.loads(trusted.runpytest("--promote-status", "--promote-json", *NO_CACHE).stdout.str())
    assert [s["head"] for s in status["stages"]] == ["accepted"] * 3
    assert status["stages"][2]["last_accepted"]["signature"] == "signed by ci@example.com"


def test_a_forged_note_and_an_unsigned_run_never_count(trusted, git, keys) -> None:
    head = git("rev-parse", "HEAD")
    forged = {"stage": "development", "colour": "green", "accepted": True, "time": "2025-06-01T00:00:00+00:00"}
    git("notes", "--ref=refs/notes/promote", "add", "-m", json.dumps(forged), head)
    assert promote(trusted, "development").ret == 0  # unsigned: recorded, never trusted

    result = promote(trusted, "staging", f"--promote-sign-key={keys['ci'].path}")
    assert result.ret == 1
    result.stdout.fnmatch_lines([
        "*path: HEAD * has no accepted development record, required before staging*",
    ])
    findings = [f["message"] for f in path_gate(trusted)["findings"]]
    assert findings[0] == (
        f"development recorded green on {head[:12]} at 2025-06-01T00:00:00+00:00: unsigned: no attestation"
    )
    assert findings[1].startswith(f"development recorded GREEN on {head[:12]} at ")
    assert findings[1].endswith(": unsigned")
    status = trusted.runpytest("--promote-status", *NO_CACHE)
    status.stdout.fnmatch_lines(["development  - * failed (unsigned*"])


def test_hardened_layout_signs_in_a_separate_step(trusted, git, keys, capsys) -> None:
    assert promote(trusted, "development", "--promote-no-ledger").ret == 0
    assert report(trusted)["signature"] == "unsigned"
    rejected = verify(trusted, trusted.path / "r.json", "development")
    assert rejected == 1
    assert "development requires a signature by ci@example.com; it is unsigned" in capsys.readouterr().err

    signed = cli.run(trusted.path, "sign", "r.json", "--stage", "development", "--key", "env:CI_KEY",
                     env={"CI_KEY": keys["ci"].path.read_text()})
    assert signed.returncode == 0, signed.stderr
    assert "; recorded development GREEN on" in signed.stdout
    assert verify(trusted, trusted.path / "r.json", "development") == 0
    assert promote(trusted, "staging").ret == 0  # the signed record counts


def test_a_report_resigned_with_an_untrusted_key_or_edited_is_rejected(trusted, keys, capsys) -> None:
    assert promote(trusted, "development", "--promote-no-ledger").ret == 0
    path = trusted.path / "r.json"
    assert sign(trusted, path, "development", keys["mallory"]) == 0
    assert verify(trusted, path, "development") == 1
    assert "untrusted: no signature verifies with a key of the allowed signers" in capsys.readouterr().err
    assert promote(trusted, "staging").ret == 1  # mallory's record does not count

    assert promote(trusted, "development", f"--promote-sign-key={keys['ci'].path}", "--promote-no-ledger").ret == 0
    data = report(trusted)
    envelope = data["attestation"]
    statement = payload(envelope)
    statement["predicate"]["passedTests"].append("security-review")
    edited = {**envelope, "payload": base64.b64encode(json.dumps(statement).encode()).decode()}
    (trusted.path / "edited.json").write_text(json.dumps(edited))
    assert verify(trusted, trusted.path / "edited.json", "development") == 1
    assert "no signature verifies" in capsys.readouterr().err

    from pytest_promote.report.json_report import digest

    data["verdict"] = "GREEN (reviewed)"
    data["digest"] = digest(data)
    path.write_text(json.dumps(data))
    assert verify(trusted, path, "development") == 1
    assert "its 'verdict' differs from what its attestation says" in capsys.readouterr().err


def test_sign_refuses_another_commit_and_a_changed_report(trusted, git, keys, capsys) -> None:
    assert promote(trusted, "development", "--promote-no-ledger").ret == 0
    path = str(trusted.path / "r.json")
    key = str(keys["ci"].path)
    git("commit", "-q", "--allow-empty", "-m", "later")
    assert main(["sign", path, "--stage", "development", "--key", key, "--root", str(trusted.path)]) == 1
    assert "only the checked-out commit's verdict is signed here" in capsys.readouterr().err
    data = report(trusted)
    data["accepted"] = False
    Path(path).write_text(json.dumps(data))
    signing = ["sign", path, "--stage", "development", "--key", key, "--root", str(trusted.path)]
    assert main([*signing, "--commit", "HEAD~1"]) == 1
    assert "digest" in capsys.readouterr().err


def test_an_openssh_key_from_ssh_keygen_signs(git_project, git, tmp_path: Path, capsys) -> None:
    private = ssh_keygen(tmp_path / "id_ed25519")
    pytester = git_project(POLICY)
    (pytester.path / "allowed_signers").write_text(
        f'ci@example.com namespaces="git,pytest-promote" {openssh_public(private)} ci\n'
    )
    git("add", "allowed_signers")
    git("commit", "-q", "-m", "trust")
    assert promote(pytester, "development", f"--promote-sign-key={private}").ret == 0
    assert verify(pytester, pytester.path / "r.json", "development") == 0
    assert "signed by ci@example.com" in capsys.readouterr().out
    # A line that allows the key for git's commits only does not trust it here.
    (pytester.path / "allowed_signers").write_text(f'ci@example.com namespaces="git" {openssh_public(private)}\n')
    assert verify(pytester, pytester.path / "r.json", "development") == 1


def test_zero_config_is_unsigned_and_says_so(git_project, git, capsys) -> None:
    pytester = git_project(THREE_STAGES)
    result = promote(pytester, "development", "--promote-summary=.pytest_cache/s.md", "--junitxml=j.xml")
    assert result.ret == 0
    assert '<property name="promote.signature" value="unsigned" />' in (pytester.path / "j.xml").read_text()
    result.stdout.fnmatch_lines(["attestation: unsigned*", "ledger: recorded development GREEN on *, unsigned"])
    assert report(pytester)["signature"] == "unsigned"
    assert "Attestation: unsigned" in (pytester.path / ".pytest_cache" / "s.md").read_text()
    assert verify(pytester, pytester.path / "r.json", "development") == 0
    assert capsys.readouterr().out.rstrip().endswith("accepted, unsigned")
    assert promote(pytester, "staging").ret == 0


def test_our_envelope_verifies_with_securesystemslib(git_project, keys, capsys) -> None:
    from securesystemslib.dsse import Envelope
    from securesystemslib.signer import SSlibKey

    pytester = git_project(THREE_STAGES)
    assert promote(pytester, "development", f"--promote-sign-key={keys['ci'].path}").ret == 0
    envelope = report(pytester)["attestation"]
    public = SSlibKey.from_crypto(keys["ci"].private.public_key(), keyid=envelope["signatures"][0]["keyid"])
    theirs = Envelope.from_dict(json.loads(json.dumps(envelope)))
    assert public.keyid in theirs.verify([public], 1)
    assert json.loads(theirs.payload)["predicate"]["stage"] == "development"
    stranger = SSlibKey.from_crypto(keys["mallory"].private.public_key(), keyid=public.keyid)
    with pytest.raises(Exception, match="threshold"):
        theirs.verify([stranger], 1)
    # Without a trust policy, verify cannot check a signature, and says so.
    assert verify(pytester, pytester.path / "r.json", "development") == 0
    out = capsys.readouterr().out
    assert out.rstrip().endswith(f"signed with {public.keyid}, not verified: no [tool.promote.trust]")


def test_an_envelope_signed_by_securesystemslib_verifies_here(trusted, keys, capsys) -> None:
    from securesystemslib.dsse import Envelope
    from securesystemslib.signer import CryptoSigner

    assert promote(trusted, "development", "--promote-no-ledger").ret == 0
    statement = payload(report(trusted)["attestation"])
    theirs = Envelope(json.dumps(statement).encode(), dsse.PAYLOAD_TYPE, {})
    theirs.sign(CryptoSigner(keys["ci"].private))  # securesystemslib's own keyid
    (trusted.path / "attestation.json").write_text(json.dumps(theirs.to_dict()))
    assert verify(trusted, trusted.path / "attestation.json", "development") == 0
    assert "signed by ci@example.com" in capsys.readouterr().out
    rogue = Envelope(json.dumps(statement).encode(), dsse.PAYLOAD_TYPE, {})
    rogue.sign(CryptoSigner(keys["mallory"].private))
    (trusted.path / "attestation.json").write_text(json.dumps(rogue.to_dict()))
    assert verify(trusted, trusted.path / "attestation.json", "development") == 1


def test_a_plugin_signs_through_the_signers_hook(git_project, git) -> None:
    """A keyless backend would plug in here; this one signs with a fixed key."""
    pytester = git_project(THREE_STAGES)
    pytester.makeconftest("""
        from cryptography.hazmat.primitives.asymmetric import ed25519

        class Signer:
            keyid = "plugin-key"
            key = ed25519.Ed25519PrivateKey.generate()

            def sign(self, data):
                return self.key.sign(data)

        def pytest_promote_signers(config):
            return [Signer()]
    """)
    git("add", "conftest.py")
    git("commit", "-q", "-m", "a signer plugin")
    assert promote(pytester, "development", "--promote-no-ledger").ret == 0
    data = report(pytester)
    assert data["signature"] == "signed with plugin-key"
    envelope = dsse.parse(data["attestation"])
    assert envelope.signatures[0][0] == "plugin-key" and len(envelope.signatures[0][1]) == 64


RATCHET = """
[tool.ruff.lint]
select = ["F"]

[tool.promote]
stages = ["development", "staging"]
paths = ["pkg"]
enforce_path = false

[tool.promote.stage.development]
required = ["tests", "lint"]
lint = { ratchet = true }

[tool.promote.trust]
allowed_signers = "allowed_signers"

[tool.promote.trust.stage.development]
signers = ["ci@example.com"]
"""


def test_the_ratchet_holds_a_run_only_to_signed_records(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, keys
) -> None:
    from gitrepo import Repo

    repo = Repo(pytester.path, monkeypatch)
    first = repo.commit("two findings", {
        "pyproject.toml": RATCHET, "allowed_signers": keys["ci"].line("ci@example.com"),
        "pkg/__init__.py": "", "pkg/mod.py": "import os\nimport sys\n",
        "test_it.py": "def test_it():\n    assert True\n",
    })
    assert promote(pytester, "development").ret == 0  # unsigned: sets no line
    repo.commit("a third", {"pkg/mod.py": "import os\nimport sys\nimport json\n"})
    assert promote(pytester, "development").ret == 0
    assert "nothing to hold to" in next(g for g in report(pytester)["gates"] if g["id"] == "lint")["summary"]

    repo.git("checkout", "-q", first)
    assert promote(pytester, "development", f"--promote-sign-key={keys['ci'].path}").ret == 0
    repo.git("checkout", "-q", "main")
    assert promote(pytester, "development").ret == 1
    lint = next(g for g in report(pytester)["gates"] if g["id"] == "lint")
    assert (lint["measured"], lint["threshold"]) == (3, "<= 2 (ratchet)")
    assert f"the ratchet from {first[:12]}" in lint["summary"]


def relabel(pytester: pytest.Pytester, stage: str) -> Path:
    """The report made as a forger would: its stage and its statement's stage set to
    ``stage`` (still unsigned), the digest recomputed."""
    from pytest_promote.report.json_report import digest

    data = report(pytester)
    statement = payload(data["attestation"])
    statement["predicate"]["stage"] = data["stage"] = stage
    data["attestation"]["payload"] = base64.b64encode(json.dumps(statement).encode()).decode()
    data["digest"] = digest(data)
    path = pytester.path / "relabelled.json"
    path.write_text(json.dumps(data))
    return path


def test_sign_signs_only_the_stage_it_was_told_as_the_committed_policy_asks(trusted, git, keys, capsys) -> None:
    assert promote(trusted, "development", "--promote-no-ledger").ret == 0
    path = trusted.path / "r.json"
    assert sign(trusted, path, "production", keys["ci"]) == 1
    assert "it is a verdict for stage 'development'; this job signs 'production' only" in capsys.readouterr().err

    relabelled = relabel(trusted, "production")
    assert sign(trusted, relabelled, "development", keys["ci"]) == 1
    assert "it is a verdict for stage 'production'; this job signs 'development' only" in capsys.readouterr().err
    assert sign(trusted, relabelled, "production", keys["ci"]) == 1
    assert "its gates are not judged as pyproject.toml [tool.promote] asks of production (other gates, modes or " \
        "thresholds: a verdict of another stage relabelled?)" in capsys.readouterr().err

    pyproject = trusted.path / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + "\n# moved\n")
    assert sign(trusted, path, "development", keys["ci"]) == 1
    assert "the policy file pyproject.toml is not the commit's" in capsys.readouterr().err
    git("checkout", "-q", "pyproject.toml")
    relabelled.unlink()
    assert promote(trusted, "development", "--promote-no-ledger").ret == 0
    assert sign(trusted, path, "development", keys["ci"]) == 0
    assert verify(trusted, path, "development") == 0, capsys.readouterr().err


@pytest.mark.parametrize(
    ("field", "edit"),
    [
        ("gates[tests].measured", lambda g: g.update(measured=100)),
        ("gates[tests].threshold", lambda g: g.update(threshold=0)),
        ("gates[tests].summary", lambda g: g.update(summary="all good")),
        ("gates[tests].findings", lambda g: g["findings"].append({"message": "nothing to see"})),
        ("gates[tests].duration", lambda g: g.update(duration=0.5)),
        ("gates[tests].note", lambda g: g.update(note="reviewed by the lead")),
    ],
)
def test_all_a_signed_report_shows_is_signed(trusted, keys, capsys, field, edit) -> None:
    from pytest_promote.report.json_report import digest

    assert promote(trusted, "development", f"--promote-sign-key={keys['ci'].path}", "--promote-no-ledger").ret == 0
    path = trusted.path / "r.json"
    assert verify(trusted, path, "development") == 0
    signed = report(trusted)
    for name, change in [
        (field, lambda data: edit(next(g for g in data["gates"] if g["id"] == "tests"))),
        ("reasons", lambda data: data["reasons"].append("approved")),
        ("branch", lambda data: data.update(branch="release")),
        ("shards", lambda data: data.update(shards={"count": 2})),
        ("policy", lambda data: data.update(policy="elsewhere")),
        ("extra (not in what was signed)", lambda data: data.update(extra=1)),
        ("signature", lambda data: data.update(signature="signed with SHA256:someone")),
    ]:
        data = json.loads(json.dumps(signed))
        change(data)
        data["digest"] = digest(data)
        path.write_text(json.dumps(data))
        assert verify(trusted, path, "development") == 1
        assert f"its {name!r} differs from what its attestation says" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("field", "edit"),
    [("headline", {"headline": "GREEN (reviewed)"}), ("gates", {"gates": {"tests": "passed", "security": "passed"}})],
)
def test_a_signed_ledger_record_shows_only_what_was_signed(trusted, git, keys, field, edit) -> None:
    assert promote(trusted, "development", f"--promote-sign-key={keys['ci'].path}").ret == 0
    note = json.loads(git("notes", "--ref=refs/notes/promote", "show", "HEAD"))
    git("notes", "--ref=refs/notes/promote", "add", "-f", "-m", json.dumps({**note, **edit}), "HEAD")
    status = json.loads(trusted.runpytest("--promote-status", "--promote-json", *NO_CACHE).stdout.str())
    development = status["stages"][0]
    assert development["head"] != "accepted"
    assert json.dumps(development).count(f"untrusted: its {field} differs from what was signed") >= 1
