"""Reading ``[tool.promote]`` into a frozen :class:`~pytest_promote.policy.model.Policy`:
stages, their gates and thresholds.

A later stage inherits the earlier one and may only tighten it: a threshold never
drops, a required gate never becomes advisory, the accepted colour never loosens.
"""

from __future__ import annotations

import dataclasses
import json
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any, ClassVar, Literal, Protocol

from pytest_promote.policy.components import Component, check_keys, check_name, globs
from pytest_promote.policy.freeze import parse_windows
from pytest_promote.policy.model import Policy
from pytest_promote.policy.overrides import parse_policy
from pytest_promote.policy.schema import build, coerce, did_you_mean, policy_error, tighten_direction
from pytest_promote.policy.stage import COLOUR_RANK, GateSpec, Stage
from pytest_promote.policy.trust import parse_trust


class GateKind(Protocol):
    """What the loader reads of a gate kind (a :class:`pytest_promote.api.Gate`
    subclass): the frozen dataclass of the options it takes."""

    Options: ClassVar[type]


DEFAULT_POLICY = """
stages = ["development", "staging", "production"]

[stage.development]
accept = "yellow"
required = ["tests", "secrets"]
advisory = ["lint", "types", "coverage"]
coverage = { min = 60 }

[stage.staging]
accept = "green"
required = ["tests", "secrets", "lint", "types", "coverage"]
coverage = { min = 70 }

[stage.production]
required = ["tests", "secrets", "lint", "types", "coverage"]
coverage = { min = 80 }
"""
#: Gates the default production stage requires once the policy configures them.
REQUIRED_ONCE_CONFIGURED = ("invariants", "artifacts")

STAGE_KEYS = {"accept", "required", "advisory", "match", "overridable", "override_requires_until"}
TOP_KEYS = {
    "stages", "paths", "gates", "stage", "override", "freeze", "enforce_path", "components", "trust",
}
#: Keys of ``[tool.promote.gates.<id>]`` that describe the gate, not its kind's options.
GATE_META_KEYS = {"kind", "overridable"}
#: ``--promote-to`` values that are not stage names.
RESERVED_STAGES = {"auto"}





def find_table(rootpath: Path, config_path: str | None) -> tuple[dict[str, Any] | None, str]:
    """The raw policy table and a description of where it came from."""
    if config_path:
        path = Path(config_path)
        if not path.is_absolute():
            path = rootpath / path
        data = _read_toml(path, "--promote-config")
        tool = _table(data, "tool", {}, str(path))
        table = _table(tool, "promote", None, str(path), "tool.") if "promote" in tool else data
        return table, str(path)
    pyproject = rootpath / "pyproject.toml"
    if pyproject.is_file():
        data = _read_toml(pyproject, "pyproject.toml")
        table = _table(_table(data, "tool", {}, str(pyproject)), "promote", None, str(pyproject), "tool.")
        if table is not None:
            return table, f"{pyproject.name} [tool.promote]"
    return None, "embedded default policy"


def _table(data: dict[str, Any], key: str, default: Any, source: str, prefix: str = "") -> Any:
    """``data[key]``, which must be a table when present."""
    value = data.get(key, default)
    if value is not default and not isinstance(value, dict):
        problem = f"expected a table: [{prefix}{key}]"
        raise policy_error(source, prefix + key, value, problem)
    return value


def _read_toml(path: Path, what: str) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise policy_error(what, "path", str(path), "no such file") from None
    except IsADirectoryError:
        raise policy_error(what, "path", str(path), "a directory; name a TOML file") from None
    except OSError as exc:
        problem = f"cannot be read ({exc.strerror or exc}); check its permissions"
        raise policy_error(what, "path", str(path), problem) from None
    except UnicodeDecodeError as exc:
        problem = f"not UTF-8 ({exc.reason} at byte {exc.start}); save it as UTF-8"
        raise policy_error(str(path), "(file)", "", problem) from None
    except tomllib.TOMLDecodeError as exc:
        raise policy_error(str(path), "(file)", "", f"not valid TOML: {exc}") from None


def load(
    table: Mapping[str, Any] | None,
    source: str,
    kinds: Mapping[str, type[GateKind]],
    declared_coverage: float | None = None,
) -> Policy:
    """Validate ``table`` (None: the embedded default) into a :class:`Policy`.

    ``declared_coverage``: the minimum the project's coverage configuration declares
    (``fail_under``); the embedded default never asks for less at any stage.
    """
    default = tomllib.loads(DEFAULT_POLICY)
    if table is None:
        table = default
        raised = _raise_coverage(default, declared_coverage)
        if raised:
            source += (
                f"; coverage min {declared_coverage:g}% at {', '.join(raised)}, "
                "from the project's coverage fail_under (stricter than the default)"
            )
    table = dict(table)
    for key, value in table.items():
        if key not in TOP_KEYS:
            raise policy_error(source, key, value, f"unknown key; {did_you_mean(key, TOP_KEYS)}")
    stage_names = coerce(tuple[str, ...], table.get("stages", default["stages"]), source, "stages")
    if not stage_names or len(set(stage_names)) != len(stage_names):
        raise policy_error(source, "stages", list(stage_names), "list each stage once, at least one")
    if RESERVED_STAGES & set(stage_names):
        problem = f"{sorted(RESERVED_STAGES)} cannot name a stage (--promote-to=auto picks one)"
        raise policy_error(source, "stages", list(stage_names), problem)
    paths = coerce(tuple[str, ...] | None, table.get("paths"), source, "paths")
    gates_table = coerce(dict[str, dict], table.get("gates", {}), source, "gates")
    specs = _gate_specs(gates_table, kinds, source)
    stage_tables = coerce(dict[str, dict], table.get("stage", {}), source, "stage")
    if "stage" not in table:
        stage_tables = _default_stages(default, stage_names, specs)
    for name, value in stage_tables.items():
        if name not in stage_names:
            problem = f"not in stages {list(stage_names)}; {did_you_mean(name, stage_names)}"
            raise policy_error(source, f"stage.{name}", dict(value), problem)
    stages: list[Stage] = []
    options: dict[str, dict[str, Any]] = {
        gid: {k: v for k, v in tbl.items() if k not in GATE_META_KEYS}
        for gid, tbl in gates_table.items()
    }
    freezes = parse_windows(table.get("freeze", []), source, stage_names)
    enforce_path = coerce(bool, table.get("enforce_path", True), source, "enforce_path")
    for index, name in enumerate(stage_names):
        prev = stages[-1] if stages else None
        # Governance gates every stage gets unless told otherwise: no skipping
        # environments (`path`, where the kind exists) and the stage's freeze windows.
        auto = ["path"] if index and enforce_path and "path" in specs else []
        if any(name in w.stages for w in freezes) and "freeze" in specs:
            auto.append("freeze")
        last = index == len(stage_names) - 1
        stage = _stage(
            name, stage_tables.get(name, {}), prev, index, specs, kinds, options, source,
            auto=tuple(auto), last=last,
        )
        stages.append(stage)
    overrides = parse_policy(table.get("override", []), source, stage_names, specs)
    trust = parse_trust(table["trust"], source, stage_names) if "trust" in table else None
    policy = Policy(
        source, tuple(stages), paths, MappingProxyType(specs), overrides, freezes, trust=trust
    )
    parts = coerce(dict[str, dict], table.get("components", {}), source, "components")
    found = {
        name: _component(name, _plain(part), table, _plain(stage_tables), policy, kinds)
        for name, part in parts.items()
    }
    return dataclasses.replace(policy, components=MappingProxyType(found))


def _component(
    name: str,
    part: dict[str, Any],
    table: Mapping[str, Any],
    stage_tables: Mapping[str, Mapping[str, Any]],
    policy: Policy,
    kinds: Mapping[str, type[GateKind]],
) -> Component:
    """One component: its globs, and its stages as the repository's with its own
    ``stage.<name>`` tables on top, each only tightening the repository's stage."""
    source = policy.source
    check_name(name, source)
    check_keys(name, part, source)
    where = f"components.{name}"
    own = coerce(dict[str, dict], part.get("stage", {}), source, f"{where}.stage")
    names = [s.name for s in policy.stages]
    layered: dict[str, dict[str, Any]] = {}
    for stage in policy.stages:
        mine = dict(own.get(stage.name, {}))
        _keep_required(mine, stage, source, f"{where}.stage.{stage.name}")
        layered[stage.name] = _layer(dict(stage_tables.get(stage.name, {})), mine)
    for stage_name, value in own.items():
        if stage_name not in names:
            problem = f"not in stages {names}; {did_you_mean(stage_name, names)}"
            raise policy_error(source, f"{where}.stage.{stage_name}", dict(value), problem)
    rest = {k: v for k, v in table.items() if k != "components"}
    # Loaded as a policy of its own: its stages inherit and tighten one another as
    # the repository's do; then each must tighten the repository's stage of its name.
    mine = load({**rest, "stage": layered}, f"{source} {where}", kinds)
    for base, stage in zip(policy.stages, mine.stages, strict=True):
        at = f"{where}.stage.{base.name}"
        if COLOUR_RANK[stage.accept] < COLOUR_RANK[base.accept]:
            problem = f"loosens the repository's {base.name}, which accepts {base.accept!r}"
            raise policy_error(source, f"{at}.accept", stage.accept, problem)
        for key, strict in (("overridable", False), ("override_requires_until", True)):
            if getattr(base, key) == strict and getattr(stage, key) != strict:
                problem = f"loosens the repository's {base.name}, which has {key} = {str(strict).lower()}"
                raise policy_error(source, f"{at}.{key}", getattr(stage, key), problem)
        for gid, options in base.options.items():
            if gid in stage.options:
                _check_tightens(base, gid, options, stage.options[gid], source, at,
                                whose="the repository's ")
    return Component(
        name,
        globs(part["source"], source, f"{where}.source"),
        globs(part["tests"], source, f"{where}.tests"),
        mine.stages,
    )


def _plain(value: Any) -> Any:
    """A validated table as TOML gave it: plain dicts and lists, to validate again."""
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    return value


def _keep_required(mine: Mapping[str, Any], base: Stage, source: str, where: str) -> None:
    """A component may not make advisory a gate the repository's stage requires."""
    advisory = coerce(tuple[str, ...], mine.get("advisory", []), source, f"{where}.advisory")
    for gid in advisory:
        if gid in base.required:
            problem = f"{gid!r} is required in the repository's {base.name}; a component may only tighten it"
            raise policy_error(source, f"{where}.advisory", list(advisory), problem)


def _layer(base: dict[str, Any], top: Mapping[str, Any]) -> dict[str, Any]:
    """A stage table with ``top`` laid on ``base``: gate lists joined, a gate ``top``
    requires leaves the advisory list, gate tables merged, other keys replaced."""
    merged = _deep_merge(base, {k: v for k, v in top.items() if k not in ("required", "advisory")})
    for key in ("required", "advisory"):
        if key in top:
            merged[key] = list(_union(tuple(base.get(key, [])), tuple(top[key])))
    if "required" in top:
        merged["advisory"] = [g for g in merged.get("advisory", []) if g not in top["required"]]
    return merged


def _raise_coverage(default: dict[str, Any], declared: float | None) -> list[str]:
    """Raise each default stage's coverage minimum to ``declared``; the stages raised."""
    raised = []
    for name, stage in default["stage"].items():
        if declared is not None and stage["coverage"]["min"] < declared:
            stage["coverage"]["min"] = declared
            raised.append(name)
    return raised


def _default_stages(
    default: dict[str, Any], names: tuple[str, ...], specs: Mapping[str, GateSpec]
) -> dict[str, dict[str, Any]]:
    tables = {k: dict(v) for k, v in default["stage"].items() if k in names}
    if "production" in tables:
        extra = [g for g in REQUIRED_ONCE_CONFIGURED if g in specs]
        tables["production"]["required"] = [*tables["production"]["required"], *extra]
    return tables


def _gate_specs(
    gates: Mapping[str, Mapping[str, Any]], kinds: Mapping[str, type[GateKind]], source: str
) -> dict[str, GateSpec]:
    specs = {kind: GateSpec(kind, kind) for kind in kinds if kind != "command"}
    for gid, tbl in gates.items():
        check_gate_id(gid, source, f"gates.{gid}")
        if "kind" in tbl:
            kind = tbl["kind"]
            if not isinstance(kind, str) or kind not in kinds:
                known = did_you_mean(str(kind), kinds) if isinstance(kind, str) else (
                    f"expected one kind's name (a string); valid: {', '.join(sorted(kinds))}"
                )
                problem = f"unknown gate kind; {known}"
                raise policy_error(source, f"gates.{gid}.kind", kind, problem)
        elif gid in kinds:
            kind = gid
        elif "command" in tbl and "command" in kinds:
            kind = "command"
        else:
            problem = (
                "not a gate kind and has no `command`; "
                f"{did_you_mean(gid, kinds)} (or set `kind` or `command`)"
            )
            raise policy_error(source, f"gates.{gid}", dict(tbl), problem)
        overridable = coerce(bool, tbl.get("overridable", True), source, f"gates.{gid}.overridable")
        specs[gid] = GateSpec(gid, kind, overridable)
    return specs


#: What a gate id may be made of (it names a pytest item, a JUnit property, a table row).
GATE_ID = re.compile(r"[A-Za-z0-9_.-]+")
#: Names no gate may have.
RESERVED_GATE_IDS = {"scorecard"}


def check_gate_id(gid: str, source: str, where: str) -> None:
    """A UsageError unless ``gid`` matches :data:`GATE_ID` and is not reserved."""
    if not GATE_ID.fullmatch(gid):
        problem = "a gate id is letters, digits, '_', '-' and '.' only; rename it"
        # The key as TOML quotes it, so a newline or `|` in it shows as such.
        raise policy_error(source, where.replace(gid, json.dumps(gid)), gid, problem)
    if gid in RESERVED_GATE_IDS:
        problem = "reserved for the verdict item (promote::scorecard); rename the gate"
        raise policy_error(source, where, gid, problem)


def _stage(
    name: str,
    tbl: Mapping[str, Any],
    prev: Stage | None,
    index: int,
    specs: Mapping[str, GateSpec],
    kinds: Mapping[str, type[GateKind]],
    options: dict[str, dict[str, Any]],
    source: str,
    auto: tuple[str, ...] = (),
    last: bool = False,
) -> Stage:
    where = f"stage.{name}"
    for key, value in tbl.items():
        if key not in STAGE_KEYS and key not in specs:
            choices = STAGE_KEYS | set(specs)
            problem = f"not a stage setting or gate id; {did_you_mean(key, choices)}"
            raise policy_error(source, f"{where}.{key}", value, problem)
    default_accept = "yellow" if index == 0 else "green"
    accept = coerce(Literal["green", "yellow"], tbl.get("accept", default_accept), source, f"{where}.accept")
    if prev and COLOUR_RANK[accept] < COLOUR_RANK[prev.accept]:
        problem = f"loosens {prev.name}, which accepts {prev.accept!r}; use {prev.accept!r}"
        raise policy_error(source, f"{where}.accept", accept, problem)
    required = _gate_list(tbl, "required", where, specs, source)
    advisory = _gate_list(tbl, "advisory", where, specs, source)
    required = _union(required, tuple(g for g in auto if g not in advisory))
    inherited_req = prev.required if prev else ()
    for gid in advisory:
        if gid in inherited_req:
            problem = f"{gid!r} is required in {prev.name if prev else ''}; a later stage cannot make it advisory"
            raise policy_error(source, f"{where}.advisory", list(advisory), problem)
        if gid in required:
            raise policy_error(source, f"{where}.advisory", list(advisory), f"{gid!r} is also required")
    req = _union(inherited_req, required)
    adv = tuple(g for g in _union(prev.advisory if prev else (), advisory) if g not in req)
    match = coerce(tuple[str, ...], tbl.get("match", []), source, f"{where}.match")
    stage_opts: dict[str, Any] = {}
    configured = tuple(k for k in (*options, *tbl) if k in specs)
    for gid in _union(req, adv, configured):
        if gid in tbl:
            value = coerce(dict, tbl[gid], source, f"{where}.{gid}")
            options[gid] = _deep_merge(options.get(gid, {}), dict(value))
        kind = kinds[specs[gid].kind]
        # A stage that sets none of the gate's options judges the gate's own table.
        named = f"{where}.{gid}" if gid in tbl else f"gates.{gid}"
        stage_opts[gid] = build(kind.Options, options.get(gid, {}), source, named)
        if prev and gid in prev.options:
            _check_tightens(prev, gid, prev.options[gid], stage_opts[gid], source, where)
    overridable = _tightened_flag(tbl, "overridable", prev, True, False, source, where)
    needs_until = _tightened_flag(tbl, "override_requires_until", prev, last, True, source, where)
    return Stage(
        name, accept, req, adv, match, MappingProxyType(stage_opts), overridable, needs_until
    )


def _tightened_flag(
    tbl: Mapping[str, Any], key: str, prev: Stage | None, default: bool, strict: bool,
    source: str, where: str,
) -> bool:
    """A stage flag a later stage inherits and may only move towards ``strict``."""
    before = getattr(prev, key) if prev else None
    fallback = strict if before == strict else default
    value = coerce(bool, tbl.get(key, fallback), source, f"{where}.{key}")
    if prev and before == strict and value != strict:
        problem = f"loosens {prev.name}, which has {key} = {str(strict).lower()}"
        raise policy_error(source, f"{where}.{key}", value, problem)
    return value


def _gate_list(
    tbl: Mapping[str, Any], key: str, where: str, specs: Mapping[str, GateSpec], source: str
) -> tuple[str, ...]:
    gids = coerce(tuple[str, ...], tbl.get(key, []), source, f"{where}.{key}")
    for gid in gids:
        if gid not in specs:
            problem = (
                f"unknown gate id {gid!r}: no installed gate kind has that name and "
                f"[tool.promote.gates] does not define it; {did_you_mean(gid, specs)}"
            )
            raise policy_error(source, f"{where}.{key}", list(gids), problem)
    return gids


def _union(*groups: tuple[str, ...]) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for group in groups:
        seen.update(dict.fromkeys(group))
    return tuple(seen)


def _deep_merge(base: dict[str, Any], top: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in top.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _check_tightens(
    prev: Stage, gid: str, old: Any, new: Any, source: str, where: str, prefix: str = "",
    whose: str = "",
) -> None:
    """A UsageError when ``new`` loosens any threshold of ``old`` (the options of
    ``gid`` at ``prev``, the stage before, or ``whose`` stage of that name)."""
    for field in dataclasses.fields(new):
        direction = tighten_direction(field)
        before, after = getattr(old, field.name), getattr(new, field.name)
        name = prefix + field.name
        if direction is None:
            _check_nested(prev, gid, before, after, source, where, name, whose)
            continue
        pairs = (
            [(f"{name}.{k}", v, after.get(k)) for k, v in before.items()]
            if isinstance(before, Mapping)
            else [(name, before, after)]
        )
        for key, was, now in pairs:
            if was is None:
                continue
            looser = now is None or (now < was if direction == "up" else now > was)
            if looser and isinstance(was, bool):
                shown = str(was).lower()
                problem = f"a later stage may only tighten: {prev.name} has {shown}; use {shown}"
                raise policy_error(source, f"{where}.{gid}.{key}", now, problem)
            if looser:
                need = ">=" if direction == "up" else "<="
                problem = (
                    f"{'a component' if whose else 'a later stage'} may only tighten: "
                    f"{whose}{prev.name} has {was}; use a value {need} {was}"
                )
                raise policy_error(source, f"{where}.{gid}.{key}", now, problem)


def _check_nested(
    prev: Stage, gid: str, before: Any, after: Any, source: str, where: str, name: str,
    whose: str = "",
) -> None:
    """Options holding options (e.g. a table of named checks) tighten entry by entry;
    options replaced by a plain value (``files = 10`` after ``files = { min = 50 }``)
    count as the defaults of the options they replace."""
    if dataclasses.is_dataclass(before) and not isinstance(before, type) and not isinstance(
        after, type(before)
    ):
        after = type(before)()
    if dataclasses.is_dataclass(before) and type(before) is type(after):
        _check_tightens(prev, gid, before, after, source, where, f"{name}.", whose)
    elif isinstance(before, Mapping) and isinstance(after, Mapping):
        for key, was in before.items():
            now = after.get(key)
            if dataclasses.is_dataclass(was) and type(now) is type(was):
                _check_tightens(prev, gid, was, now, source, where, f"{name}.{key}.", whose)
