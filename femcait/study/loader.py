"""Loading study files: YAML -> validated `Study`, with readable errors.

Every problem becomes a `StudyError` whose message has one line per problem, e.g.
`study.yaml: species.Li.diffusion.D_bulk: got -1e-18, must be > 0`.
"""

import os
import types
from pathlib import Path
from typing import Any, Union, get_args, get_origin

import yaml
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from femcait.errors import StudyError
from femcait.study.messages import child, describe
from femcait.study.schema import Study
from femcait.study.units import format_value
from femcait.study.yaml_file import read_yaml_file


def load_study(path: str | os.PathLike[str]) -> Study:
    """Read and validate a YAML study file; raise `StudyError` on any problem."""
    return study_from_dict(load_yaml(path), str(path), base_dir=Path(path).parent)


def load_yaml(path: str | os.PathLike[str]) -> Any:
    """Read a YAML study file (see `femcait.study.yaml_file` for its limits); raise
    `StudyError` on a problem."""
    source = str(path)
    try:
        return read_yaml_file(Path(path))
    except FileNotFoundError:
        raise StudyError(f"{source}: file not found") from None
    except IsADirectoryError:
        raise StudyError(f"{source}: is a directory, not a study file") from None
    except UnicodeDecodeError:
        raise StudyError(f"{source}: not a UTF-8 text file") from None
    except OSError as exc:
        raise StudyError(f"{source}: cannot read the file ({exc.strerror or exc})") from None
    except yaml.MarkedYAMLError as exc:
        raise StudyError(f"{source}: {_yaml_message(exc)}") from None
    except yaml.YAMLError as exc:
        raise StudyError(f"{source}: {exc}") from None


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
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        key = ctx["discriminator"].strip("'")
        path = [*path, key]
        message = (
            f"got {format_value(ctx['tag'])}, must be one of {ctx['expected_tags']}"
            if kind == "union_tag_invalid"
            else "missing required key"
        )
    else:
        path, message = describe(error, data, path, owner)
    experiment = data.get("experiment")
    if [str(p) for p in path[:3]] == ["experiment", "stages", "0"] and not (
        isinstance(experiment, dict) and "stages" in experiment
    ):  # a single-stage experiment: its keys are directly under `experiment`
        path = ["experiment", *path[3:]]
    return f"{'.'.join(map(str, path)) or '(top level)'}: {message}"


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
        node, tag_key = child(node, part)
    return path, owner


def _union_member(union: Any, key: str, tag: int | str) -> Any:
    """The model in a tagged union whose discriminator `key` has the value `tag`."""
    members = get_args(union) if get_origin(union) in (Union, types.UnionType) else (union,)
    for member in members:
        field = getattr(member, "model_fields", {}).get(key)
        if field is not None and tag in get_args(field.annotation):
            return member
    return None
