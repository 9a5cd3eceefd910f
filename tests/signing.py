"""Real Ed25519 keys for the signing tests: made with the cryptography library, or
with ``ssh-keygen`` as a developer makes a git signing key."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

#: A trust policy: every stage's records must be signed by the CI's key (a later
#: stage inherits it); the lead may break glass at production.
TRUST = """
[tool.promote.trust]
allowed_signers = "allowed_signers"

[tool.promote.trust.stage.development]
signers = ["ci@example.com"]

[tool.promote.trust.stage.production]
break_glass = ["lead@example.com"]
"""


class Key:
    """An Ed25519 key pair in a PEM (PKCS#8) file, and its allowed-signers line."""

    def __init__(self, path: Path, private: ed25519.Ed25519PrivateKey) -> None:
        self.path = path
        self.private = private

    @classmethod
    def generate(cls, path: Path) -> Key:
        """A fresh key, written to ``path`` as PKCS#8 PEM."""
        private = ed25519.Ed25519PrivateKey.generate()
        path.write_bytes(private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ))
        return cls(path, private)

    def openssh_public(self) -> str:
        """``ssh-ed25519 AAAA...``."""
        return self.private.public_key().public_bytes(
            serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH,
        ).decode()

    def keyid(self) -> str:
        """The key's fingerprint, as ``ssh-keygen -l`` prints it."""
        import base64
        import hashlib

        blob = base64.b64decode(self.openssh_public().split()[1])
        return "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")

    def line(self, principals: str) -> str:
        """The allowed-signers line giving this key ``principals``."""
        return f"{principals} {self.openssh_public()}\n"


def ssh_keygen(path: Path) -> Path:
    """An OpenSSH Ed25519 private key made by ``ssh-keygen`` (skips without it)."""
    if shutil.which("ssh-keygen") is None:
        pytest.skip("ssh-keygen is not on this machine")
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "test", "-f", str(path)],
        check=True, capture_output=True,
    )
    return path


def openssh_public(private: Path) -> str:
    """The public line ``ssh-keygen`` wrote beside ``private``."""
    return " ".join(Path(f"{private}.pub").read_text().split()[:2])
