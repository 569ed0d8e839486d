"""Loading study files: YAML -> validated `Study`, with readable errors.

Every problem becomes a `StudyError` whose message has one line per problem, e.g.
`study.yaml: species.Li.diffusion.D_bulk: got -1e-18, must be > 0`.
"""

import os
import types
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Union, get_args, get_origin

import yaml
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from femcait.errors import StudyError
from femcait.study.schema import Study
from femcait.study.units import ERROR_TYPE, format_value

_MISSING = object()

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


class _DuplicateKeyError(yaml.YAMLError):
    """A mapping in the YAML file has the same key twice."""


class _StudyLoader(yaml.SafeLoader):
    """A SafeLoader that rejects duplicate keys in mappings."""

    def construct_document(self, node: yaml.Node) -> Any:
        _check_unique_keys(node, (), set())
        return super().construct_document(node)


def _check_unique_keys(node: yaml.Node, path: tuple[str, ...], seen_nodes: set[int]) -> None:
    """Raise `_DuplicateKeyError` if a mapping below `node` repeats a key."""
    if id(node) in seen_nodes:  # an alias of a node already checked
        return
    seen_nodes.add(id(node))
    if isinstance(node, yaml.MappingNode):
        first_seen: dict[str, str] = {}
        for key_node, value_node in node.value:
            key = str(key_node.value) if isinstance(key_node, yaml.ScalarNode) else "?"
            mark = key_node.start_mark
            where = f"line {mark.line + 1}, column {mark.column + 1}"
            if isinstance(key_node, yaml.ScalarNode) and key in first_seen:
                raise _DuplicateKeyError(
                    f"{'.'.join((*path, key))}: duplicate key {key!r} at {where} "
                    f"(first given at {first_seen[key]})"
                )
            first_seen.setdefault(key, where)
            _check_unique_keys(value_node, (*path, key), seen_nodes)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _check_unique_keys(item, (*path, str(index)), seen_nodes)


def load_study(path: str | os.PathLike[str]) -> Study:
    """Read and validate a YAML study file; raise `StudyError` on any problem."""
    return study_from_dict(load_yaml(path), str(path), base_dir=Path(path).parent)


def load_yaml(path: str | os.PathLike[str]) -> Any:
    """Read a YAML study file (duplicate keys are errors); raise `StudyError` on a problem."""
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise StudyError(f"{source}: file not found") from None
    except IsADirectoryError:
        raise StudyError(f"{source}: is a directory, not a study file") from None
    except UnicodeDecodeError:
        raise StudyError(f"{source}: not a UTF-8 text file") from None
    except OSError as exc:
        raise StudyError(f"{source}: cannot read the file ({exc.strerror})") from None
    try:
        data = yaml.load(text, Loader=_StudyLoader)
    except yaml.MarkedYAMLError as exc:
        raise StudyError(f"{source}: {_yaml_message(exc)}") from None
    except yaml.YAMLError as exc:
        raise StudyError(f"{source}: {exc}") from None
    return data


def study_from_dict(
    data: dict[str, Any], source: str = "<dict>", base_dir: str | os.PathLike[str] | None = None
) -> Study:
    """Validate a study given as a dict (keys as in a study file); raise `StudyError`.

    Files the study names (CSV tables) are relative to ``base_dir`` (default: the current
    directory).
    """
    if data is None:
        raise StudyError(f"{source}: the study is empty")
    if not isinstance(data, dict):
        raise StudyError(
            f"{source}: the top level must be a mapping of keys "
            f"({', '.join(Study.model_fields)}), got {format_value(data)}"
        )
    try:
        return Study.model_validate(data, context={"base_dir": base_dir})
    except ValidationError as exc:
        lines = [f"{source}: {_describe(error, data)}" for error in exc.errors()]
        raise StudyError("\n".join(lines)) from None


def _yaml_message(exc: yaml.MarkedYAMLError) -> str:
    """One line for a YAML syntax error."""
    mark = exc.problem_mark or exc.context_mark
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
    problem = exc.problem or "syntax error"
    if exc.context:
        problem += f" ({exc.context})"
    return f"invalid YAML{where}: {problem}"


def _describe(error: ErrorDetails, data: dict[str, Any]) -> str:
    """One line for a pydantic error: the dotted key path, the value and what is allowed."""
    path, owner = _key_path(error["loc"])
    kind, ctx = error["type"], error.get("ctx", {})
    value = _lookup(data, path)
    if value is _MISSING:
        value = error["input"]
    shown = format_value(value)
    if path and path[-1] == "[key]":
        path = path[:-1]
        message = f"got key {format_value(error['input'])}, expected a text string"
    elif kind == ERROR_TYPE:
        if ctx["path"]:
            path = [*path, *ctx["path"].split(".")]
        message = ctx["detail"]
    elif kind in ("union_tag_invalid", "union_tag_not_found"):
        key = ctx["discriminator"].strip("'")
        path = [*path, key]
        message = (
            f"got {format_value(ctx['tag'])}, must be one of {ctx['expected_tags']}"
            if kind == "union_tag_invalid"
            else "missing required key"
        )
    elif kind == "too_short":
        count, least = ctx["actual_length"], ctx["min_length"]
        message = f"got {count} {'entry' if count == 1 else 'entries'}, must have at least {least}"
    else:
        message = common_message(error, path, owner, shown)
    experiment = data.get("experiment")
    if [str(p) for p in path[:3]] == ["experiment", "stages", "0"] and not (
        isinstance(experiment, dict) and "stages" in experiment
    ):  # a single-stage experiment: its keys are directly under `experiment`
        path = ["experiment", *path[3:]]
    return f"{'.'.join(map(str, path)) or '(top level)'}: {message}"


def common_message(
    error: ErrorDetails, path: list[int | str], owner: type[BaseModel] | None, shown: str
) -> str:
    """The message of the pydantic errors that read alike everywhere (missing and unknown
    keys, bounds, types, literal choices); `shown` is the offending value as written."""
    kind, ctx = error["type"], error.get("ctx", {})
    if kind == "missing":
        return "missing required key"
    if kind == "extra_forbidden":
        allowed = ", ".join(owner.model_fields) if owner else "?"
        return f"unknown key {str(path[-1])!r} (allowed: {allowed})"
    if kind in _BOUNDS:
        bound = next(iter(ctx.values()))
        return f"got {shown}, must be {_BOUNDS[kind]} {bound:g}"
    if kind in _EXPECTED:
        return f"got {shown}, expected {_EXPECTED[kind]}"
    if kind == "literal_error":
        return f"got {shown}, must be {ctx['expected']}"
    return f"got {shown}: {error['msg']}"


def _key_path(loc: tuple[int | str, ...]) -> tuple[list[int | str], type[BaseModel] | None]:
    """Turn a pydantic error location into a key path of the study file.

    Discriminated-union tags (e.g. the "sed" in `diffusion.sed.D_bulk`) are not keys of the
    file and are dropped. Also returns the model that holds the last key, if known.
    """
    path: list[int | str] = []
    owner: type[BaseModel] | None = None
    node: Any = Study
    tag_key: str | None = None  # discriminator whose tag comes next in loc
    for part in loc:
        if tag_key is not None:
            node = _union_member(node, tag_key, part)
            tag_key = None
            continue
        path.append(part)
        owner = node if isinstance(node, type) and issubclass(node, BaseModel) else None
        node, tag_key = _child(node, part)
    return path, owner


def _child(node: Any, part: int | str) -> tuple[Any, str | None]:
    """The type below `node` at key `part`, and its discriminator key if it is a tagged union."""
    if isinstance(node, type) and issubclass(node, BaseModel):
        field = node.model_fields.get(str(part))
        if field is None:
            return None, None
        discriminator = field.discriminator if isinstance(field.discriminator, str) else None
        return _strip_none(field.annotation), discriminator
    args = get_args(node)
    if get_origin(node) is dict:
        return args[1], None
    if get_origin(node) is list:
        return args[0], None
    return None, None


def _strip_none(annotation: Any) -> Any:
    """`X | None` -> X; other annotations unchanged."""
    if get_origin(annotation) in (Union, types.UnionType):
        members = [arg for arg in get_args(annotation) if arg is not type(None)]
        if len(members) == 1:
            return members[0]
    return annotation


def _union_member(union: Any, key: str, tag: int | str) -> Any:
    """The model in a tagged union whose discriminator `key` has the value `tag`."""
    members = get_args(union) if get_origin(union) in (Union, types.UnionType) else (union,)
    for member in members:
        field = getattr(member, "model_fields", {}).get(key)
        if field is not None and tag in get_args(field.annotation):
            return member
    return None


def _lookup(data: Any, path: list[int | str]) -> Any:
    """The raw value at `path` in the input, or `_MISSING`."""
    for part in path:
        if not isinstance(data, Mapping | list):
            return _MISSING
        try:
            data = data[part]
        except (KeyError, IndexError, TypeError):
            return _MISSING
    return data
