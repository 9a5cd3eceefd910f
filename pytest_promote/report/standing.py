"""How a ledger record stands, as the status and the page show it: its signature
(unsigned, signed by whom, or untrusted and why), whether it proves its verdict, and
whether it counts as accepted (it proves, and is signed as its stage requires)."""

from __future__ import annotations

from typing import Any

from pytest_promote.ledger.attestation import describe, record_standing
from pytest_promote.ledger.records import Record
from pytest_promote.ledger.signing import dsse
from pytest_promote.ledger.signing.signers import AllowedSigner


def as_shown(
    record: Record, signers: list[AllowedSigner], need: tuple[str, ...], trusting: bool
) -> dict[str, Any]:
    """The record as the status shows it: without its envelope, with ``signature``
    (unsigned, signed by whom, or untrusted and why), ``proves`` and ``counts``
    (it proves, and is signed as the stage requires)."""
    data = record.as_dict()
    attestation = data.pop("attestation", None)
    if trusting:
        standing = record_standing(record.as_dict(), signers, need)
        signature = standing.describe()
        trusted = standing.state == "trusted"
    else:
        try:
            signature = describe(dsse.parse(attestation) if attestation else None)
        except ValueError:
            signature = "untrusted: unreadable attestation"
        trusted = False
    counts = record.proves and (trusted or not need)
    return {**data, "signature": signature, "proves": record.proves, "counts": counts}
