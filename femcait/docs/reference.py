"""The JSON schema of study files and the Markdown reference of every key, from the models.

Both documents are generated from the pydantic models of `femcait.study.schema`, so new
fields, new diffusion laws and new SED shapes appear without editing this module:

    python -m femcait.docs.reference          # writes both files
    python -m femcait.docs.reference --check  # exit 1 if either file is stale

The JSON schema (draft 2020-12) lets editors check and complete study files; the VS Code
YAML extension uses it for a study file whose first line is
`# yaml-language-server: $schema=femcait-study.schema.json` (a path relative to the file).
Quantities (see `femcait.study.units`) accept a number in SI units or a string with a unit;
their dimension is read from the `_quantity` validator of units.py.
"""

import argparse
import copy
import inspect
import json
import re
import sys
import types
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import annotated_types
from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaMode, JsonSchemaValue
from pydantic_core import CoreSchema

from femcait.study import units
from femcait.study.schema import Study
from femcait.sweep.expansion import SweepSection


class StudyFile(Study):
    """A study file: a study, optionally with a `sweep` section that makes it many cases."""

    sweep: SweepSection | None = None
    """Parameter sweep (see the README): each case is the study with these values set."""


ROOT = Path(__file__).parents[2]
"""The repository root (the generated files live there, not in the installed package)."""

MARKDOWN_PATH = Path("docs") / "study-reference.md"
"""The key reference, relative to the repository root."""

SCHEMA_PATH = Path("studies") / "femcait-study.schema.json"
"""The JSON schema, relative to the repository root."""

REGENERATE = "python -m femcait.docs.reference"
"""The command that writes both files."""

DIMENSION_KEY = "x-femcait-dimension"
"""JSON schema key marking a quantity (its pint dimension) until the notes are written."""

_JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
_BOUND_KEYWORDS = {
    "gt": "exclusiveMinimum",
    "ge": "minimum",
    "lt": "exclusiveMaximum",
    "le": "maximum",
}
_BOUND_SYMBOLS = {"gt": ">", "ge": ">=", "lt": "<", "le": "<="}


# --- quantities ----------------------------------------------------------------------------


def quantity_dimension(func: object) -> str | None:
    """The pint dimension checked by a quantity validator function, or None for other functions.

    Reads a `dimension` attribute if the function has one, else the `dimension` variable of
    the closure that `femcait.study.units._quantity` builds.
    """
    dimension = getattr(func, "dimension", None)
    if dimension is None and inspect.isfunction(func) and func.__module__ == units.__name__:
        dimension = inspect.getclosurevars(func).nonlocals.get("dimension")
    return dimension if isinstance(dimension, str) else None


def _dimension_noun(dimension: str) -> tuple[str, str]:
    """The noun (with article) and an example value of a dimension."""
    return units._DESCRIPTIONS.get(dimension, (f"a quantity of dimension {dimension}", ""))


def _dimension_name(dimension: str) -> str:
    """The dimension as a short type name: "length", "number density", ..."""
    noun, _ = _dimension_noun(dimension)
    return re.sub(r"^(a|an) ", "", noun)


def _format_number(value: float) -> str:
    """A bound or default number as it would be written in YAML."""
    return repr(value) if isinstance(value, float) else str(value)


def _bounds_text(bounds: dict[str, float]) -> list[str]:
    """Bounds as "> 0", "<= 2", in the order gt, ge, lt, le."""
    return [
        f"{_BOUND_SYMBOLS[name]} {_format_number(bounds[name])}"
        for name in _BOUND_SYMBOLS
        if name in bounds
    ]


def _quantity_note(dimension: str, bounds: dict[str, float]) -> str:
    """The sentence added to the description of a quantity key."""
    noun, example = _dimension_noun(dimension)
    if dimension == "dimensionless":
        note = "A plain number; a numeric string such as '1e-6' is accepted too."
    else:
        note = f"{noun[0].upper()}{noun[1:]}: a number in SI units or a string with a unit"
        note += f", e.g. '{example}'." if example else "."
    if bounds:
        note += f" Must be {' and '.join(_bounds_text(bounds))}."
    return note


# --- JSON schema ---------------------------------------------------------------------------


class StudyJsonSchema(GenerateJsonSchema):
    """Pydantic's JSON schema generator, with quantities as "number or string with a unit".

    Quantities validated by a `units._quantity` before-validator become
    `anyOf: [number, string]` marked with `DIMENSION_KEY`; bounds that pydantic keeps as
    non-standard `gt`/`ge`/`lt`/`le` keys (around validator functions) become
    `exclusiveMinimum`/`minimum`/... on the number branch. `generate` then moves the marks
    into the descriptions of the keys.
    """

    def generate(self, schema: CoreSchema, mode: JsonSchemaMode = "validation") -> JsonSchemaValue:
        """The JSON schema of a core schema, with quantity notes in the key descriptions."""
        json_schema = super().generate(schema, mode=mode)
        _finish_descriptions(json_schema)
        return json_schema

    def generate_inner(self, schema: Any) -> JsonSchemaValue:
        """Apply bounds wrapped around a validator function as standard keywords."""
        bounds, inner = _peel_bounds(schema)
        if not bounds:
            return super().generate_inner(schema)
        json_schema = copy.deepcopy(self.generate_inner(inner))
        _apply_bounds(json_schema, bounds)
        return json_schema

    def function_before_schema(self, schema: Any) -> JsonSchemaValue:
        """A quantity for a `_quantity` validator, else pydantic's schema."""
        return self._quantity_schema(schema) or super().function_before_schema(schema)

    def function_plain_schema(self, schema: Any) -> JsonSchemaValue:
        """A quantity for a `_quantity` validator, else pydantic's schema."""
        return self._quantity_schema(schema) or super().function_plain_schema(schema)

    def field_title_should_be_set(self, schema: Any) -> bool:
        """No titles on keys: the key names are the titles (and descriptions explain them)."""
        return False

    def _quantity_schema(self, schema: Any) -> JsonSchemaValue | None:
        """The schema of a quantity if `schema` runs a quantity validator, else None."""
        if self.mode == "validation" and "json_schema_input_schema" in schema:
            return None  # the validator states its input schema: pydantic renders it
        dimension = quantity_dimension(schema["function"]["function"])
        if dimension is None:
            return None
        return {
            "anyOf": [{"type": "number"}, {"type": "string", "pattern": r"\S"}],
            DIMENSION_KEY: dimension,
        }


def _peel_bounds(schema: Any) -> tuple[dict[str, Any], Any]:
    """Bounds of the function-after layers that only check bounds, and the schema inside."""
    bounds: dict[str, Any] = {}
    while (
        isinstance(schema, dict)
        and schema.get("type") == "function-after"
        and "ref" not in schema
        and set(schema.get("metadata", {})) == {"pydantic_js_updates"}
        and set(schema["metadata"]["pydantic_js_updates"]) <= set(_BOUND_KEYWORDS)
    ):
        bounds.update(schema["metadata"]["pydantic_js_updates"])
        schema = schema["schema"]
    return bounds, schema


def _apply_bounds(json_schema: JsonSchemaValue, bounds: dict[str, Any]) -> None:
    """Put bounds on the number branches of a schema (and into a quantity's note)."""
    if json_schema.get("type") in ("number", "integer"):
        for name, value in bounds.items():
            json_schema[_BOUND_KEYWORDS[name]] = value
    for branch in json_schema.get("anyOf", []):
        _apply_bounds(branch, bounds)
    if DIMENSION_KEY in json_schema:
        json_schema["x-femcait-bounds"] = {**json_schema.get("x-femcait-bounds", {}), **bounds}


def _subschemas(json_schema: JsonSchemaValue) -> Iterator[JsonSchemaValue]:
    """The schemas directly inside a schema that describe the same key (not its properties)."""
    for keyword in ("anyOf", "oneOf", "allOf", "prefixItems"):
        yield from json_schema.get(keyword, [])
    for keyword in ("items", "additionalProperties"):
        if isinstance(json_schema.get(keyword), dict):
            yield json_schema[keyword]


def _take_notes(json_schema: JsonSchemaValue) -> list[str]:
    """Remove the quantity marks inside a key's schema and return their notes."""
    notes = []
    if DIMENSION_KEY in json_schema:
        dimension = json_schema.pop(DIMENSION_KEY)
        notes.append(_quantity_note(dimension, json_schema.pop("x-femcait-bounds", {})))
    for sub in _subschemas(json_schema):
        notes.extend(note for note in _take_notes(sub) if note not in notes)
    # {anyOf: [{anyOf: [number, string]}, null]} -> {anyOf: [number, string, null]}
    if "anyOf" in json_schema:
        flat: list[JsonSchemaValue] = []
        for branch in json_schema["anyOf"]:
            flat.extend(branch["anyOf"] if set(branch) == {"anyOf"} else [branch])
        json_schema["anyOf"] = flat
    return notes


def _finish_descriptions(json_schema: JsonSchemaValue) -> None:
    """Move quantity marks into the descriptions of their keys; unwrap description lines."""
    schemas = [json_schema, *json_schema.get("$defs", {}).values()]
    while schemas:
        schema = schemas.pop()
        for sub in schema.get("properties", {}).values():
            schemas.append(sub)
        schemas.extend(_subschemas(schema))
        notes = _take_notes(schema)
        description = " ".join([schema.get("description", ""), *notes]).strip()
        if description:
            schema["description"] = _unwrap_lines(description)


def _unwrap_lines(text: str) -> str:
    """Docstring text with its line breaks removed (paragraph breaks are kept)."""
    return "\n\n".join(" ".join(part.split()) for part in re.split(r"\n\s*\n", text))


def study_json_schema(model: type[BaseModel] = StudyFile) -> dict[str, Any]:
    """The JSON schema (draft 2020-12) of study files, for editors and other tools."""
    body = model.model_json_schema(schema_generator=StudyJsonSchema, mode="validation")
    return {
        "$schema": _JSON_SCHEMA_DIALECT,
        "title": "femcait study file",
        **{key: value for key, value in body.items() if key != "title"},
        "description": (
            "A femcait study (YAML). Quantities are numbers in SI units or strings with a "
            f"unit such as '100 um'. Reference: docs/study-reference.md; "
            f"generated by `{REGENERATE}`."
        ),
    }


def study_json_schema_text(model: type[BaseModel] = StudyFile) -> str:
    """The JSON schema as the text of the schema file."""
    return json.dumps(study_json_schema(model), indent=2, ensure_ascii=False) + "\n"


# --- Markdown reference --------------------------------------------------------------------


@dataclass
class _Nested:
    """A model inside a key's type: its path suffix and the condition under which it applies."""

    suffix: str
    model: type[BaseModel]
    condition: str = ""


@dataclass
class _TypeInfo:
    """What the reference says about a type: its name, allowed values and models inside."""

    text: str
    allowed: list[str] = field(default_factory=list)
    nested: list[_Nested] = field(default_factory=list)


@dataclass
class _Row:
    """One key of the reference."""

    path: str
    type: str
    default: str
    allowed: str
    description: str


@dataclass
class _Section:
    """One model of the reference, at a path."""

    heading: str
    level: int
    doc: str
    rows: list[_Row] = field(default_factory=list)


def _flatten_metadata(metadata: Sequence[Any]) -> list[Any]:
    """Metadata with `Field(...)` objects replaced by their own metadata and discriminator."""
    flat: list[Any] = []
    for item in metadata:
        if isinstance(item, FieldInfo):
            flat.extend(_flatten_metadata(item.metadata))
            if item.discriminator is not None:
                flat.append(item)
        else:
            flat.append(item)
    return flat


def _unwrap(annotation: Any, metadata: Sequence[Any]) -> tuple[Any, list[Any]]:
    """The type inside `Annotated[...]` and all its metadata (field metadata included)."""
    collected = list(metadata)
    while get_origin(annotation) is Annotated:
        annotation, *extra = get_args(annotation)
        collected = [*extra, *collected]
    return annotation, _flatten_metadata(collected)


def _code(value: Any) -> str:
    """A YAML value in backticks."""
    if isinstance(value, BaseModel):
        return "all defaults" if value == type(value)() else _code(value.model_dump(mode="json"))
    if value is None:
        text = "null"
    elif isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, float):
        text = _format_number(value)
    elif isinstance(value, str) and value and value.strip() == value and ":" not in value:
        text = value
    else:
        text = json.dumps(value, ensure_ascii=False)
    return f"`{text}`"


def _discriminator_values(model: type[BaseModel], key: str) -> list[Any]:
    """The values of a union member's discriminator key (its Literal choices)."""
    info = model.model_fields.get(key)
    if info is None:
        return []
    annotation, _ = _unwrap(info.annotation, info.metadata)
    return list(get_args(annotation)) if get_origin(annotation) is Literal else []


_SCALARS: dict[Any, str] = {
    str: "text",
    int: "integer",
    float: "number",
    bool: "boolean",
    type(None): "null",
    Any: "any value",
}


@dataclass
class _Constraints:
    """What the metadata of an annotated type says about its values."""

    bounds: dict[str, Any] = field(default_factory=dict)
    min_length: int | None = None
    max_length: int | None = None
    dimension: str | None = None
    discriminator: str | None = None

    @classmethod
    def read(cls, metadata: Sequence[Any]) -> "_Constraints":
        """Collect bounds, lengths, a quantity dimension and a discriminator."""
        found = cls()
        for item in metadata:
            for name in _BOUND_SYMBOLS:
                if isinstance(getattr(item, name, None), int | float):
                    found.bounds[name] = getattr(item, name)
            if isinstance(item, annotated_types.MinLen):
                found.min_length = item.min_length
            if isinstance(item, annotated_types.MaxLen):
                found.max_length = item.max_length
            if isinstance(item, FieldInfo) and isinstance(item.discriminator, str):
                found.discriminator = item.discriminator
            found.dimension = quantity_dimension(getattr(item, "func", None)) or found.dimension
        return found

    def texts(self, noun: str) -> list[str]:
        """The constraints as "> 0", "at least 2 entries"; `noun` counts a length."""
        texts = _bounds_text(self.bounds)
        if self.min_length is not None:
            texts.append(f"at least {self.min_length} {noun}")
        if self.max_length is not None:
            texts.append(f"at most {self.max_length} {noun}")
        return texts


def _is_model(annotation: Any) -> bool:
    """Whether a type is a pydantic model class."""
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _describe_models(members: list[type[BaseModel]], discriminator: str | None) -> _TypeInfo:
    """A model, or a union of models chosen by a discriminator key."""
    if not discriminator:
        return _TypeInfo("mapping", nested=[_Nested("", model) for model in members])
    info = _TypeInfo(f"mapping, chosen by `{discriminator}`")
    choices = []
    for member in members:
        values = _discriminator_values(member, discriminator)
        choices.extend(_code(value) for value in values)
        condition = ", ".join(f"{discriminator}: {value}" for value in values)
        info.nested.append(_Nested("", member, condition))
    info.allowed.append(f"`{discriminator}`: " + ", ".join(choices))
    return info


def _describe(annotation: Any, metadata: Sequence[Any] = ()) -> _TypeInfo:
    """Describe a (possibly annotated) type for the reference."""
    annotation, meta = _unwrap(annotation, metadata)
    constraints = _Constraints.read(meta)
    origin, args = get_origin(annotation), get_args(annotation)
    members = [arg for arg in args if arg is not type(None)]
    noun = "characters"
    if _is_model(annotation):
        info = _describe_models([annotation], constraints.discriminator)
    elif origin in (Union, types.UnionType) and members and all(map(_is_model, members)):
        info = _describe_models(members, constraints.discriminator)
        if len(members) < len(args):
            info.text += " or null"
    elif origin in (Union, types.UnionType):
        parts = [_describe(arg) for arg in args]
        info = _TypeInfo(" or ".join(dict.fromkeys(part.text for part in parts)))
        for part in parts:
            info.allowed.extend(a for a in part.allowed if a not in info.allowed)
            info.nested.extend(part.nested)
    elif origin is Literal:
        kinds = dict.fromkeys(_SCALARS.get(type(arg), type(arg).__name__) for arg in args)
        info = _TypeInfo(" or ".join(kinds), allowed=[", ".join(_code(arg) for arg in args)])
    elif origin is dict or annotation is dict:
        key, value = (_describe(arg) for arg in args) if args else (_describe(Any),) * 2
        keys = "names" if key.text == "text" else f"{key.text} keys"
        info = _TypeInfo(f"mapping of {keys} to {value.text}")
        info.allowed = [f"values: {a}" for a in value.allowed]
        info.nested = [_Nested(f".<name>{n.suffix}", n.model, n.condition) for n in value.nested]
        noun = "entries"
    elif origin in (list, tuple, set, frozenset) or annotation in (list, tuple, set, frozenset):
        item = _describe(args[0]) if args else _describe(Any)
        info = _TypeInfo(f"list of {item.text}", allowed=[f"each {a}" for a in item.allowed])
        info.nested = [_Nested(f".<i>{n.suffix}", n.model, n.condition) for n in item.nested]
        noun = "items"
    elif constraints.dimension is not None:
        _, example = _dimension_noun(constraints.dimension)
        info = _TypeInfo(_dimension_name(constraints.dimension))
        info.text += f" (e.g. `{example}`)" if example else ""
    else:
        info = _TypeInfo(_SCALARS.get(annotation, getattr(annotation, "__name__", str(annotation))))
    info.allowed.extend(constraints.texts(noun))
    return info


def _one_line(text: str | None) -> str:
    """Text on one line, safe in a Markdown table cell."""
    return " ".join((text or "").split()).replace("|", "\\|")


def _model_doc(model: type[BaseModel]) -> str:
    """A model's own docstring (not inherited), cleaned up."""
    doc = model.__dict__.get("__doc__")
    return inspect.cleandoc(doc) if doc else ""


def _walk(
    model: type[BaseModel],
    path: str,
    heading: str,
    level: int,
    sections: list[_Section],
    seen: tuple[type[BaseModel], ...] = (),
) -> None:
    """Add the section of `model` at `path` and, after it, the sections of its nested models."""
    section = _Section(heading, level, _model_doc(model))
    sections.append(section)
    children: list[tuple[str, _Nested]] = []
    for name, info in model.model_fields.items():
        key = f"{path}.{name}" if path else name
        described = _describe(info.annotation, [info])
        if info.is_required():
            default = "required"
        else:
            default = _code(info.get_default(call_default_factory=True, validated_data={}))
        description = info.description
        if not description and described.nested:
            description = _model_doc(described.nested[0].model).split("\n\n")[0]
        section.rows.append(
            _Row(
                f"`{key}`",
                _one_line(described.text),
                default,
                _one_line("; ".join(described.allowed)),
                _one_line(description),
            )
        )
        children.extend((key, nested) for nested in described.nested)
    for key, nested in children:
        if nested.model in seen:
            continue  # a recursive model: its keys are listed above
        child_path = key + nested.suffix
        child_heading = f"`{child_path}`" + (f" ({nested.condition})" if nested.condition else "")
        _walk(nested.model, child_path, child_heading, min(level + 1, 6), sections, (*seen, model))


def _intro() -> list[str]:
    """The explanation at the top of the reference."""
    examples = ", ".join(
        f"`{example}` ({noun.split(' ', 1)[1]})"
        for noun, example in units._DESCRIPTIONS.values()
        if example
    )
    return [
        "# Study file reference",
        "",
        f"<!-- Generated from femcait/study/schema.py by `{REGENERATE}`; do not edit. -->",
        "",
        "Every key of a femcait study file (YAML), as a dotted path from the top of the file.",
        "`<name>` stands for a key you choose (such as a species name) and `<i>` for a list",
        "position. Where a key such as `law` or `shape` selects among alternatives, each",
        "alternative has its own subsection. Unknown keys are errors.",
        "",
        "Quantities are a bare number in SI units (m, s, V, J, K, m^-3, m^2/s, A/m^2) or a",
        f"string with a unit: {examples}. Bounds apply to the value in SI units.",
        "",
        f"Editors can check study files against the JSON schema `{SCHEMA_PATH.as_posix()}`;",
        "for the VS Code YAML extension, start a study file in `studies/` with",
        "",
        "```yaml",
        f"# yaml-language-server: $schema={SCHEMA_PATH.name}",
        "```",
    ]


def key_reference_markdown(model: type[BaseModel] = StudyFile) -> str:
    """The Markdown reference of every key of a study file, generated from the models."""
    sections: list[_Section] = []
    _walk(model, "", "Top level", 2, sections)
    lines = _intro()
    for section in sections:
        lines += ["", f"{'#' * section.level} {section.heading}", ""]
        if section.doc:
            lines += [section.doc, ""]
        lines += [
            "| Key | Type | Default | Allowed values | Description |",
            "| --- | --- | --- | --- | --- |",
        ]
        lines += [
            f"| {r.path} | {r.type} | {r.default} | {r.allowed} | {r.description} |"
            for r in section.rows
        ]
    return "\n".join(lines) + "\n"


# --- command line --------------------------------------------------------------------------


def generated_files() -> dict[Path, Callable[[], str]]:
    """The generated files (absolute paths) and the functions that make their text."""
    return {
        ROOT / MARKDOWN_PATH: key_reference_markdown,
        ROOT / SCHEMA_PATH: study_json_schema_text,
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Write the reference and the schema, or with --check report whether they are stale."""
    parser = argparse.ArgumentParser(
        prog=REGENERATE,
        description=f"Write {MARKDOWN_PATH.as_posix()} and {SCHEMA_PATH.as_posix()} "
        "from the study models.",
    )
    parser.add_argument(
        "--check", action="store_true", help="write nothing; exit 1 if a file is out of date"
    )
    args = parser.parse_args(argv)
    texts = {path: make() for path, make in generated_files().items()}
    if args.check:
        stale = [
            path.relative_to(ROOT).as_posix()
            for path, text in texts.items()
            if not path.is_file() or path.read_text(encoding="utf-8") != text
        ]
        if stale:
            print(
                f"out of date: {', '.join(stale)}; regenerate with `{REGENERATE}`",
                file=sys.stderr,
            )
            return 1
        return 0
    for path, text in texts.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8", newline="\n")
        print(f"wrote {path.relative_to(ROOT).as_posix()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
