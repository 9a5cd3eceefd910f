"""Which policy judged a run, and whether it is the one committed at HEAD.

A run is accepted only under the policy committed at the commit it judges: a policy
from elsewhere (``--promote-config`` outside the repository, a policy file with
changes not committed) still judges and shows its verdict, but never proves a
promotion. Every output names the policy by its source and digest (the ``sha256:``
of its table's canonical JSON), and ``verify`` and the ``path`` gate compare that
digest with the policy in force.
"""

from __future__ import annotations

import base64
import dataclasses
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from pytest_promote._util import git
from pytest_promote.ledger.signing.statement import policy_digest
from pytest_promote.runner.options import options

PYPROJECT = "pyproject.toml"


@dataclasses.dataclass(frozen=True)
class PolicyProof:
    """The policy that judged: where it came from, its digest, and why it is not
    the committed one (None: it is)."""

    source: str
    digest: str
    uncommitted: str | None = None

    def describe(self) -> str:
        """``pyproject.toml [tool.promote], sha256:0123456789ab``."""
        return f"{self.source}, {short(self.digest)}"

    def caveat(self) -> str | None:
        """The reason a run judged by this policy is not accepted, if any."""
        if self.uncommitted is None:
            return None
        return f"policy {self.describe()} is not the policy committed at HEAD: {self.uncommitted}"


#: Which policy judges this session, and whether it is the committed one.
PROOF_KEY = pytest.StashKey["PolicyProof"]()


def short(digest: str) -> str:
    """``sha256:`` and the first 12 hex digits."""
    return digest[:19]


def digest_of(table: Mapping[str, Any] | None) -> str:
    """The digest of a policy table (None: the embedded default policy)."""
    from pytest_promote.policy.loader import DEFAULT_POLICY

    return policy_digest(table, DEFAULT_POLICY)


def prove(root: Path, config_path: str | None, table: Mapping[str, Any] | None, source: str) -> PolicyProof:
    """The proof of the policy ``find_table`` read (``table`` from ``source``)."""
    digest = digest_of(table)
    if git.head(root) is None:
        return PolicyProof(source, digest)  # no commit: there is nothing to compare with
    if config_path:
        path = Path(config_path)
        path = (path if path.is_absolute() else root / path).resolve()
        try:
            rel = path.relative_to(root.resolve()).as_posix()
        except ValueError:
            return PolicyProof(source, digest, f"--promote-config={config_path} is outside the repository")
        why = _differs(root, path, rel)
        return PolicyProof(source, digest, f"--promote-config={config_path} {why}" if why else None)
    pyproject = root / PYPROJECT
    why = _differs(root, pyproject, PYPROJECT) if pyproject.exists() else None
    if why is None and not pyproject.exists() and git.git(root, "cat-file", "-e", f"HEAD:./{PYPROJECT}") is not None:
        why = "deleted since HEAD"
    return PolicyProof(source, digest, f"{PYPROJECT} {why}" if why else None)


def _differs(root: Path, path: Path, rel: str) -> str | None:
    """Why the file at ``path`` (``rel`` under ``root``) is not as committed at HEAD."""
    committed = git.git(root, "show", f"HEAD:./{rel}")
    if committed is None:
        return "is not committed"
    try:
        current = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return f"cannot be read ({exc})"
    return None if current.strip() == committed else "has uncommitted changes"


def in_force(config: pytest.Config) -> PolicyProof:
    """The proof of the policy this session judges by (read again when the session
    did not keep it)."""
    proof = config.stash.get(PROOF_KEY, None)
    if proof is None:
        from pytest_promote.policy.loader import find_table

        option = options(config).policy
        table, source = find_table(config.rootpath, option)
        proof = prove(config.rootpath, option, table, source)
    return proof


def stated_digest(attestation: object) -> str | None:
    """The policy digest an attestation's statement names (None: it names none)."""
    if not isinstance(attestation, Mapping):
        return None
    try:
        payload = base64.b64decode(str(attestation.get("payload", "")), validate=True)
        policy = json.loads(payload)["predicate"]["policy"]
    except (ValueError, KeyError, TypeError):
        return None
    digest = policy.get("digest") if isinstance(policy, Mapping) else None
    return digest if isinstance(digest, str) else None
