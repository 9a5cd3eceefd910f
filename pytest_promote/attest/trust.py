"""Who signed what: the allowed-signers file, and judging a signed statement by it.

The allowed-signers file (git's ``gpg.ssh.allowedSignersFile`` format) maps
principals to keys, one per line: ``principals [options] keytype key``
(``ssh-keygen(1)``, ALLOWED SIGNERS); principals may be patterns (``*@example.com``).
Only ``ssh-ed25519`` keys count; ``cert-authority`` lines and lines whose
``namespaces`` omit ``pytest-promote`` are skipped; ``valid-after``/``valid-before``
are checked against the clock when a signature is judged.
"""

from __future__ import annotations

import dataclasses
import datetime
import fnmatch
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

from pytest_promote.attest import dsse
from pytest_promote.attest.keys import KEYTYPE, KeyProblem, PublicKey
from pytest_promote.attest.statement import Statement, read

#: The namespace a line of the allowed-signers file must allow when it has ``namespaces``.
NAMESPACE = "pytest-promote"


class TrustProblem(ValueError):
    """The allowed-signers file cannot be used; the message names the file and line."""


@dataclasses.dataclass(frozen=True)
class AllowedSigner:
    """One usable line of the allowed-signers file."""

    principals: tuple[str, ...]
    key: PublicKey
    valid_after: datetime.datetime | None = None
    valid_before: datetime.datetime | None = None

    def valid(self, when: datetime.datetime) -> bool:
        """Whether the line allows signing at ``when``."""
        return (self.valid_after is None or when >= self.valid_after) and (
            self.valid_before is None or when < self.valid_before
        )


_TOKEN = re.compile(r'(?:"[^"]*"|[^\s"])+')


def read_allowed_signers(path: Path, source: str, setting: str) -> list[AllowedSigner]:
    """The usable lines of the allowed-signers file at ``path``; ``source`` and
    ``setting`` name where the policy named it, for the error."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        why = getattr(exc, "strerror", None) or exc
        raise TrustProblem(
            f"{source}: trust.allowed_signers = {setting!r}: cannot be read ({why}); "
            "name the allowed-signers file (relative to the project root)"
        ) from None
    return parse_allowed_signers(text, str(path))


def parse_allowed_signers(text: str, where: str) -> list[AllowedSigner]:
    """The usable lines of an allowed-signers file (``ssh-keygen(1)``'s format)."""
    found = []
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        tokens = _TOKEN.findall(line)
        try:
            signer = _line(tokens)
        except (ValueError, KeyProblem) as exc:
            raise TrustProblem(f"{where}:{number}: {exc}") from None
        if signer is not None:
            found.append(signer)
    return found


def _line(tokens: list[str]) -> AllowedSigner | None:
    if len(tokens) < 3:
        raise ValueError("expected: principals [options] keytype key")
    principals = tuple(p for p in tokens[0].strip('"').split(",") if p)
    options: dict[str, str] = {}
    rest = tokens[1:]
    if not _is_keytype(rest[0]):
        for option in re.findall(r'(?:"[^"]*"|[^,])+', rest[0]):
            name, _, value = option.partition("=")
            options[name.strip().lower()] = value.strip().strip('"')
        rest = rest[1:]
    if len(rest) < 2:
        raise ValueError("expected a key type and a key after the principals and options")
    if "cert-authority" in options or rest[0] != KEYTYPE:
        return None  # certificates and other key types: never trusted here
    namespaces = options.get("namespaces")
    if namespaces is not None and NAMESPACE not in [n.strip() for n in namespaces.split(",")]:
        return None
    return AllowedSigner(
        principals, PublicKey.parse(rest[0], rest[1]),
        _when(options.get("valid-after")), _when(options.get("valid-before")),
    )


def _is_keytype(token: str) -> bool:
    return token.startswith(("ssh-", "ecdsa-", "sk-", "rsa-"))


def _when(value: str | None) -> datetime.datetime | None:
    """``YYYYMMDD[HHMM[SS]][Z]`` (taken as UTC)."""
    if value is None:
        return None
    digits = value.removesuffix("Z").removesuffix("z")
    formats = {8: "%Y%m%d", 12: "%Y%m%d%H%M", 14: "%Y%m%d%H%M%S"}
    if not digits.isdigit() or len(digits) not in formats:
        raise ValueError(f"{value!r}: expected a time as YYYYMMDD[HHMM[SS]][Z]")
    return datetime.datetime.strptime(digits, formats[len(digits)]).replace(tzinfo=datetime.UTC)


@dataclasses.dataclass(frozen=True)
class Standing:
    """Whether a signed statement is trusted: ``unsigned``, ``trusted`` or
    ``untrusted`` (with why), and the principals whose keys verified it."""

    state: Literal["unsigned", "trusted", "untrusted"]
    reason: str = ""
    principals: tuple[str, ...] = ()
    statement: Statement | None = None

    def describe(self) -> str:
        """``unsigned``, ``signed by ci@example.com`` or ``untrusted: why``."""
        if self.state == "trusted":
            return "signed by " + ", ".join(self.principals)
        return self.state + (f": {self.reason}" if self.reason else "")


def judge(
    attestation: object,
    predicate_type: str,
    commit: str,
    tree: str | None,
    signers: Iterable[AllowedSigner],
    need: Sequence[str] = (),
    when: datetime.datetime | None = None,
) -> Standing:
    """Judge an envelope (its JSON form, or None) about ``commit`` (whose real tree
    is ``tree``): which allowed signers' keys verify it, and whether they are every
    principal in ``need``."""
    if attestation is None:
        return Standing("unsigned", "no attestation")
    try:
        envelope = dsse.parse(attestation)
        said = read(envelope, predicate_type)
    except ValueError as exc:
        return Standing("untrusted", f"unreadable attestation: {exc}")
    if not envelope.signatures:
        return Standing("unsigned", "", statement=said)
    if said.commit != commit:
        why = f"its subject is commit {said.commit[:12]}, not {commit[:12]}"
        return Standing("untrusted", why, statement=said)
    if tree is not None and said.tree != tree:
        why = f"its subject claims tree {said.tree[:12]}, not the commit's {tree[:12]}"
        return Standing("untrusted", why, statement=said)
    now = when or datetime.datetime.now(datetime.UTC)
    usable = [s for s in signers if s.valid(now)]
    verified = envelope.verified_by(s.key for s in usable)
    if not verified:
        ids = ", ".join(k for k, _ in envelope.signatures)
        return Standing(
            "untrusted", f"no signature verifies with a key of the allowed signers (signed as {ids})",
            statement=said,
        )
    principals = tuple(dict.fromkeys(
        p for s in usable if s.key in verified for p in s.principals
    ))
    missing = [p for p in need if not matches(principals, p)]
    if missing:
        return Standing(
            "untrusted", f"not signed by {', '.join(missing)} (signed by {', '.join(principals)})",
            principals, said,
        )
    return Standing("trusted", "", principals, said)


def matches(principals: Iterable[str], name: str) -> bool:
    """Whether ``name`` is one of ``principals`` (which may be patterns)."""
    return any(fnmatch.fnmatchcase(name.casefold(), p.casefold()) for p in principals)


def agrees(record: Mapping[str, Any], predicate: Mapping[str, Any], fields: Sequence[str]) -> str | None:
    """The first of ``fields`` on which ``record`` and its signed ``predicate``
    disagree, or None (the record's unsigned copy must say what was signed)."""
    for name in fields:
        mine, signed = record.get(name), predicate.get(name)
        if isinstance(mine, tuple):
            mine = list(mine)
        if (mine or None) != (signed or None) and mine != signed:
            return name
    return None
