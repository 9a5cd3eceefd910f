"""DSSE, the Dead Simple Signing Envelope that in-toto attestations travel in.

An envelope is ``{"payload": base64, "payloadType": ..., "signatures": [{"keyid",
"sig"}]}``; each signature is over the pre-authentication encoding
``DSSEv1 SP len(type) SP type SP len(body) SP body``, so a signature made for one
payload type cannot be replayed as another. A ``keyid`` is only a hint: every
trusted key is tried against every signature.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from pytest_promote.ledger.signing.keys import PublicKey

#: The payload type of an in-toto statement.
PAYLOAD_TYPE = "application/vnd.in-toto+json"


class Signer(Protocol):
    """Anything that signs bytes: a key file today, a keyless (sigstore) signer later.

    ``keyid`` goes into the signature as the hint a verifier uses to find the key.
    """

    keyid: str

    def sign(self, data: bytes) -> bytes:
        """The signature of ``data``."""
        ...


def pae(payload_type: str, body: bytes) -> bytes:
    """The pre-authentication encoding of ``body`` (what a signature covers)."""
    kind = payload_type.encode("utf-8")
    return b"DSSEv1 %d %b %d %b" % (len(kind), kind, len(body), body)


@dataclasses.dataclass(frozen=True)
class Envelope:
    """A parsed envelope: the payload's bytes, its type, and (keyid, signature) pairs."""

    payload: bytes
    payload_type: str = PAYLOAD_TYPE
    signatures: tuple[tuple[str, bytes], ...] = ()

    def as_dict(self) -> dict[str, Any]:
        """The envelope's JSON form."""
        return {
            "payload": _b64(self.payload),
            "payloadType": self.payload_type,
            "signatures": [{"keyid": k, "sig": _b64(s)} for k, s in self.signatures],
        }

    def signed(self, signer: Signer) -> Envelope:
        """This envelope with ``signer``'s signature added (replacing one by the same key)."""
        signature = signer.sign(pae(self.payload_type, self.payload))
        kept = tuple((k, s) for k, s in self.signatures if k != signer.keyid)
        return dataclasses.replace(self, signatures=(*kept, (signer.keyid, signature)))

    def verified_by(self, keys: Iterable[PublicKey]) -> list[PublicKey]:
        """The keys among ``keys`` that made one of the signatures, each once."""
        data = pae(self.payload_type, self.payload)
        return [
            key for key in dict.fromkeys(keys)
            if any(key.verifies(sig, data) for _, sig in self.signatures)
        ]


def parse(data: object) -> Envelope:
    """An :class:`Envelope` from its JSON form; a ValueError says what is wrong."""
    if not isinstance(data, Mapping):
        raise ValueError("an envelope is a JSON object with payload, payloadType and signatures")
    payload_type = data.get("payloadType")
    signatures = data.get("signatures")
    if not isinstance(payload_type, str) or not isinstance(signatures, list):
        raise ValueError("an envelope needs payloadType (text) and signatures (a list)")
    pairs = []
    for entry in signatures:
        if not isinstance(entry, Mapping) or not isinstance(entry.get("keyid", ""), str):
            raise ValueError(f"signature {str(entry)[:60]}: expected {{keyid, sig}}")
        pairs.append((str(entry.get("keyid", "")), _unb64(entry.get("sig"), "sig")))
    return Envelope(_unb64(data.get("payload"), "payload"), payload_type, tuple(pairs))


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: object, what: str) -> bytes:
    """Standard or URL-safe base64, as DSSE allows either."""
    if not isinstance(text, str):
        raise ValueError(f"{what}: expected base64 text")
    try:
        alphabet = b"-_" if ("-" in text or "_" in text) else None
        return base64.b64decode(text + "=" * (-len(text) % 4), altchars=alphabet, validate=True)
    except (ValueError, binascii.Error):
        raise ValueError(f"{what}: not base64") from None
