"""One wording for validation errors, shared by the study loader and the sweep section.

A pydantic error becomes one line `<key path>: <message>`, e.g.
`glass.n_bg: missing required key` or `sweep.ranks_per_case: got 0, must be >= 1`.
"""

from __future__ import annotations

import types
from collections.abc import Mapping
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel
from pydantic_core import ErrorDetails

from femcait.study.units import ERROR_TYPE, format_value

MISSING: Any = object()
"""What `lookup` returns for a key path that is not in the input."""

_EXPECTED = {
    "float_type": "a number",
    "float_parsing": "a number",
    "int_type": "an integer",
    "int_parsing": "an integer",
    "int_from_float": "an integer",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "string_type": "a text string",
    "list_type": "a list",
    "dict_type": "a mapping (key: value pairs)",
    "model_type": "a mapping (key: value pairs)",
    "model_attributes_type": "a mapping (key: value pairs)",
}
_BOUNDS = {
    "greater_than": ">",
    "greater_than_equal": ">=",
    "less_than": "<",
    "less_than_equal": "<=",
}


def lookup(data: Any, path: list[int | str]) -> Any:
    """The raw value at `path` in the input, or `MISSING`."""
    for part in path:
        if not isinstance(data, Mapping | list):
            return MISSING
        try:
            data = data[part]
        except (KeyError, IndexError, TypeError):
            return MISSING
    return data


def child(node: Any, part: int | str) -> tuple[Any, str | None]:
    """The type below `node` at key `part`, and its discriminator key if it is a tagged union."""
    if isinstance(node, type) and issubclass(node, BaseModel):
        field = node.model_fields.get(str(part))
        if field is None:
            return None, None
        discriminator = field.discriminator if isinstance(field.discriminator, str) else None
        return strip_none(field.annotation), discriminator
    args = get_args(node)
    if get_origin(node) is dict:
        return args[1], None
    if get_origin(node) is list:
        return args[0], None
    return None, None


def strip_none(annotation: Any) -> Any:
    """`X | None` -> X; other annotations unchanged."""
    if get_origin(annotation) in (Union, types.UnionType):
        members = [arg for arg in get_args(annotation) if arg is not type(None)]
        if len(members) == 1:
            return members[0]
    return annotation


def owner_model(root: type[BaseModel], path: list[int | str]) -> type[BaseModel] | None:
    """The model below `root` that holds the last key of `path`, if known (no unions)."""
    node: Any = root
    owner = None
    for part in path:
        owner = node if isinstance(node, type) and issubclass(node, BaseModel) else None
        node, _ = child(node, part)
    return owner


def describe(
    error: ErrorDetails,
    data: Any,
    path: list[int | str],
    owner: type[BaseModel] | None,
) -> tuple[list[int | str], str]:
    """The key path and the message of a pydantic error at `path` (the file's keys) in
    `data` (the input as written); `owner` is the model holding the last key, if known."""
    kind, ctx = error["type"], error.get("ctx", {})
    is_key = bool(path) and path[-1] == "[key]"
    if is_key:
        path = path[:-1]
    if kind == ERROR_TYPE:  # femcait's own message (also for a key it rejects)
        extra = ctx["path"].split(".") if ctx["path"] else []
        return [*path, *extra], ctx["detail"]
    if is_key:
        return path, f"got key {format_value(error['input'])}, expected a text string"
    value = lookup(data, path)
    shown = format_value(error["input"] if value is MISSING else value)
    if kind == "too_short":
        count, least = ctx["actual_length"], ctx["min_length"]
        return path, f"got {count} {_entries(count)}, must have at least {least}"
    if kind == "missing":
        return path, "missing required key"
    if kind == "extra_forbidden":
        allowed = ", ".join(owner.model_fields) if owner else "?"
        return path, f"unknown key {str(path[-1])!r} (allowed: {allowed})"
    if kind in _BOUNDS:
        bound = next(iter(ctx.values()))
        return path, f"got {shown}, must be {_BOUNDS[kind]} {bound:g}"
    if kind in _EXPECTED:
        return path, f"got {shown}, expected {_EXPECTED[kind]}"
    if kind == "literal_error":
        return path, f"got {shown}, must be {ctx['expected']}"
    return path, f"got {shown}: {error['msg']}"


def _entries(count: int) -> str:
    return "entry" if count == 1 else "entries"
