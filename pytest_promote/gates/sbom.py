"""The installed dependency closure of a project, as a CycloneDX SBOM.

The closure is walked with ``importlib.metadata`` from the requirements of the
project's own distribution (or from named roots), evaluating environment markers
and extras as pip would; the SBOM is built with cyclonedx-python-lib.
"""

from __future__ import annotations

import dataclasses
import tomllib
from collections.abc import Iterable
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cyclonedx.model.bom import Bom
    from packaging.requirements import Requirement

#: Trove classifiers -> SPDX ids, for distributions that declare no SPDX license.
CLASSIFIERS = {
    "MIT License": "MIT",
    "MIT No Attribution License (MIT-0)": "MIT-0",
    "Apache Software License": "Apache-2.0",
    "ISC License (ISCL)": "ISC",
    "Python Software Foundation License": "PSF-2.0",
    "Mozilla Public License 2.0 (MPL 2.0)": "MPL-2.0",
    "The Unlicense (Unlicense)": "Unlicense",
    "GNU General Public License v2 (GPLv2)": "GPL-2.0-only",
    "GNU General Public License v2 or later (GPLv2+)": "GPL-2.0-or-later",
    "GNU General Public License v3 (GPLv3)": "GPL-3.0-only",
    "GNU General Public License v3 or later (GPLv3+)": "GPL-3.0-or-later",
    "GNU Lesser General Public License v3 (LGPLv3)": "LGPL-3.0-only",
    "GNU Lesser General Public License v3 or later (LGPLv3+)": "LGPL-3.0-or-later",
    "GNU Affero General Public License v3": "AGPL-3.0-only",
}


@dataclasses.dataclass(frozen=True)
class Package:
    """One installed distribution of the closure."""

    name: str
    version: str
    license: str | None  # an SPDX id or expression, else the declared name; None: unknown
    requires: tuple[str, ...] = ()  # canonical names of its dependencies in the closure

    @property
    def key(self) -> str:
        """The canonical (normalized) name."""
        return canonicalize_name(self.name)

    @property
    def purl(self) -> str:
        """The package URL, also the component's bom-ref."""
        return f"pkg:pypi/{self.key}@{self.version}"


@dataclasses.dataclass(frozen=True)
class Closure:
    """The root (the project, when known), its installed closure, what is missing."""

    root: Package | None
    packages: tuple[Package, ...]
    missing: tuple[str, ...]  # "req (required by X)"


def project_name(rootpath: Path) -> str | None:
    """``[project] name`` of the project's pyproject.toml, if it has one."""
    try:
        data = tomllib.loads((rootpath / "pyproject.toml").read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        return None
    name = data.get("project", {}).get("name")
    return name if isinstance(name, str) else None


def closure(rootpath: Path, roots: Iterable[str] = (), extras: Iterable[str] = ()) -> Closure:
    """Walk the installed closure from ``roots`` or the project's own requirements.

    A ValueError says why there is nothing to start from.
    """
    name = project_name(rootpath)
    project = _installed(name) if name else None
    roots = tuple(roots)
    if roots:
        start = [_requirement(r, "`roots`") for r in roots]
    elif project is None:
        raise ValueError(
            f"the project {name!r} is not installed in this environment (pip install -e .); "
            "install it, or list the distributions to start from in `roots`"
            if name
            else "no [project] name in pyproject.toml; list the distributions in `roots`"
        )
    else:
        start = _requirements(project, set(extras))
    root_key = canonicalize_name(name) if name else ""
    found: dict[str, tuple[metadata.Distribution, set[str]]] = {}
    edges: dict[str, set[str]] = {root_key: set()}
    missing: list[str] = []
    queue = [(req, root_key) for req in start]
    while queue:
        req, parent = queue.pop(0)
        key = canonicalize_name(req.name)
        edges.setdefault(parent, set()).add(key)
        dist = found[key][0] if key in found else _installed(req.name)
        if dist is None:
            missing.append(f"{req} (required by {parent or 'roots'})")
            continue
        done = found.setdefault(key, (dist, set()))[1]
        new = ({""} | set(req.extras)) - done
        if new:
            done |= new
            queue.extend((r, key) for r in _requirements(dist, new - {""}, base="" in new))
    packages = tuple(
        _package(dist, edges.get(key, set()))
        for key, (dist, _) in sorted(found.items())
        if key != root_key
    )
    root = _package(project, edges[root_key]) if project is not None and not roots else None
    return Closure(root, packages, tuple(missing))


def _installed(name: str) -> metadata.Distribution | None:
    try:
        return metadata.distribution(name)
    except metadata.PackageNotFoundError:
        return None


def _requirement(text: str, where: str) -> Requirement:
    from packaging.requirements import InvalidRequirement, Requirement

    try:
        return Requirement(text)
    except InvalidRequirement as exc:
        raise ValueError(f"{where}: {text!r} is not a requirement: {exc}") from None


def _requirements(
    dist: metadata.Distribution, extras: set[str], base: bool = True
) -> list[Requirement]:
    """The requirements that apply here, for ``extras`` (and the base ones if ``base``)."""
    out = []
    for text in dist.requires or ():
        req = _requirement(text, f"{dist.metadata['Name']} metadata")
        if req.marker is None:
            if base:
                out.append(req)
            continue
        wanted = ({""} if base else set()) | extras
        if any(req.marker.evaluate({"extra": e}) for e in wanted):
            out.append(req)
    return out


def _package(dist: metadata.Distribution, requires: set[str]) -> Package:
    return Package(dist.metadata["Name"], dist.version, license_of(dist), tuple(sorted(requires)))


def license_of(dist: metadata.Distribution) -> str | None:
    """The SPDX license of ``dist``: License-Expression, License, then trove classifiers."""
    from cyclonedx.spdx import fixup_id, is_expression

    meta = dist.metadata
    declared = (_field(meta, "License-Expression") or _field(meta, "License")).strip()
    single = declared if declared and "\n" not in declared and len(declared) <= 100 else ""
    if single and single.upper() != "UNKNOWN":
        spdx = fixup_id(single) or (single if is_expression(single) else None)
        if spdx:
            return spdx
    names = [
        c.split(" :: ")[-1] for c in meta.get_all("Classifier") or () if c.startswith("License ::")
    ]
    mapped = [CLASSIFIERS[n] for n in names if n in CLASSIFIERS]
    if mapped:
        return " OR ".join(dict.fromkeys(mapped))
    if single and single.upper() != "UNKNOWN":
        return single
    return names[0] if names else None


def _field(meta: metadata.PackageMetadata, name: str) -> str:
    return (meta.get_all(name) or [""])[0]


def build_bom(found: Closure) -> Bom:
    """The CycloneDX BOM: one library component per package, with its dependencies."""
    from cyclonedx.contrib.license.factories import LicenseFactory
    from cyclonedx.model.bom import Bom
    from cyclonedx.model.component import Component, ComponentType
    from packageurl import PackageURL

    # cyclonedx's serialization decorators hide these classes' signatures from type
    # checkers; the library validates its own arguments at run time
    make_bom: Any = Bom
    make_component: Any = Component
    kinds = ComponentType
    factory = LicenseFactory()

    def component(pkg: Package, kind: Any = kinds.LIBRARY) -> Any:
        licenses = [factory.make_from_string(pkg.license)] if pkg.license else []
        return make_component(
            type=kind,
            name=pkg.name,
            version=pkg.version,
            bom_ref=pkg.purl,
            purl=PackageURL("pypi", name=pkg.key, version=pkg.version),
            licenses=licenses,
        )

    bom = make_bom()
    by_key = {pkg.key: component(pkg) for pkg in found.packages}
    for comp in by_key.values():
        bom.components.add(comp)
    for pkg in found.packages:
        bom.register_dependency(by_key[pkg.key], [by_key[k] for k in pkg.requires if k in by_key])
    if found.root is not None:
        root = component(found.root, kinds.APPLICATION)
        bom.metadata.component = root
        bom.register_dependency(root, [by_key[k] for k in found.root.requires if k in by_key])
    return bom


def to_json(bom: Bom) -> str:
    """The BOM as CycloneDX 1.6 JSON."""
    from cyclonedx.output import make_outputter
    from cyclonedx.schema import OutputFormat, SchemaVersion

    return make_outputter(bom, OutputFormat.JSON, SchemaVersion.V1_6).output_as_string(indent=2)


def canonicalize_name(name: str) -> str:
    """``name`` as pip compares distribution names (packaging's, imported when a gate
    runs: a project that is ``packaging`` measures its own import)."""
    from packaging import utils

    return utils.canonicalize_name(name)
