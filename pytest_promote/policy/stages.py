"""``--promote-to=auto``: the stage whose ``match`` pattern fits the git ref best.

The ref is the current branch; on a detached HEAD, the CI's ref (GitHub Actions'
``GITHUB_REF_NAME``/``GITHUB_REF_TYPE``, GitLab's ``CI_COMMIT_TAG``/
``CI_COMMIT_REF_NAME``), else the tags pointing at HEAD. The most specific pattern
(the most literal characters) wins, so ``v*-rc.*`` beats ``v*`` for ``v1.2.0-rc.1``.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import re
from collections.abc import Mapping
from pathlib import Path

import pytest

from pytest_promote._util import git
from pytest_promote.policy.model import Policy

AUTO = "auto"


@dataclasses.dataclass(frozen=True)
class Ref:
    """A branch or tag name and where it was read from."""

    name: str
    type: str  # "branch" or "tag"
    source: str  # "git", "GITHUB_REF_NAME", ...


@dataclasses.dataclass(frozen=True)
class Selection:
    """The stage ``auto`` chose, and why."""

    stage: str
    ref: Ref
    pattern: str

    def describe(self) -> str:
        """``auto: tag 'v1.2.0' (from git) matches 'v*' of stage production``."""
        return (
            f"auto: {self.ref.type} {self.ref.name!r} (from {self.ref.source}) "
            f"matches {self.pattern!r} of stage {self.stage}"
        )

    def as_dict(self) -> dict[str, str]:
        """The selection as the JSON report records it."""
        return {
            "ref": self.ref.name, "ref_type": self.ref.type,
            "source": self.ref.source, "pattern": self.pattern, "stage": self.stage,
        }


def current_refs(root: Path, env: Mapping[str, str]) -> list[Ref]:
    """The refs HEAD stands for (several only when several tags point at it)."""
    branch = git.branch(root)
    if branch:
        return [Ref(branch, "branch", "git")]
    if env.get("GITHUB_REF_NAME"):
        kind = "tag" if env.get("GITHUB_REF_TYPE") == "tag" else "branch"
        return [Ref(env["GITHUB_REF_NAME"], kind, "GITHUB_REF_NAME")]
    if env.get("CI_COMMIT_TAG"):
        return [Ref(env["CI_COMMIT_TAG"], "tag", "CI_COMMIT_TAG")]
    if env.get("CI_COMMIT_REF_NAME"):
        return [Ref(env["CI_COMMIT_REF_NAME"], "branch", "CI_COMMIT_REF_NAME")]
    return [Ref(tag, "tag", "git") for tag in git.tags_at(root)]


def specificity(pattern: str) -> int:
    """How many literal characters ``pattern`` has (``[...]`` counts as one)."""
    return len(re.sub(r"\[[^\]]*\]", "x", pattern).replace("*", "").replace("?", ""))


def select(policy: Policy, root: Path, env: Mapping[str, str]) -> Selection:
    """The stage for the current ref; a UsageError on no ref, no match, or a tie."""
    patterns = [(s.name, p) for s in policy.stages for p in s.match]
    if not patterns:
        raise pytest.UsageError(
            f"--promote-to=auto: no stage of {policy.source} has `match` patterns; "
            'add e.g. match = ["main"] to a stage, or name the stage'
        )
    refs = current_refs(root, env)
    if not refs:
        raise pytest.UsageError(
            "--promote-to=auto: cannot tell the git ref: HEAD is detached, no tag points "
            "at it and no CI ref variable (GITHUB_REF_NAME, CI_COMMIT_TAG, "
            "CI_COMMIT_REF_NAME) is set; name the stage instead"
        )
    found = best(policy, refs)
    if found is None:
        shown = ", ".join(f"{stage}: {pattern!r}" for stage, pattern in patterns)
        names = ", ".join(repr(r.name) for r in refs)
        raise pytest.UsageError(
            f"--promote-to=auto: {names} matches no stage's pattern in {policy.source} "
            f"({shown})"
        )
    return found


def best(policy: Policy, refs: list[Ref]) -> Selection | None:
    """The stage whose ``match`` pattern fits ``refs`` best; None when none fits, a
    UsageError on a tie."""
    patterns = [(s.name, p) for s in policy.stages for p in s.match]
    hits = [
        (specificity(pattern), stage, pattern, ref)
        for ref in refs
        for stage, pattern in patterns
        if fnmatch.fnmatchcase(ref.name, pattern)
    ]
    if not hits:
        return None
    top_score = max(score for score, *_ in hits)
    top = [h for h in hits if h[0] == top_score]
    stages = {stage: (pattern, ref) for _, stage, pattern, ref in top}
    if len(stages) > 1:
        tied = " and ".join(f"{s} ({p!r} on {r.name!r})" for s, (p, r) in stages.items())
        raise pytest.UsageError(
            f"--promote-to=auto: tie between stages {tied}: equally specific patterns; "
            "make one pattern more specific, or name the stage"
        )
    _, stage, pattern, ref = top[0]
    return Selection(stage, ref, pattern)
