"""The pieces of signed records on their own: DSSE's encoding, keys, the
allowed-signers file and the trust policy's errors."""

from __future__ import annotations

import datetime
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from signing import Key, ssh_keygen

from pytest_promote.ledger.records import parse
from pytest_promote.ledger.signing import dsse, keys, statement
from pytest_promote.ledger.signing.signers import TrustProblem, absolute_time, parse_allowed_signers
from pytest_promote.policy.trust import judge


def test_pae_is_dsse_v1() -> None:
    # The DSSE protocol's own example.
    assert dsse.pae("http://example.com/HelloWorld", b"hello world") == (
        b"DSSEv1 29 http://example.com/HelloWorld 11 hello world"
    )


def test_envelope_round_trip_and_url_safe_base64(tmp_path: Path) -> None:
    key = keys.load(str(Key.generate(tmp_path / "k.pem").path))
    signed = dsse.Envelope(b"\xfb\xff{}").signed(key).signed(key)  # the same key once
    assert len(signed.signatures) == 1
    data = signed.as_dict()
    data["payload"] = data["payload"].replace("+", "-").replace("/", "_").rstrip("=")
    again = dsse.parse(data)
    assert again == signed and again.verified_by([key.public]) == [key.public]
    for bad, why in [
        ([], "an envelope is a JSON object"),
        ({"payloadType": 1, "signatures": []}, "needs payloadType"),
        ({"payloadType": "t", "signatures": ["x"], "payload": ""}, "expected {keyid, sig}"),
        ({"payloadType": "t", "signatures": [], "payload": "%%"}, "payload: not base64"),
    ]:
        with pytest.raises(ValueError, match=why):
            dsse.parse(bad)


def test_keys_from_files_and_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pem = Key.generate(tmp_path / "k.pem")
    monkeypatch.setenv("SIGNING_KEY", pem.path.read_text())
    assert keys.load("env:SIGNING_KEY").keyid == keys.load("k.pem", tmp_path).keyid == pem.keyid()
    with pytest.raises(keys.KeyProblem, match="MISSING is not set or empty"):
        keys.load("env:MISSING")
    with pytest.raises(keys.KeyProblem, match="cannot read the key file"):
        keys.load(str(tmp_path / "nothing.pem"))
    (tmp_path / "junk").write_text("hello")
    with pytest.raises(keys.KeyProblem, match="not a private key"):
        keys.load(str(tmp_path / "junk"))
    broken = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"  # pragma: allowlist secret
    (tmp_path / "broken.pem").write_text(broken)
    with pytest.raises(keys.KeyProblem, match="not a readable private key"):
        keys.load(str(tmp_path / "broken.pem"))
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    (tmp_path / "rsa.pem").write_bytes(other.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ))
    with pytest.raises(keys.KeyProblem, match="not an Ed25519 key"):
        keys.load(str(tmp_path / "rsa.pem"))


def test_an_openssh_key_and_a_passphrase(tmp_path: Path) -> None:
    private = ssh_keygen(tmp_path / "id_ed25519")
    fingerprint = subprocess.run(
        ["ssh-keygen", "-l", "-f", str(private)], capture_output=True, text=True, check=True
    ).stdout.split()[1]
    assert keys.load(str(private)).keyid == fingerprint  # as ssh-keygen names it
    subprocess.run(["ssh-keygen", "-q", "-p", "-N", "secret", "-f", str(private)],
                   check=True, capture_output=True)
    with pytest.raises(keys.KeyProblem, match="protected by a passphrase"):
        keys.load(str(private))


def test_allowed_signers_lines(tmp_path: Path) -> None:
    a, b, c = (Key.generate(tmp_path / f"{n}.pem") for n in "abc")
    text = (
        "# who may sign\n\n"
        + a.line('"alice@example.com,*@ci.example.com"')
        + f'bob@example.com namespaces="git,pytest-promote",valid-after="20200101" {b.openssh_public()} bob\n'
        + f'carol@example.com namespaces="git" {c.openssh_public()}\n'
        + f"ca@example.com cert-authority {c.openssh_public()}\n"
        + "rsa@example.com ssh-rsa AAAAB3NzaC1yc2E=\n"
    )
    signers = parse_allowed_signers(text, "allowed_signers")
    assert [s.principals for s in signers] == [
        "alice@example.com,*@ci.example.com", "bob@example.com", "carol@example.com", "ca@example.com",
        "rsa@example.com",
    ]
    assert signers[1].valid_after == absolute_time("20200101")
    assert [s.cert_authority for s in signers] == [False, False, False, True, False]
    assert signers[4].key is None  # another key type: never verifies a pytest-promote signature
    for bad, why in [
        ("alice ssh-ed25519\n", "allowed_signers:1: no key after the options 'ssh-ed25519'"),
        ("alice ssh-ed25519 !!!\n", "allowed_signers:1: not a key: '!!!'"),
        (f'alice valid-before="2020" {a.openssh_public()}\n', "expected YYYYMMDD"),
        (f'alice namespace="git" {a.openssh_public()}\n', "1: unknown option 'namespace=\"git\"'"),
        (f'alice valid_before="20300101" {a.openssh_public()}\n', "unknown option 'valid_before="),
        (f'alice namespaces=git {a.openssh_public()}\n', "must be quoted"),
    ]:
        with pytest.raises(TrustProblem, match=why):
            parse_allowed_signers(bad, "allowed_signers")


def test_judge_checks_subject_key_validity_and_principals(tmp_path: Path) -> None:
    ci = keys.load(str(Key.generate(tmp_path / "ci.pem").path))
    said = statement.approval("c0ffee", "7ree", "repo", "prod", "", "now")
    envelope = statement.envelope(said).signed(ci).as_dict()
    line = f"ci@example.com,*@bots.example.com valid-before=\"20990101\" {ci.public.openssh()}\n"
    signers = parse_allowed_signers(line, "f")
    assert judge(envelope, statement.APPROVAL, "c0ffee", "7ree", signers, ["x@bots.example.com"]).state == "trusted"
    assert "not signed by lead" in judge(envelope, statement.APPROVAL, "c0ffee", "7ree", signers, ["lead"]).reason
    assert "subject is commit" in judge(envelope, statement.APPROVAL, "beef", None, signers).reason
    assert "claims tree" in judge(envelope, statement.APPROVAL, "c0ffee", "other", signers).reason
    assert "predicateType" in judge(envelope, statement.PROMOTION, "c0ffee", None, signers).reason
    later = datetime.datetime(2100, 1, 1, tzinfo=datetime.UTC)
    assert judge(envelope, statement.APPROVAL, "c0ffee", "7ree", signers, when=later).state == "untrusted"


def test_a_record_with_a_broken_attestation_is_malformed() -> None:
    line = '{"stage": "s", "colour": "green", "accepted": true, "time": "2025-01-01T00:00:00+00:00", '
    records, bad = parse("c0ffee", line + '"attestation": {"payload": 1}}\n' + line + '"attestation": null}')
    assert [b.problem for b in bad] == [
        'attestation = {"payload": 1}: expected a DSSE envelope (payload, payloadType, signatures) or null'
    ]
    assert len(records) == 1


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ("[tool.promote.trust]\nallowed_signers = 'nowhere'\n",
         "trust.allowed_signers = 'nowhere': cannot be read"),
        ("[tool.promote.trust]\nallowed_signers = 'a'\n[tool.promote.trust.stage.stagin]\nsigners = []\n",
         "trust.stage.stagin = 'stagin': not a stage; did you mean 'staging'?"),
        ("[tool.promote.trust]\nallowed = 'a'\n", "trust.allowed = 'a': unknown key"),
    ],
)
def test_a_bad_trust_policy_is_a_usage_error(project, table: str, message: str) -> None:
    pytester = project()
    pytester.makepyprojecttoml(
        '[tool.promote]\nstages = ["development", "staging"]\nenforce_path = false\n' + table
    )
    (pytester.path / "a").write_text("")
    result = pytester.runpytest("--promote-to=development", "-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert message in result.stderr.str()
    assert "Traceback" not in result.stderr.str()


def test_a_bad_signing_key_is_a_usage_error(project) -> None:
    pytester = project()
    result = pytester.runpytest("--promote-to=development", "--promote-sign-key=env:NO_SUCH_KEY")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "--promote-sign-key: env:NO_SUCH_KEY: the environment variable NO_SUCH_KEY is not set" in result.stderr.str()
    result = pytester.runpytest("--promote-sign-key=k.pem")
    assert "--promote-sign-key needs --promote-to=STAGE" in result.stderr.str()


def test_the_stage_digest_covers_gates_modes_and_thresholds() -> None:
    from pytest_promote.cli.verify import gate_kinds
    from pytest_promote.ledger.attestation import stage_digest
    from pytest_promote.policy.loader import load

    def digest(stage: str, **production: object) -> str:
        table = {
            "stages": ["development", "production"],
            "stage": {
                "development": {"required": ["tests"], "advisory": ["coverage"], "coverage": {"min": 60}},
                "production": {"required": ["tests"], "advisory": ["coverage"], "coverage": {"min": 60},
                               **production},
            },
        }
        return stage_digest(load(table, "pyproject.toml [tool.promote]", gate_kinds()).stage(stage))

    same = digest("production")
    assert same == digest("production")  # stable: the sign job computes it again from the policy
    assert digest("production", coverage={"min": 80}) != same
    assert digest("production", required=["tests", "coverage"], advisory=[]) != same
    assert digest("production", accept="yellow") != same
