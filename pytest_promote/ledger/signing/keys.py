"""Ed25519 keys: private keys to sign with (PKCS#8 PEM or OpenSSH, from a file or an
environment variable), public keys to verify with (OpenSSH's one-line form, as git's
allowed-signers file holds them), and their fingerprints (``SHA256:...``, as
``ssh-keygen -l`` prints them), which name the key in a DSSE signature's ``keyid``.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import os
from pathlib import Path
from typing import Any

#: The extra that installs the crypto library.
EXTRA = 'pip install "pytest-promote[sign]"'
#: The only key type pytest-promote signs and verifies with.
KEYTYPE = "ssh-ed25519"


class KeyProblem(ValueError):
    """A key that cannot be used; the message says which and why."""


def crypto() -> Any:
    """The ``cryptography`` modules signing needs; a :class:`KeyProblem` naming the
    extra when the library is not installed."""
    try:
        from cryptography import exceptions
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import ed25519
    except ImportError:
        raise KeyProblem(
            f"signing and verifying need the cryptography library: {EXTRA}"
        ) from None
    return exceptions, serialization, ed25519


def fingerprint(blob: bytes) -> str:
    """``SHA256:<base64>`` of an OpenSSH public key blob (``ssh-keygen -l``'s form)."""
    return "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")


@dataclasses.dataclass(frozen=True)
class PublicKey:
    """An Ed25519 public key as OpenSSH writes it: ``ssh-ed25519 <base64 blob>``."""

    blob: bytes

    @classmethod
    def parse(cls, keytype: str, text: str) -> PublicKey:
        """From the two fields of an OpenSSH public key line."""
        if keytype != KEYTYPE:
            raise KeyProblem(f"{keytype}: only {KEYTYPE} keys are supported")
        try:
            blob = base64.b64decode(text, validate=True)
        except ValueError:
            raise KeyProblem(f"{text[:20]}...: not base64") from None
        key = cls(blob)
        key.crypto_key()  # a malformed key is an error now, not at verification
        return key

    @property
    def keyid(self) -> str:
        """The fingerprint, ``SHA256:...``."""
        return fingerprint(self.blob)

    def openssh(self) -> str:
        """``ssh-ed25519 AAAA...``, a line for an allowed-signers file."""
        return f"{KEYTYPE} {base64.b64encode(self.blob).decode()}"

    def crypto_key(self) -> Any:
        """The key as the crypto library's Ed25519 public key."""
        _, serialization, ed25519 = crypto()
        try:
            key = serialization.load_ssh_public_key(self.openssh().encode())
        except (ValueError, TypeError) as exc:
            raise KeyProblem(f"not a valid {KEYTYPE} key ({exc})") from None
        if not isinstance(key, ed25519.Ed25519PublicKey):
            raise KeyProblem(f"not an {KEYTYPE} key")
        return key

    def verifies(self, signature: bytes, data: bytes) -> bool:
        """Whether ``signature`` is this key's signature of ``data``."""
        exceptions, _, _ = crypto()
        try:
            self.crypto_key().verify(signature, data)
        except exceptions.InvalidSignature:
            return False
        return True


class SigningKey:
    """An Ed25519 private key that signs; ``keyid`` names its public key."""

    def __init__(self, private: Any, source: str) -> None:
        _, serialization, _ = crypto()
        self._private = private
        self.source = source
        line = private.public_key().public_bytes(
            serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
        ).decode()
        self.public = PublicKey.parse(*line.split()[:2])
        self.keyid = self.public.keyid

    def sign(self, data: bytes) -> bytes:
        """The Ed25519 signature of ``data``."""
        return self._private.sign(data)


#: The prefix of a key argument that names an environment variable holding the key.
ENV_PREFIX = "env:"


def load(spec: str, root: Path | None = None) -> SigningKey:
    """The signing key ``spec`` names: a file path (relative to ``root``), or
    ``env:NAME`` for an environment variable holding the key itself (PEM or OpenSSH
    text, as CI secrets are). A :class:`KeyProblem` says what is wrong."""
    if spec.startswith(ENV_PREFIX):
        name = spec[len(ENV_PREFIX):]
        text = os.environ.get(name)
        if not name or not text:
            raise KeyProblem(f"{spec}: the environment variable {name or '(none)'} is not set or empty")
        return parse(text.encode(), f"${name}")
    path = Path(spec).expanduser()
    if root is not None and not path.is_absolute():
        path = root / path
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise KeyProblem(f"{spec}: cannot read the key file ({exc.strerror or exc})") from None
    return parse(data, spec)


def parse(data: bytes, source: str) -> SigningKey:
    """A signing key from PKCS#8 PEM or OpenSSH's own format (what ``ssh-keygen -t
    ed25519`` writes)."""
    _, serialization, ed25519 = crypto()
    text = data.strip()
    try:
        if text.startswith(b"-----BEGIN OPENSSH PRIVATE KEY-----"):  # pragma: allowlist secret
            private = serialization.load_ssh_private_key(text, password=None)
        elif text.startswith(b"-----BEGIN"):
            private = serialization.load_pem_private_key(text, password=None)
        else:
            raise KeyProblem(
                f"{source}: not a private key (expected PEM or OpenSSH text, "
                "e.g. from ssh-keygen -t ed25519)"
            )
    except TypeError:  # the key is encrypted
        raise KeyProblem(
            f"{source}: the key is protected by a passphrase; give a key without one "
            "(a CI secret), or decrypt a copy: ssh-keygen -p -N '' -f COPY"
        ) from None
    except ValueError as exc:
        if isinstance(exc, KeyProblem):
            raise
        raise KeyProblem(f"{source}: not a readable private key ({exc})") from None
    if not isinstance(private, ed25519.Ed25519PrivateKey):
        raise KeyProblem(
            f"{source}: not an Ed25519 key; pytest-promote signs with Ed25519 keys "
            "(ssh-keygen -t ed25519)"
        )
    return SigningKey(private, source)
