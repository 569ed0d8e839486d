"""Tests of the study schema, the unit handling and the study loader."""

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from femcait.errors import FemcaitError, StudyError
from femcait.study import Study, load_study, study_from_dict
from femcait.study.units import to_si

DEFAULT_STUDY = Path(__file__).parents[2] / "studies" / "li3b7o12_k_cait.yaml"
EV = 1.602176634e-19


@pytest.fixture
def default_data() -> dict[str, Any]:
    """The default study file as a plain dict (values as written, with units)."""
    return yaml.safe_load(DEFAULT_STUDY.read_text(encoding="utf-8"))


def write_study(tmp_path: Path, data: Any) -> Path:
    """Write `data` as a YAML study file and return its path."""
    path = tmp_path / "study.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def load_error(path: Path) -> str:
    """Load a study that must be invalid and return the error message."""
    with pytest.raises(StudyError) as info:
        load_study(path)
    return str(info.value)


# --- the default study -------------------------------------------------------------------


def test_default_study_values_in_si() -> None:
    study = load_study(DEFAULT_STUDY)
    assert study.name == "li3b7o12_k_cait"
    assert study.glass.thickness == 1e-4
    assert study.glass.temperature == 300.0
    assert study.glass.n_bg == 1.4e28
    assert study.glass.eps_r == 8.0
    assert list(study.species) == ["Li", "K"]
    assert study.native == "Li"
    assert study.foreign == ["K"]
    li = study.species["Li"].diffusion
    assert li.law == "sed"
    assert li.D_bulk == 4.6e-18
    assert li.sed.fwhm == pytest.approx(0.25 * EV, rel=1e-15)
    assert li.sed.shape_model().fwhm_eV == pytest.approx(0.25, rel=1e-15)
    assert li.sed.vacancy_fraction == 0.10
    assert li.n_min_frac == 1e-6
    assert li.above_bulk == "clamp"
    k = study.species["K"]
    assert (k.role, k.charge, k.diffusion.law, k.diffusion.D) == ("foreign", 1, "constant", 2.6e-21)
    experiment = study.experiment.stages[0]
    assert len(study.experiment.stages) == 1
    assert experiment.beam == "K"
    assert experiment.mode == "potentiostatic"
    assert experiment.surface_potential == 5.0
    assert experiment.current_density is None
    assert experiment.front_density == 1.4e28  # null in the file: resolved to n_bg
    assert experiment.duration == 10800.0
    assert experiment.output_times == [600.0, 1800.0, 3600.0, 10800.0]


def test_defaults_of_optional_sections() -> None:
    study = load_study(DEFAULT_STUDY)
    assert study.mesh.length_unit == 1e-9
    assert study.mesh.adapt is True  # auto: adaptive in 1D
    assert study.mesh.fine_cell == 4e-9  # automatic: the adaptive base mesh
    assert study.mesh.adapt_tolerance == 0.2
    assert study.mesh.first_cell is None
    assert study.mesh.growth == 1.08
    assert study.mesh.fine_growth == 1.005
    assert study.time.scheme == "auto"
    assert study.time.tolerance == 5e-3  # automatic: on an adaptive mesh
    assert study.time.max_growth == 2.0
    assert study.solver.petsc_options == {}
    assert study.solver.max_newton_iterations == 15
    assert study.output.plateau_min_depth == 2e-9
    assert study.output.imbalance_exclusion_depth == 1e-9
    assert study.output.vtx is False


def test_study_is_frozen() -> None:
    study = load_study(DEFAULT_STUDY)
    with pytest.raises(ValueError, match="frozen"):
        study.glass.thickness = 1.0


# --- units ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "dimension", "si"),
    [
        ("3 h", "[time]", 10800.0),
        ("10800 s", "[time]", 10800.0),
        ("100 um", "[length]", 1e-4),
        ("0.25 nm", "[length]", 0.25e-9),
        ("0.25 eV", "[energy]", 0.25 * EV),
        ("250 meV", "[energy]", 0.25 * EV),
        ("5 V", "[electric_potential]", 5.0),
        ("300 K", "[temperature]", 300.0),
        ("1.4e28 m^-3", "1/[length]**3", 1.4e28),
        ("1.4e22 cm^-3", "1/[length]**3", 1.4e28),
        ("2.6e-21 m^2/s", "[length]**2/[time]", 2.6e-21),
        ("1e-4 cm^2/s", "[length]**2/[time]", 1e-8),
        ("10 uA/cm^2", "[current]/[length]**2", 0.1),
        ("10 %", "dimensionless", 0.1),
    ],
)
def test_units_convert_to_si(text: str, dimension: str, si: float) -> None:
    assert to_si(text, dimension, "key") == pytest.approx(si, rel=1e-14)


@pytest.mark.parametrize(("value", "si"), [(5, 5.0), (2.5e-9, 2.5e-9), ("1.4e28", 1.4e28)])
def test_bare_numbers_are_si(value: object, si: float) -> None:
    assert to_si(value, "[length]", "key") == si


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (True, "got true, expected a length"),
        ("5 V", "got '5 V', expected a length (e.g. '100 um')"),
        ("five metres", "got 'five metres', expected a length"),
        ("", "expected a length"),
        (float("nan"), "must be a finite number"),
        ([1], "expected a length"),
    ],
)
def test_to_si_rejects(value: object, expected: str) -> None:
    with pytest.raises(ValueError, match="thickness: ") as info:
        to_si(value, "[length]", "thickness")
    assert expected in str(info.value)


def test_bare_numbers_in_a_study_are_si(default_data: dict[str, Any]) -> None:
    default_data["glass"].update(thickness=1e-4, n_bg="1.4e28", temperature=300)
    default_data["species"]["Li"]["diffusion"]["sed"]["fwhm"] = 0.25 * EV
    default_data["experiment"].update(duration=10800, output_times=[600, 1800, 3600, 10800])
    assert study_from_dict(default_data) == load_study(DEFAULT_STUDY)


# --- resolution and round trip -------------------------------------------------------------


def test_resolved_dict_round_trip(tmp_path: Path) -> None:
    study = load_study(DEFAULT_STUDY)
    resolved = study.to_resolved_dict()
    assert json.loads(json.dumps(resolved)) == resolved
    assert resolved["glass"]["thickness"] == 1e-4
    assert resolved["experiment"]["front_density"] == 1.4e28
    assert resolved["mesh"]["fine_cell"] == 4e-9  # the adaptive base mesh's
    assert study_from_dict(resolved) == study
    assert load_study(write_study(tmp_path, resolved)) == study


def test_output_times_get_the_duration(default_data: dict[str, Any]) -> None:
    default_data["experiment"]["output_times"] = ["10 min", "0.5 h"]
    assert study_from_dict(default_data).experiment.output_times == [600.0, 1800.0, 10800.0]
    del default_data["experiment"]["output_times"]
    assert study_from_dict(default_data).experiment.output_times == [10800.0]


def test_explicit_front_density_and_species_order(default_data: dict[str, Any]) -> None:
    default_data["experiment"]["front_density"] = "7e27 m^-3"
    default_data["species"] = dict(reversed(default_data["species"].items()))
    study = study_from_dict(default_data)
    assert study.experiment.stages[0].front_density == 7e27
    assert list(study.species) == ["K", "Li"]
    assert list(study.to_resolved_dict()["species"]) == ["K", "Li"]


def test_galvanostatic_study(default_data: dict[str, Any]) -> None:
    experiment = default_data["experiment"]
    del experiment["surface_potential"]
    experiment.update(mode="galvanostatic", current_density="10 uA/cm^2")
    study = study_from_dict(default_data)
    assert study.experiment.stages[0].current_density == pytest.approx(0.1, rel=1e-14)
    assert study.experiment.stages[0].surface_potential is None
    assert study_from_dict(study.to_resolved_dict()) == study


def test_optional_settings(default_data: dict[str, Any]) -> None:
    default_data["mesh"] = {"first_cell": "0.01 nm", "growth": 1.2}
    default_data["time"] = {"dt_initial": "1 ms", "dt_min": "1 us", "dt_max": "10 min"}
    default_data["solver"] = {"petsc_options": {"ksp_type": "preonly", "snes_rtol": 1e-10}}
    default_data["output"] = None  # an empty section means defaults
    study = study_from_dict(default_data)
    assert study.mesh.first_cell == pytest.approx(1e-11, rel=1e-14)
    assert study.time.dt_min == pytest.approx(1e-6, rel=1e-14)
    assert study.time.dt_max == 600.0
    assert study.solver.petsc_options == {"ksp_type": "preonly", "snes_rtol": 1e-10}
    assert study.output.vtx is False


# --- invalid studies -----------------------------------------------------------------------


MESH_FILE = Path(__file__).resolve().parents[2] / "meshes" / "two_phase_glass.msh"


def _set(*keys: str, value: Any) -> Callable[[dict[str, Any]], None]:
    """An edit that sets the value at a key path of the study dict."""

    def edit(data: dict[str, Any]) -> None:
        node = data
        for key in keys[:-1]:
            node = node[key]
        node[keys[-1]] = value

    return edit


def _delete(*keys: str) -> Callable[[dict[str, Any]], None]:
    """An edit that removes the key at a key path of the study dict."""

    def edit(data: dict[str, Any]) -> None:
        node = data
        for key in keys[:-1]:
            node = node[key]
        del node[keys[-1]]

    return edit


def _galvanostatic_without_current(data: dict[str, Any]) -> None:
    del data["experiment"]["surface_potential"]
    data["experiment"]["mode"] = "galvanostatic"


BAD_STUDIES = {
    "unknown top-level key": (
        _set("colour", value="red"),
        "colour: unknown key 'colour' (allowed: name, description, femcait_version, glass,",
    ),
    "unknown nested key": (
        _set("glass", "thikness", value="100 um"),
        "glass.thikness: unknown key 'thikness' (allowed: thickness, temperature, n_bg, eps_r)",
    ),
    "unknown key inside a union": (
        _set("species", "Li", "diffusion", "sed", "width", value="1 eV"),
        "species.Li.diffusion.sed.width: unknown key 'width' "
        "(allowed: vacancy_fraction, shape, fwhm, sigma, centre)",
    ),
    "missing key": (_delete("glass", "n_bg"), "glass.n_bg: missing required key"),
    "negative D": (
        _set("species", "Li", "diffusion", "D_bulk", value=-1e-18),
        "species.Li.diffusion.D_bulk: got -1e-18, must be > 0",
    ),
    "negative D with units": (
        _set("species", "K", "diffusion", "D", value="-2.6e-21 m^2/s"),
        "species.K.diffusion.D: got '-2.6e-21 m^2/s', must be > 0",
    ),
    "string for a number": (
        _set("glass", "eps_r", value="eight"),
        "glass.eps_r: got 'eight', expected a number",
    ),
    "boolean for a number": (
        _set("glass", "eps_r", value=True),
        "glass.eps_r: got true, expected a number",
    ),
    "boolean for a quantity": (
        _set("experiment", "duration", value=False),
        "experiment.duration: got false, expected a time",
    ),
    "boolean for an integer": (
        _set("species", "K", "charge", value=True),
        "species.K.charge: got true, expected an integer",
    ),
    "wrong dimension": (
        _set("glass", "thickness", value="5 V"),
        "glass.thickness: got '5 V', expected a length (e.g. '100 um')",
    ),
    "wrong dimension of an energy": (
        _set("species", "Li", "diffusion", "sed", "fwhm", value="0.25 V"),
        "species.Li.diffusion.sed.fwhm: got '0.25 V', expected an energy",
    ),
    "unknown diffusion law": (
        _set("species", "K", "diffusion", "law", value="arrhenius"),
        "species.K.diffusion.law: got 'arrhenius', must be one of 'sed', 'constant'",
    ),
    "two native species": (
        _set("species", "K", "role", value="native"),
        "species.K.role: got 'native', but Li is already the native species",
    ),
    "no native species": (
        _set("species", "Li", "role", value="foreign"),
        "species: no species has role 'native'",
    ),
    "bad role": (
        _set("species", "K", "role", value="guest"),
        "species.K.role: got 'guest', must be 'native' or 'foreign'",
    ),
    "zero charge": (_set("species", "K", "charge", value=0), "species.K.charge: got 0"),
    "one species": (_delete("species", "K"), "species: got 1 entry, must have at least 2"),
    "beam not foreign": (
        _set("experiment", "beam", value="Li"),
        "experiment.beam: got 'Li', a native species; the beam must be a foreign species (K)",
    ),
    "beam not a species": (
        _set("experiment", "beam", value="Rb"),
        "experiment.beam: got 'Rb', must name a foreign species (K)",
    ),
    "output time beyond duration": (
        _set("experiment", "output_times", value=["600 s", "4 h"]),
        "experiment.output_times.1: got 14400 s, must be <= duration (10800 s)",
    ),
    "output times not increasing": (
        _set("experiment", "output_times", value=[1800, 600]),
        "experiment.output_times.1: got 600 s after 1800 s, must be strictly increasing",
    ),
    "negative output time": (
        _set("experiment", "output_times", value=["-10 s"]),
        "experiment.output_times.0: got '-10 s', must be > 0",
    ),
    "galvanostatic without current_density": (
        _galvanostatic_without_current,
        "experiment.current_density: missing required key (mode is 'galvanostatic')",
    ),
    "potentiostatic with current_density": (
        _set("experiment", "current_density", value="1 A/m^2"),
        "experiment.current_density: got 1 A/m^2, must be null or absent",
    ),
    "dt_max below dt_min": (
        _set("time", value={"dt_min": "1 s", "dt_max": "0.5 s"}),
        "time.dt_max: got 0.5 s, must be >= dt_min (1 s)",
    ),
    "growth out of range": (_set("mesh", value={"growth": 3}), "mesh.growth: got 3, must be <= 2"),
    "bad name": (
        _set("name", value="my study"),
        "name: got 'my study', must contain only letters, digits",
    ),
    "species name not an identifier": (
        lambda data: data["species"].update({"K-39": data["species"].pop("K")}),
        "species.K-39: got species name 'K-39', must be an identifier",
    ),
    "section not a mapping": (
        _set("glass", value=[1, 2]),
        "glass: got [1, 2], expected a mapping",
    ),
    "adaptive mesh from a file": (
        _set(
            "geometry",
            value={"kind": "mesh_file", "file": str(MESH_FILE), "unit": "1 nm"},
        ),
        "mesh.adapt: got true, but a mesh read from a file (geometry.file",
    ),
    "adaptive mesh and VTX": (
        _set("output", value={"vtx": True}),
        "output.vtx: got true, but a VTX file holds one mesh and the mesh adapts",
    ),
    "VTX with the 1D default mesh": (
        _set("output", value={"vtx": True}),
        "set mesh.adapt: false for VTX output",
    ),
    "adaptive mesh finer than doubles resolve": (
        _set("mesh", "min_cell", value="1e-20 m"),
        "mesh.min_cell: got 1e-20 m, must be >= 1e-14 m",
    ),
    "smallest cell above the fine cell": (
        _set("mesh", "min_cell", value="5 nm"),
        "mesh.min_cell: got 5e-09 m, must be <= fine_cell (4e-09 m, automatic)",
    ),
}


@pytest.mark.parametrize("case", list(BAD_STUDIES))
def test_invalid_study(case: str, default_data: dict[str, Any], tmp_path: Path) -> None:
    edit, expected = BAD_STUDIES[case]
    data = copy.deepcopy(default_data)
    if "adaptive" in case or "smallest cell" in case:
        data["mesh"] = {"adapt": True}
    edit(data)
    path = write_study(tmp_path, data)
    message = load_error(path)
    assert message.startswith(f"{path}: ")
    assert expected in message
    assert "Traceback" not in message
    assert "pydantic" not in message


def test_each_problem_on_its_own_line(default_data: dict[str, Any], tmp_path: Path) -> None:
    default_data["glass"]["eps_r"] = "eight"
    default_data["species"]["Li"]["diffusion"]["D_bulk"] = -1e-18
    path = write_study(tmp_path, default_data)
    lines = load_error(path).splitlines()
    assert lines == [
        f"{path}: glass.eps_r: got 'eight', expected a number",
        f"{path}: species.Li.diffusion.D_bulk: got -1e-18, must be > 0",
    ]


def test_duplicate_yaml_key(tmp_path: Path) -> None:
    text = DEFAULT_STUDY.read_text(encoding="utf-8")
    path = tmp_path / "dup.yaml"
    path.write_text(text.replace("  eps_r: 8", "  eps_r: 8\n  eps_r: 9"), encoding="utf-8")
    message = load_error(path)
    assert message.startswith(f"{path}: glass.eps_r: duplicate key 'eps_r' at line")


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.yaml"
    assert load_error(path) == f"{path}: file not found"


def test_yaml_syntax_error(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("name: a\n glass: 1\n", encoding="utf-8")
    assert load_error(path).startswith(f"{path}: invalid YAML at line 2, column 7: ")


@pytest.mark.parametrize(("text", "expected"), [("- 1\n- 2\n", "must be a mapping"), ("", "empty")])
def test_top_level_not_a_mapping(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "list.yaml"
    path.write_text(text, encoding="utf-8")
    message = load_error(path)
    assert message.startswith(f"{path}: ")
    assert expected in message


def test_study_from_dict_names_its_source(default_data: dict[str, Any]) -> None:
    del default_data["experiment"]["duration"]
    with pytest.raises(StudyError, match=r"^run\.json: experiment\.duration: missing required key"):
        study_from_dict(default_data, source="run.json")


def test_error_hierarchy() -> None:
    assert issubclass(StudyError, FemcaitError)
    assert isinstance(load_study(DEFAULT_STUDY), Study)
