"""``deps``: every installed dependency is approved; the SBOM is written as evidence.

A CycloneDX SBOM of the installed closure is built while the tests run and written
where the policy says; then each component must be in the allowlist (name and
version specifier) and carry a license the policy allows and does not deny.
"""

from __future__ import annotations

import dataclasses
import fnmatch
from collections.abc import Sequence
from concurrent.futures import Future
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pytest_promote._util.background import in_background
from pytest_promote._util.paths import check_inside
from pytest_promote.api import Finding, Gate, GateResult, relative
from pytest_promote.gates import sbom
from pytest_promote.gates.sbom import canonicalize_name

if TYPE_CHECKING:
    from packaging.requirements import Requirement


@dataclasses.dataclass(frozen=True)
class DepsOptions:
    """``[tool.promote.gates.<id>]`` of kind ``deps``."""

    sbom: str = "reports/sbom.cdx.json"
    roots: tuple[str, ...] = ()
    extras: tuple[str, ...] = ()
    allowlist: str | None = None
    allowed_licenses: tuple[str, ...] = ()
    denied_licenses: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.allowlist is None and not self.allowed_licenses and not self.denied_licenses:
            raise ValueError(
                "deps needs an `allowlist` (a file of approved names and versions) and/or "
                "`allowed_licenses` / `denied_licenses`"
            )
        check_inside("sbom", self.sbom)
        if self.allowlist is not None:
            check_inside("allowlist", self.allowlist)
        if self.roots and self.extras:
            raise ValueError(
                "`extras` apply to the project's own requirements; with `roots`, "
                "write them into the roots (e.g. 'pkg[extra]')"
            )


def load_allowlist(path: Path) -> dict[str, list[Requirement]]:
    """Approved names -> their specifiers, one requirement per line (``name>=1,<2``)."""
    from packaging.requirements import InvalidRequirement, Requirement

    approved: dict[str, list[Requirement]] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        text = line.split("#", 1)[0].strip()
        if not text:
            continue
        try:
            req = Requirement(text)
        except InvalidRequirement as exc:
            raise ValueError(
                f"{path.name}:{number}: {text!r} is not `name specifier`: {exc}"
            ) from None
        if req.url or req.marker:
            raise ValueError(f"{path.name}:{number}: {text!r}: only a name and a version specifier")
        approved.setdefault(canonicalize_name(req.name), []).append(req)
    return approved


def _matches(name: str, patterns: Sequence[str]) -> str | None:
    return next((p for p in patterns if fnmatch.fnmatchcase(name.lower(), p.lower())), None)


@cache
def _licensing() -> Any:
    from license_expression import get_spdx_licensing

    return get_spdx_licensing()


def license_problem(
    expression: str | None, allowed: Sequence[str], denied: Sequence[str]
) -> str | None:
    """Why the license ``expression`` is not acceptable, or None.

    An SPDX expression is acceptable when it can be satisfied with allowed, undenied
    licenses: one branch of an ``OR``, every part of an ``AND``. A ``WITH`` exception is
    judged by its full text and by its base license.
    """
    if expression is None:
        return "no license metadata, not in allowed_licenses" if allowed else None
    from cyclonedx.spdx import is_expression

    licensing = _licensing()
    tree = licensing.parse(expression, validate=False) if is_expression(expression) else None
    reasons: list[str] = []

    def ok(node: Any) -> bool:
        if isinstance(node, licensing.AND):
            return all([ok(a) for a in node.args])  # a list: collect every reason
        if isinstance(node, licensing.OR):
            return any([ok(a) for a in node.args])
        names = [str(node)]
        if getattr(node, "license_symbol", None) is not None:
            names.append(str(node.license_symbol))
        return _symbol_ok(names, allowed, denied, reasons)

    if ok(tree if tree is not None else expression):
        return None
    return "; ".join(dict.fromkeys(reasons))


def _symbol_ok(
    names: list[str], allowed: Sequence[str], denied: Sequence[str], reasons: list[str]
) -> bool:
    for name in names:
        hit = _matches(name, denied)
        if hit:
            reasons.append(f"license {name} denied by {hit!r}")
            return False
    if allowed and not any(_matches(n, allowed) for n in names):
        reasons.append(f"license {names[0]} not in allowed_licenses")
        return False
    return True


class DepsGate(Gate):
    """Builds and writes the SBOM while the tests run; judges each component after."""

    Options = DepsOptions
    title = "dependency approval"
    requires = ("cyclonedx", "license_expression", "packageurl")
    extra = "sbom"

    def start(self) -> None:
        """Walk the closure and write the SBOM in the background."""
        self._built: Future[sbom.Closure] = in_background(self._build, self.id)

    def _build(self) -> sbom.Closure:
        from pytest_promote._util.files import write_atomic

        opts: DepsOptions = self.options
        found = sbom.closure(self.context.rootpath, opts.roots, opts.extras)
        write_atomic(self.context.rootpath / opts.sbom, sbom.to_json(sbom.build_bom(found)))
        return found

    def evaluate(self) -> GateResult:
        """Every component approved by name and version, and by license."""
        opts: DepsOptions = self.options
        root = self.context.rootpath
        try:
            approved = load_allowlist(root / opts.allowlist) if opts.allowlist else None
            found = self._built.result()
        except (OSError, ValueError) as exc:
            return GateResult.error(f"{self.id}: cannot judge the dependencies: {exc}")
        written = relative(root / opts.sbom, root)
        findings = [Finding(f"not installed: {m}", rule="missing") for m in found.missing]
        for pkg in found.packages:
            problems = []
            if approved is not None:
                reqs = approved.get(pkg.key)
                if reqs is None:
                    problems.append("not in the allowlist")
                elif not any(r.specifier.contains(pkg.version, prereleases=True) for r in reqs):
                    allowed = " or ".join(str(r.specifier) or "any" for r in reqs)
                    problems.append(f"version not allowed (allowlist: {allowed})")
            problem = license_problem(pkg.license, opts.allowed_licenses, opts.denied_licenses)
            if problem:
                problems.append(problem)
            if problems:
                rule = "denied" if problem and "denied" in problem else "unapproved"
                shown = f"{pkg.name} {pkg.version} ({pkg.license or 'no license'})"
                findings.append(
                    Finding(f"{shown}: {'; '.join(problems)}", file=opts.allowlist, rule=rule)
                )
        total = len(found.packages)
        bad = len([f for f in findings if f.rule != "missing"])
        measured = f"{total - bad}/{total} approved"
        if findings:
            summary = (
                f"{self.id}: {bad} of {total} component(s) not approved"
                + (f", {len(found.missing)} required but not installed" if found.missing else "")
                + f" (all must be approved for {self.context.stage}); SBOM: {written}"
            )
            return GateResult.failed(
                summary, measured=measured, threshold="all approved", findings=findings
            )
        return GateResult.passed(
            f"{self.id}: all {total} component(s) approved; SBOM: {written}",
            measured=measured,
            threshold="all approved",
        )
