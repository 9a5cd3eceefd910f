"""Field paths into JSON documents: ``a.b[0].c``, ``benchmarks[name=test_x].stats.mean``.

One small syntax shared by the gates that read JSON (``metrics``, ``health``) and the
one that reports differences in it (``drift``):

- ``a.b`` -- the key ``b`` of the object under the key ``a``;
- ``[0]`` -- the first element of a list (``[-1]``: the last);
- ``[name=test_x]`` -- the first element of a list of objects whose ``name`` is
  ``test_x`` (compared as text), as pytest-benchmark's ``benchmarks`` list needs;
- ``["odd.key"]`` -- a key that holds dots or brackets, as a JSON string.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

Step = str | int | tuple[str, str]
_KEY = re.compile(r"[^.\[\]\"]+")
_PLAIN = re.compile(r"[A-Za-z0-9_$@-]+")


class PathError(ValueError):
    """A path that is malformed, or that does not lead anywhere in a document."""


def parse(path: str) -> tuple[Step, ...]:
    """The steps of ``path``; a :class:`PathError` says where it is malformed."""
    steps: list[Step] = []
    i = 0
    while i < len(path):
        if path[i] == "[":
            end = _closing(path, i)
            steps.append(_bracket(path[i + 1 : end], path))
            i = end + 1
            continue
        if steps:
            if path[i] != ".":
                raise PathError(f"{path!r}: unexpected {path[i]!r} at {i}; expected '.' or '['")
            i += 1
        match = _KEY.match(path, i)
        if not match:
            raise PathError(f"{path!r}: a key is missing at {i}")
        steps.append(match.group())
        i = match.end()
    if not steps:
        raise PathError("an empty path; write e.g. 'a.b[0].c'")
    return tuple(steps)


def _closing(path: str, start: int) -> int:
    if path.startswith('["', start):
        # a quoted key: the bracket must follow the closing quote of the JSON string
        try:
            _, end = json.JSONDecoder().raw_decode(path, start + 1)
        except json.JSONDecodeError:
            raise PathError(f"{path!r}: unterminated quoted key at {start}") from None
        if path[end : end + 1] != "]":
            raise PathError(f"{path!r}: expected ']' after the quoted key at {end}")
        return end
    end = path.find("]", start)
    if end < 0:
        raise PathError(f"{path!r}: '[' at {start} is never closed")
    return end


def _bracket(inner: str, path: str) -> Step:
    if inner.startswith('"'):
        return json.loads(inner)
    if re.fullmatch(r"-?\d+", inner):
        return int(inner)
    field, sep, value = inner.partition("=")
    if sep and field.strip():
        return (field.strip(), value.strip())
    raise PathError(f'{path!r}: [{inner}] is neither an index, a "key" nor a field=value')


def get(document: Any, path: str | Sequence[Step]) -> Any:
    """The value at ``path`` in ``document``; a :class:`PathError` names the missing step."""
    steps = parse(path) if isinstance(path, str) else tuple(path)
    value = document
    for n, step in enumerate(steps):
        here = render(steps[:n]) if n else "the document"
        if isinstance(step, tuple):
            field, want = step
            if not isinstance(value, list):
                raise PathError(
                    f"{here} is {_kind(value)}, not a list to select [{field}={want}] in"
                )
            found = [v for v in value if isinstance(v, dict) and _text(v.get(field)) == want]
            if not found:
                raise PathError(f"no element of {here} has {field} = {want!r}")
            value = found[0]
        elif isinstance(step, int):
            if not isinstance(value, list):
                raise PathError(f"{here} is {_kind(value)}, not a list to index with [{step}]")
            if not -len(value) <= step < len(value):
                raise PathError(f"{here} has {len(value)} element(s), no [{step}]")
            value = value[step]
        else:
            if not isinstance(value, dict):
                raise PathError(f"{here} is {_kind(value)}, not an object with key {step!r}")
            if step not in value:
                raise PathError(f"{render((*steps[:n], step))} is missing")
            value = value[step]
    return value


def render(steps: Sequence[Step]) -> str:
    """``steps`` written back as a path (the inverse of :func:`parse`)."""
    out = ""
    for step in steps:
        if isinstance(step, tuple):
            out += f"[{step[0]}={step[1]}]"
        elif isinstance(step, int):
            out += f"[{step}]"
        elif _PLAIN.fullmatch(step):
            out += f".{step}" if out else step
        else:
            out += f"[{json.dumps(step)}]"
    return out


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _kind(value: Any) -> str:
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    return f"{json.dumps(value)[:40]} ({type(value).__name__})"


#: A JSON shape: a type (or a tuple of types) a value must have, ``[shape]`` for an
#: array whose every element has ``shape``, ``{key: shape}`` for an object holding
#: at least those keys.
Shape = type | tuple[type, ...] | list[Any] | dict[str, Any]


def mismatch(value: Any, shape: Shape, where: str = "") -> str | None:
    """Where ``value`` does not have ``shape`` and what was expected, or None."""
    here = where or "the output"
    if isinstance(shape, dict):
        if not isinstance(value, dict):
            return f"{here} is {_kind(value)}, not an object"
        for key, inner in shape.items():
            if key not in value:
                return f"{here} has no {key!r}"
            found = mismatch(value[key], inner, f"{where}.{key}" if where else key)
            if found:
                return found
        return None
    if isinstance(shape, list):
        if not isinstance(value, list):
            return f"{here} is {_kind(value)}, not an array"
        for index, item in enumerate(value):
            found = mismatch(item, shape[0], f"{where}[{index}]")
            if found:
                return found
        return None
    kinds = shape if isinstance(shape, tuple) else (shape,)
    strict_int = isinstance(value, bool) and not {bool, object} & set(kinds)
    if strict_int or not isinstance(value, kinds):
        return f"{here} is {_kind(value)}, not {' or '.join(map(_kind_name, kinds))}"
    return None


def _kind_name(kind: type) -> str:
    return {dict: "an object", list: "an array", str: "a string", int: "an integer",
            float: "a number", bool: "true/false", type(None): "null"}.get(kind, kind.__name__)
