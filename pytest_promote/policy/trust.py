"""``[tool.promote.trust]``: whose signatures each stage's records must carry.

```toml
[tool.promote.trust]
allowed_signers = ".promote/allowed_signers"   # git's gpg.ssh.allowedSignersFile format
pattern_reviewers = false   # may a `*@example.com` key stand for a named reviewer? (no)

[tool.promote.trust.stage.staging]
signers = ["ci@example.com"]          # every staging record must be signed by each of these
break_glass = ["lead@example.com"]    # who may sign an override at staging
```

A later stage inherits both lists and may only add signers. The file itself is read
(and judged) by :mod:`pytest_promote.attest.trust`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import MappingProxyType

from pytest_promote.attest.signers import AllowedSigner, read_allowed_signers
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


def parse(raw: object, source: str, stage_names: Sequence[str]) -> Trust:
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
