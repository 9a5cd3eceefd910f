"""``[tool.promote.trust]``: whose signatures each stage's records must carry.

```toml
[tool.promote.trust]
allowed_signers = ".promote/allowed_signers"   # git's gpg.ssh.allowedSignersFile format
pattern_reviewers = false   # may a `*@example.com` key stand for a named reviewer? (no)

[tool.promote.trust.stage.staging]
signers = ["ci@example.com"]          # every staging record must be signed by each of these
break_glass = ["lead@example.com"]    # who may sign an override at staging
```

A later stage inherits both lists and may only add signers.

Judging a signed statement by the allowed-signers file: a signature counts for a
principal exactly when ``ssh-keygen -Y verify -f FILE -I PRINCIPAL -n pytest-promote``
would accept it (:mod:`pytest_promote.ledger.signing.signers` reads the file as OpenSSH does).
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal

from pytest_promote.ledger.signing import dsse
from pytest_promote.ledger.signing.signers import AllowedSigner, read_allowed_signers, seconds
from pytest_promote.ledger.signing.statement import Statement, read
from pytest_promote.policy.schema import build, did_you_mean, policy_error


@dataclasses.dataclass(frozen=True)
class StageTrust:
    """``[tool.promote.trust.stage.<name>]``."""

    signers: tuple[str, ...] | None = None
    break_glass: tuple[str, ...] | None = None


@dataclasses.dataclass(frozen=True)
class _Table:
    allowed_signers: str = ""
    pattern_reviewers: bool = False
    stage: Mapping[str, StageTrust] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.allowed_signers.strip():
            raise ValueError("`allowed_signers` must name the allowed-signers file (git's format)")


@dataclasses.dataclass(frozen=True)
class Trust:
    """The trust policy: the allowed-signers file, and per stage who must sign and
    who may break glass (each stage with what it inherited)."""

    source: str
    allowed_signers: str
    signers: Mapping[str, tuple[str, ...]]
    break_glass: Mapping[str, tuple[str, ...]]
    #: Whether a key listed under a pattern stands for every reviewer or break-glass
    #: principal the pattern matches (by default it stands for none of them).
    pattern_reviewers: bool = False

    def requires(self, stage: str) -> tuple[str, ...]:
        """The principals whose signatures a record of ``stage`` must carry."""
        return self.signers.get(stage, ())

    def read(self, root: Path) -> list[AllowedSigner]:
        """The allowed-signers file's usable lines; a :class:`TrustProblem` if it is unreadable."""
        path = Path(self.allowed_signers).expanduser()
        path = path if path.is_absolute() else root / path
        return read_allowed_signers(path, self.source, self.allowed_signers)


def parse_trust(raw: object, source: str, stage_names: Sequence[str]) -> Trust:
    """``[tool.promote.trust]`` checked against the policy's stages."""
    if not isinstance(raw, dict):
        raise policy_error(source, "trust", raw, "expected a table: [tool.promote.trust]")
    table: _Table = build(_Table, raw, source, "trust")
    for name in table.stage:
        if name not in stage_names:
            problem = f"not a stage; {did_you_mean(name, stage_names)}"
            raise policy_error(source, f"trust.stage.{name}", name, problem)
    signers: dict[str, tuple[str, ...]] = {}
    glass: dict[str, tuple[str, ...]] = {}
    before: tuple[str, ...] = ()
    breakers: tuple[str, ...] = ()
    for name in stage_names:
        entry = table.stage.get(name, StageTrust())
        mine = before if entry.signers is None else entry.signers
        dropped = [p for p in before if p not in mine]
        if dropped:
            problem = (
                f"a later stage may only add signers: the stage before requires {dropped}; "
                "list them too"
            )
            raise policy_error(source, f"trust.stage.{name}.signers", list(mine), problem)
        breakers = breakers if entry.break_glass is None else entry.break_glass
        signers[name], glass[name], before = mine, breakers, mine
    return Trust(
        source, table.allowed_signers, MappingProxyType(signers), MappingProxyType(glass),
        table.pattern_reviewers,
    )


#: The signature namespace of every pytest-promote signature (``ssh-keygen -n``).
NAMESPACE = "pytest-promote"


@dataclasses.dataclass(frozen=True)
class Standing:
    """Whether a signed statement is trusted: ``unsigned``, ``trusted`` or
    ``untrusted`` (with why), and the allowed-signers lines whose keys verified it
    (usable now, in the ``pytest-promote`` namespace)."""

    state: Literal["unsigned", "trusted", "untrusted"]
    reason: str = ""
    lines: tuple[AllowedSigner, ...] = ()
    statement: Statement | None = None

    @property
    def principals(self) -> tuple[str, ...]:
        """The principals (pattern-lists) of the lines whose keys signed."""
        return tuple(dict.fromkeys(line.principals for line in self.lines))

    def speaks_for(self, name: str) -> bool:
        """Whether the signature is ``name``'s, as ``ssh-keygen -Y verify -I name`` decides."""
        return any(line.names(name) for line in self.lines)

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
    is ``tree``): which allowed signers' keys verify it, and whether they speak for
    every principal in ``need``."""
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
    now = seconds(when or datetime.datetime.now(datetime.UTC))
    usable = [s for s in signers if s.key is not None and s.usable(NAMESPACE, now)]
    verified = envelope.verified_by(s.key for s in usable if s.key is not None)
    lines = tuple(s for s in usable if s.key in verified)
    if not lines:
        ids = ", ".join(k for k, _ in envelope.signatures)
        return Standing(
            "untrusted", f"no signature verifies with a key of the allowed signers (signed as {ids})",
            statement=said,
        )
    standing = Standing("trusted", "", lines, said)
    missing = [p for p in need if not standing.speaks_for(p)]
    if missing:
        who = ", ".join(standing.principals)
        return Standing("untrusted", f"not signed by {', '.join(missing)} (signed by {who})", lines, said)
    return standing


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
