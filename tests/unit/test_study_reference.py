"""The generated JSON schema and Markdown key reference of study files."""

import copy
import json
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

import pytest
import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from femcait.docs import reference
from femcait.docs.reference import (
    DIMENSION_KEY,
    key_reference_markdown,
    main,
    study_json_schema,
    study_json_schema_text,
)
from femcait.study.schema import Study
from femcait.study.units import Length, Number, PositiveEnergy
from tests.conftest import shipped_study_files

ROOT = Path(__file__).parents[2]
STUDY_FILES = shipped_study_files()  # sweeps included


def _reachable_models(model: type[BaseModel]) -> list[type[BaseModel]]:
    """Every model reachable from `model` through its field types (independent of the module)."""
    found: list[type[BaseModel]] = []

    def visit(annotation: Any) -> None:
        if (
            isinstance(annotation, type)
            and issubclass(annotation, BaseModel)
            and annotation not in found
        ):
            found.append(annotation)
            for info in annotation.model_fields.values():
                visit(info.annotation)
        for arg in get_args(annotation):
            visit(arg)

    visit(model)
    return found


def _default_study() -> dict[str, Any]:
    """The default study file as loaded from YAML."""
    path = ROOT / "studies" / "li3b7o12_k_cait.yaml"
    return yaml.safe_load(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def validator() -> Any:
    """A jsonschema validator of the study schema (checked against the 2020-12 meta-schema)."""
    jsonschema = pytest.importorskip("jsonschema")
    schema = study_json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


# --- JSON schema ---------------------------------------------------------------------------


def test_shipped_studies_are_found() -> None:
    assert ROOT / "studies" / "li3b7o12_k_cait.yaml" in STUDY_FILES


@pytest.mark.parametrize("path", STUDY_FILES, ids=lambda path: path.name)
def test_schema_accepts_shipped_studies(validator: Any, path: Path) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(data)]
    assert errors == []


def test_schema_accepts_si_numbers_and_numeric_strings(validator: Any) -> None:
    data = _default_study()
    data["glass"]["thickness"] = 1e-4
    data["glass"]["n_bg"] = "1.4e28"
    data["time"] = {"scheme": "euler", "dt_max": None}
    assert list(validator.iter_errors(data)) == []


@pytest.mark.parametrize(
    ("change", "keyword"),
    [
        (lambda d: d.update(colour="red"), "additionalProperties"),
        (lambda d: d["glass"].update(colour="red"), "additionalProperties"),
        (lambda d: d["species"]["K"]["diffusion"].update(colour="red"), "oneOf"),
        (lambda d: d.update(time={"scheme": "rk4"}), "enum"),
        (lambda d: d["species"]["K"]["diffusion"].update(law="arrhenius"), "oneOf"),
        (lambda d: d["glass"].update(thickness=-1e-4), "anyOf"),
        (lambda d: d["glass"].update(thickness=True), "anyOf"),
        (lambda d: d["glass"].pop("n_bg"), "required"),
        (lambda d: d["species"].pop("K"), "minProperties"),
    ],
    ids=[
        "unknown-top",
        "unknown-glass",
        "unknown-diffusion",
        "scheme-rk4",
        "law",
        "negative",
        "boolean",
        "missing",
        "one-species",
    ],
)
def test_schema_rejects_invalid_studies(validator: Any, change: Any, keyword: str) -> None:
    data = _default_study()
    change(data)
    errors = list(validator.iter_errors(data))
    assert errors, "the schema accepted an invalid study"
    assert keyword in {error.validator for error in errors}


def test_quantities_accept_number_or_string_with_unit_note() -> None:
    schema = study_json_schema()
    thickness = schema["$defs"]["Glass"]["properties"]["thickness"]
    assert thickness["anyOf"][0] == {"type": "number", "exclusiveMinimum": 0}
    assert thickness["anyOf"][1]["type"] == "string"
    assert "A length" in thickness["description"]
    assert "'100 um'" in thickness["description"]
    assert "Must be > 0" in thickness["description"]
    optional = schema["$defs"]["TimeSettings"]["properties"]["dt_max"]
    assert [branch["type"] for branch in optional["anyOf"]] == ["number", "string", "null"]
    assert DIMENSION_KEY not in json.dumps(schema)
    for bound in ('"gt"', '"ge"', '"lt"', '"le"'):
        assert bound not in json.dumps(schema)  # only standard JSON schema keywords


def test_discriminated_unions_are_one_of_with_const() -> None:
    schema = study_json_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["title"]
    diffusion = schema["$defs"]["Species"]["properties"]["diffusion"]
    laws = {}
    for choice in diffusion["oneOf"]:
        law = schema["$defs"][choice["$ref"].rsplit("/", 1)[1]]
        laws[law["properties"]["law"]["const"]] = law
    assert {"sed", "constant"} <= set(laws)
    shapes = set()
    for choice in laws["sed"]["properties"]["sed"]["oneOf"]:
        shape = schema["$defs"][choice["$ref"].rsplit("/", 1)[1]]
        shapes.add(shape["properties"]["shape"]["const"])
    assert "gaussian" in shapes


def test_json_schema_is_deterministic() -> None:
    assert study_json_schema() == study_json_schema()
    assert study_json_schema_text() == study_json_schema_text()


# --- Markdown reference --------------------------------------------------------------------


def test_markdown_lists_every_field_of_every_model() -> None:
    markdown = key_reference_markdown()
    models = _reachable_models(Study)
    assert len(models) >= 10
    missing = [
        f"{model.__name__}.{name}"
        for model in models
        for name in model.model_fields
        if f".{name}` |" not in markdown and f"| `{name}` |" not in markdown
    ]
    assert missing == []


def test_markdown_paths_types_defaults_and_bounds() -> None:
    markdown = key_reference_markdown()
    assert markdown.startswith("# Study file reference\n")
    assert markdown == key_reference_markdown()
    rows = {line.split(" | ")[0][2:]: line for line in markdown.splitlines() if "| `" in line}
    assert "length (e.g. `100 um`) | required | > 0 |" in rows["`glass.thickness`"]
    assert "| `300.0` |" in rows["`glass.temperature`"]
    assert "diffusion coefficient" in rows["`species.<name>.diffusion.D_bulk`"]
    assert "`auto`, `bdf2`, `euler`" in rows["`time.scheme`"]
    assert "> 1; <= 2" in rows["`mesh.growth`"]
    assert "at least 2 entries" in rows["`species`"]
    assert "`law`: `sed`, `constant`" in rows["`species.<name>.diffusion`"]
    assert "#### `species.<name>.diffusion` (law: sed)" in markdown
    assert "#### `species.<name>.diffusion` (law: constant)" in markdown
    assert "`species.<name>.diffusion.sed` (shape: gaussian)" in markdown
    assert "`species.<name>.diffusion.sed.fwhm`" in rows


# --- generic over new fields and union members ---------------------------------------------


def _dimension(dimension: str) -> Any:
    """A quantity the way units.py could declare it with an explicit JSON input schema."""
    return BeforeValidator(
        lambda value: value,
        json_schema_input_type=Annotated[
            float | str, Field(json_schema_extra={DIMENSION_KEY: dimension})
        ],
    )


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)


class _Flat(_Strict):
    """A flat shape."""

    shape: Literal["flat"]
    """Discriminator."""
    level: PositiveEnergy
    """Its level."""


class _Steps(_Strict):
    """A shape in steps."""

    shape: Literal["steps"]
    """Discriminator."""
    widths: Annotated[list[Annotated[Length, Field(ge=0)]], Field(min_length=1)]
    """Step widths."""
    layers: list[_Flat] = []
    """Layers."""


class _Toy(_Strict):
    """A toy study."""

    items: dict[str, Annotated[_Flat | _Steps, Field(discriminator="shape")]]
    """Shapes by name."""
    depth: Annotated[float, _dimension("[length]"), Field(gt=0, le=1)] = 0.5
    """A depth."""
    ratio: Number | None = None
    """A ratio."""


def test_generators_follow_new_models_and_union_members() -> None:
    markdown = key_reference_markdown(_Toy)
    assert "`items.<name>` (shape: flat)" in markdown
    assert "`items.<name>` (shape: steps)" in markdown
    assert "| `items.<name>.level` | energy (e.g. `0.25 eV`) | required | > 0 |" in markdown
    assert "| `items.<name>.widths` | list of length (e.g. `100 um`) |" in markdown
    assert "each >= 0; at least 1 items" in markdown
    assert "`items.<name>.layers.<i>`" in markdown
    assert "| `ratio` | number or null | `null` |" in markdown
    schema = study_json_schema(_Toy)
    one_of = schema["properties"]["items"]["additionalProperties"]["oneOf"]
    assert len(one_of) == 2
    depth = schema["properties"]["depth"]
    assert depth["anyOf"][0] == {"type": "number", "exclusiveMinimum": 0, "maximum": 1}
    assert "A length" in depth["description"] and "Must be > 0 and <= 1" in depth["description"]
    widths = schema["$defs"]["_Steps"]["properties"]["widths"]
    assert widths["items"]["anyOf"][0] == {"type": "number", "minimum": 0}


# --- command line --------------------------------------------------------------------------


def test_committed_files_are_up_to_date(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--check"]) == 0, capsys.readouterr().err


def test_check_names_stale_files_and_writing_fixes_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(reference, "ROOT", tmp_path)
    assert main(["--check"]) == 1
    err = capsys.readouterr().err
    assert "docs/study-reference.md" in err
    assert "studies/femcait-study.schema.json" in err
    assert "python -m femcait.docs.reference" in err
    assert not (tmp_path / "docs").exists()  # --check writes nothing

    assert main([]) == 0
    assert main(["--check"]) == 0
    schema_file = tmp_path / "studies" / "femcait-study.schema.json"
    assert json.loads(schema_file.read_text(encoding="utf-8")) == study_json_schema()

    stale = copy.deepcopy(study_json_schema())
    stale["title"] = "old"
    schema_file.write_text(json.dumps(stale), encoding="utf-8")
    capsys.readouterr()
    assert main(["--check"]) == 1
    err = capsys.readouterr().err
    assert "studies/femcait-study.schema.json" in err
    assert "docs/study-reference.md" not in err
