"""Turn a TOML table into a frozen options dataclass, or say exactly what is wrong.

Every error names the file, the key, the value given and what would be valid, so a
bad policy is a ``pytest.UsageError`` a user can fix without reading our code.
"""

from __future__ import annotations

import contextvars
import dataclasses
import difflib
import math
import types
import typing
from collections.abc import Iterable, Mapping
from typing import Any

import pytest


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for the closest choice, or a list of valid ones."""
    choices = sorted(set(choices))
    close = difflib.get_close_matches(word, choices, n=1)
    if close:
        return f"did you mean {close[0]!r}?"
    return "valid: " + (", ".join(choices) if choices else "none")


#: Set while ``coerce`` tries one type of a union: the errors are discarded, so they
#: are not masked (masking loads detect-secrets, which is no part of reading a policy).
_TRYING: contextvars.ContextVar[bool] = contextvars.ContextVar("_TRYING", default=False)


def policy_error(source: str, key: str, value: object, problem: str) -> pytest.UsageError:
    """A usage error for a wrong policy value: where, what was given, how to fix it."""
    from pytest_promote._util.redact import mask_text

    said = f"{source}: {key} = {_show(value)}: {problem}"
    return pytest.UsageError(said if _TRYING.get() else mask_text(said))


def _show(value: object) -> str:
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_show(v) for v in value) + "]"
    return repr(value)


def build(cls: type, table: Mapping[str, Any], source: str, prefix: str) -> Any:
    """An instance of dataclass ``cls`` from ``table``; unknown keys are errors."""
    fields = {f.name: f for f in dataclasses.fields(cls)}
    hints = typing.get_type_hints(cls)
    values: dict[str, Any] = {}
    for key, value in table.items():
        where = f"{prefix}.{key}"
        if key not in fields:
            problem = f"unknown key; {did_you_mean(key, fields)}"
            raise policy_error(source, where, value, problem)
        values[key] = coerce(hints[key], value, source, where)
        _check_range(fields[key], values[key], source, where)
    try:
        return cls(**values)
    except ValueError as exc:  # the options' own __post_init__ checks
        raise policy_error(source, prefix, dict(table), str(exc)) from None


def coerce(hint: Any, value: Any, source: str, where: str) -> Any:
    """``value`` checked against the type ``hint`` (lists become tuples)."""
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        for arg in args:
            trying = _TRYING.set(True)
            try:
                return coerce(arg, value, source, where)
            except pytest.UsageError:
                continue
            finally:
                _TRYING.reset(trying)
        raise policy_error(source, where, value, f"expected {_name(hint)}")
    if origin is typing.Literal:
        if value in args:
            return value
        raise policy_error(source, where, value, f"{did_you_mean(str(value), map(str, args))}")
    if origin is tuple:
        if not isinstance(value, list):
            raise policy_error(source, where, value, f"expected a list ({_name(hint)})")
        return tuple(coerce(args[0], v, source, f"{where}[{i}]") for i, v in enumerate(value))
    if origin in (dict, Mapping) or hint is dict:
        if not isinstance(value, dict):
            raise policy_error(source, where, value, f"expected a table ({_name(hint)})")
        vt = args[1] if args else Any
        return types.MappingProxyType(
            {str(k): coerce(vt, v, source, f"{where}.{k}") for k, v in value.items()}
        )
    if hint is Any:
        return value
    if hint is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            if not math.isfinite(value):
                raise policy_error(source, where, value, "expected a finite number (not nan or inf)")
            return float(value)
    elif hint is type(None):
        if value is None:
            return None
    elif isinstance(hint, type) and dataclasses.is_dataclass(hint):
        if isinstance(value, dict):
            return build(hint, value, source, where)
    elif isinstance(hint, type) and isinstance(value, hint) and not (
        hint is int and isinstance(value, bool)
    ):
        return value
    raise policy_error(source, where, value, f"expected {_name(hint)}")


def _name(hint: Any) -> str:
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_name(a) for a in args)
    if origin is typing.Literal:
        return " or ".join(repr(a) for a in args)
    if origin is tuple:
        return f"a list of {_name(args[0])}"
    if origin in (dict, Mapping):
        return f"a table of {_name(args[1])}" if args else "a table"
    if hint is float:
        return "a number"
    if hint is type(None):
        return "nothing"
    return {str: "a string", int: "an integer", bool: "true or false"}.get(
        hint, getattr(hint, "__name__", str(hint))
    )


def _check_range(field: dataclasses.Field[Any], value: Any, source: str, where: str) -> None:
    """A number outside the field's ``range`` (its metadata) is an error; in a table of
    numbers, each one is checked."""
    bounds = field.metadata.get("range")
    if bounds is None or value is None:
        return
    low, high = bounds
    items = value.items() if isinstance(value, Mapping) else [(None, value)]
    for key, number in items:
        if isinstance(number, (int, float)) and not isinstance(number, bool) and not (
            low <= number <= high
        ):
            at = where if key is None else f"{where}.{key}"
            raise policy_error(source, at, number, f"out of range: use a number from {low:g} to {high:g}")


def bounded(default: Any, low: float, high: float) -> Any:
    """A dataclass field for a number that must lie in ``[low, high]``."""
    return dataclasses.field(default=default, metadata={"range": (low, high)})


#: The range of every timeout in seconds: positive, at most a day.
TIMEOUT = (0.001, 86400.0)


def timeout(default: float) -> Any:
    """A dataclass field for a timeout in seconds (see :data:`TIMEOUT`)."""
    return bounded(default, *TIMEOUT)


def tighten_direction(field: dataclasses.Field[Any]) -> str | None:
    """``"up"`` for a minimum, ``"down"`` for a maximum, else None."""
    return field.metadata.get("tighten")
