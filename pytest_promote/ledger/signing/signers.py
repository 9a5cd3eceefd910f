"""The allowed-signers file, read as ``ssh-keygen -Y verify`` reads it (``ssh-keygen(1)``,
ALLOWED SIGNERS): one line per key, ``principals [options] keytype key [comment]``.

- principals: an OpenSSH pattern-list (``*``, ``?``, ``!negation``, commas), quoted
  when it holds spaces;
- options, comma-separated, names case-insensitive: ``cert-authority``,
  ``namespaces="pattern-list"``, ``valid-after="time"``, ``valid-before="time"``
  (``YYYYMMDD[HHMM[SS]]``, local time, or UTC with a ``Z``/``UTC`` suffix).

A line grants a signature by key K for principal P in namespace N at time T exactly
when OpenSSH's ``check_allowed_keys_line`` would: P matches the principals, the line
is no ``cert-authority`` and its key is K, N matches its ``namespaces`` (if any), and
``valid-after <= T <= valid-before``. ``ssh-keygen`` logs a malformed line and skips
it; here every malformed line is an error naming the file, the line and what is
wrong (an unknown option, a missing quote...), so a typo never passes unnoticed.
"""

from __future__ import annotations

import base64
import binascii
import calendar
import dataclasses
import datetime
import time
from pathlib import Path

from pytest_promote.ledger.signing.keys import KEYTYPE, KeyProblem, PublicKey
from pytest_promote.ledger.signing.patterns import match_pattern_list

WHITESPACE = " \t\r\n"
#: The key types ``sshkey_read`` knows (plain and certificates); others are not keys.
KEY_TYPES = frozenset({
    "ssh-ed25519", "ssh-rsa", "ssh-dss", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521", "sk-ecdsa-sha2-nistp256@openssh.com", "sk-ssh-ed25519@openssh.com",
    "ssh-ed25519-cert-v01@openssh.com", "ssh-rsa-cert-v01@openssh.com", "ssh-dss-cert-v01@openssh.com",
    "ecdsa-sha2-nistp256-cert-v01@openssh.com", "ecdsa-sha2-nistp384-cert-v01@openssh.com",
    "ecdsa-sha2-nistp521-cert-v01@openssh.com", "sk-ecdsa-sha2-nistp256-cert-v01@openssh.com",
    "sk-ssh-ed25519-cert-v01@openssh.com", "ssh-xmss@openssh.com", "ssh-xmss-cert-v01@openssh.com",
})


class TrustProblem(ValueError):
    """The allowed-signers file cannot be used; the message names the file and line."""


@dataclasses.dataclass(frozen=True)
class AllowedSigner:
    """One line of the allowed-signers file. ``key`` is None for a key of another type
    than ``ssh-ed25519`` (such a line never verifies a pytest-promote signature)."""

    principals: str
    key: PublicKey | None
    cert_authority: bool = False
    namespaces: str | None = None
    valid_after: int | None = None
    valid_before: int | None = None
    line: int = 0

    def usable(self, namespace: str, when: int) -> bool:
        """Whether a plain key of this line signs in ``namespace`` at ``when`` (seconds)."""
        return (
            not self.cert_authority and self.key is not None
            and (self.namespaces is None or match_pattern_list(namespace, self.namespaces) == 1)
            and (self.valid_after is None or when >= self.valid_after)
            and (self.valid_before is None or when <= self.valid_before)
        )

    def names(self, principal: str) -> bool:
        """Whether ``principal`` matches this line's principals (OpenSSH's decision)."""
        return match_pattern_list(principal, self.principals) == 1

    def grants(self, key: PublicKey, principal: str, namespace: str, when: int) -> bool:
        """Whether ``ssh-keygen -Y verify -I principal -n namespace`` accepts ``key`` by this line."""
        return self.key == key and self.names(principal) and self.usable(namespace, when)


def read_allowed_signers(path: Path, source: str, setting: str) -> list[AllowedSigner]:
    """The lines of the allowed-signers file at ``path``; ``source`` and ``setting``
    name where the policy named it, for the error."""
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
    """Every line of an allowed-signers file; a :class:`TrustProblem` for the first bad one."""
    found, problems = parse_lines(text)
    if problems:
        number, why = problems[0]
        raise TrustProblem(f"{where}:{number}: {why} (see ssh-keygen(1), ALLOWED SIGNERS)")
    return found


def parse_lines(text: str) -> tuple[list[AllowedSigner], list[tuple[int, str]]]:
    """The good lines and, for each bad one, its number and what is wrong."""
    found: list[AllowedSigner] = []
    problems: list[tuple[int, str]] = []
    for number, line in enumerate(text.split("\n"), 1):
        body = line.lstrip(" \t")
        if not body.strip(WHITESPACE) or body.startswith("#"):
            continue
        try:
            found.append(_line(body, number))
        except ValueError as exc:
            problems.append((number, str(exc)))
    return found, problems


def _line(line: str, number: int) -> AllowedSigner:
    principals, rest = _delimit(line)
    if principals is None:
        raise ValueError("the principals' quote is not closed")
    if rest is None:
        raise ValueError("expected: principals [options] keytype key")
    options = ""
    is_key, key = _key(rest)
    if not is_key:
        end = _past_options(rest)
        options, rest = rest[:end], rest[end + 1:].lstrip(" \t")
        if not rest:
            raise ValueError(f"no key after the options {options!r}")
        is_key, key = _key(rest)
        if not is_key:
            raise ValueError(f"not a key: {rest.split()[0][:40]!r}")
    return AllowedSigner(principals, key, *_options(options), line=number)


def _delimit(text: str) -> tuple[str | None, str | None]:
    """The first word (a quoted run counts as one) and the rest (``strdelimw``)."""
    at = next((i for i, c in enumerate(text) if c in WHITESPACE + '"'), None)
    if at is None:
        return text, None
    if text[at] == '"':
        text = text[:at] + text[at + 1:]
        close = text.find('"', at)
        if close < 0:
            return None, None
        return text[:close], text[close + 1:].lstrip(WHITESPACE)
    return text[:at], text[at + 1:].lstrip(WHITESPACE)


def _key(text: str) -> tuple[bool, PublicKey | None]:
    """Whether ``text`` starts with a key (``sshkey_read``), and that key (None: a
    valid key of another type)."""
    keytype, _, rest = text.replace("\t", " ").partition(" ")
    blob_text = rest.lstrip(" ").split(" ")[0].strip(WHITESPACE)
    if keytype not in KEY_TYPES or not blob_text:
        return False, None
    try:
        blob = base64.b64decode(blob_text, validate=True)
    except (binascii.Error, ValueError):
        return False, None
    named = blob[4:4 + int.from_bytes(blob[:4], "big")] if len(blob) >= 4 else b""
    if named != keytype.encode():
        return False, None
    if keytype != KEYTYPE:
        return True, None
    try:
        return True, PublicKey.parse(keytype, blob_text)
    except KeyProblem:
        return False, None


def _past_options(text: str) -> int:
    """Where the options end: the first space or tab outside quotes (``sshkey_advance_past_options``)."""
    quoted = False
    i = 0
    while i < len(text) and (quoted or text[i] not in " \t"):
        if text[i] == "\\" and text[i + 1:i + 2] == '"':
            i += 1
        elif text[i] == '"':
            quoted = not quoted
        i += 1
    if quoted:
        raise ValueError(f"a quote in the options {text[:40]!r} is not closed")
    return i


def _options(text: str) -> tuple[bool, str | None, int | None, int | None]:
    """``cert-authority``, ``namespaces``, ``valid-after``, ``valid-before`` (``sshsigopt_parse``)."""
    ca, namespaces, after, before = False, None, None, None
    i = 0
    while i < len(text) and text[i] not in " \t":
        start = i
        if _ascii_lower(text[i:i + 14]) == "cert-authority":
            ca, i = True, i + 14
        else:
            name = next((n for n in ("namespaces", "valid-after", "valid-before")
                         if _ascii_lower(text[i:i + len(n) + 1]) == n + "="), None)
            if name is not None:
                value, i = _dequote(text, i + len(name) + 1, name)
                if name == "namespaces":
                    if namespaces is not None:
                        raise ValueError('more than one "namespaces" option')
                    namespaces = value
                elif (after if name == "valid-after" else before) is not None:
                    raise ValueError(f"more than one {name!r} option")
                elif name == "valid-after":
                    after = absolute_time(value, name)
                else:
                    before = absolute_time(value, name)
        if i >= len(text) or text[i] in " \t":
            break
        if text[i] != ",":
            option = text[start:].split(",")[0]
            raise ValueError(
                f"unknown option {option!r}; the options are cert-authority, "
                'namespaces="...", valid-after="..." and valid-before="..."'
            )
        i += 1
        if i >= len(text):
            raise ValueError("the options end with a comma")
    if after is not None and before is not None and before <= after:
        raise ValueError('"valid-before" is not after "valid-after"')
    return ca, namespaces, after, before


def _dequote(text: str, i: int, name: str) -> tuple[str, int]:
    """The quoted value at ``text[i]`` (``\\"`` is a quote) and where it ends (``opt_dequote``)."""
    if text[i:i + 1] != '"':
        raise ValueError(f'{name}: the value must be quoted: {name}="..."')
    i += 1
    value = []
    while i < len(text) and text[i] != '"':
        if text[i] == "\\" and text[i + 1:i + 2] == '"':
            i += 1
        value.append(text[i])
        i += 1
    if i >= len(text):
        raise ValueError(f"{name}: the closing quote is missing")
    return "".join(value), i + 1


def absolute_time(value: str, name: str = "time") -> int:
    """Seconds since the epoch of ``YYYYMMDD[HHMM[SS]]`` (local time) with an optional
    ``Z``/``UTC`` suffix (UTC), as OpenSSH's ``parse_absolute_time`` reads it."""
    utc = False
    digits = value
    if len(value) > 1 and value[-1] in "zZ":
        utc, digits = True, value[:-1]
    elif len(value) > 3 and _ascii_lower(value[-3:]) == "utc":
        utc, digits = True, value[:-3]
    fields = {8: (4, 2, 2), 12: (4, 2, 2, 2, 2), 14: (4, 2, 2, 2, 2, 2)}.get(len(digits))
    bounds = ((0, 9999), (1, 12), (1, 31), (0, 23), (0, 59), (0, 61))
    if fields is None or not digits.isascii() or not digits.isdigit():
        raise ValueError(f"{name}={value!r}: expected YYYYMMDD[HHMM[SS]], local time, or UTC with a Z")
    parts, at = [], 0
    for width, (low, high) in zip(fields, bounds, strict=False):
        parts.append(int(digits[at:at + width]))
        at += width
        if not low <= parts[-1] <= high:
            raise ValueError(f"{name}={value!r}: not a date and time")
    parts += [0] * (6 - len(parts))
    when = calendar.timegm((*parts, 0, 0, 0)) if utc else int(time.mktime((*parts, 0, 0, 0)))
    if when <= 0:
        raise ValueError(f"{name}={value!r}: before 1970")
    return when


def seconds(when: datetime.datetime) -> int:
    """A moment as whole seconds since the epoch (the clock OpenSSH compares with)."""
    return int(when.timestamp())


def _ascii_lower(text: str) -> str:
    return text.translate(_LOWER)


_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
