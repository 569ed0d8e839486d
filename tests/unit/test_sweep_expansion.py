"""Tests of the sweep expansion: validation, combination, case names and overrides."""

import copy
import dataclasses
from pathlib import Path
from typing import Any

import pytest
import yaml

from femcait.errors import StudyError
from femcait.study.loader import study_from_dict
from femcait.sweep import Case, Sweep, expand_sweep

DEFAULT_STUDY = Path(__file__).parents[2] / "studies" / "li3b7o12_k_cait.yaml"
EV = 1.602176634e-19


def study_with(sweep: Any) -> dict[str, Any]:
    """A small study dict (not a valid femcait study; expansion does not need one)."""
    return {
        "name": "demo",
        "species": {
            "Li": {"diffusion": {"D_bulk": "4.6e-18 m^2/s", "sed": {"fwhm": "0.25 eV"}}},
            "K": {"diffusion": {"D": "2.6e-21 m^2/s"}},
        },
        "experiment": {"surface_potential": "5 V", "output_times": ["600 s"]},
        "time": None,
        "sweep": sweep,
    }


def sweep_error(sweep: Any, source: str = "study.yaml") -> str:
    """Expand a sweep that must be invalid and return the error message."""
    with pytest.raises(StudyError) as info:
        expand_sweep(study_with(sweep), source)
    message = str(info.value)
    assert "Traceback" not in message
    assert "errors.pydantic.dev" not in message
    return message


# --- combining ---------------------------------------------------------------------------


def test_product_count_and_order() -> None:
    sweep = expand_sweep(
        study_with(
            {
                "parameters": {
                    "species.K.diffusion.D": {"values": [1e-18, 2e-18]},
                    "experiment.surface_potential": {"values": ["1 V", "2 V", "3 V"]},
                }
            }
        )
    )
    assert isinstance(sweep, Sweep)
    assert sweep.is_sweep
    assert sweep.combine == "product"
    assert sweep.ranks_per_case == 1
    assert sweep.parameters == ["species.K.diffusion.D", "experiment.surface_potential"]
    assert [tuple(case.overrides.values()) for case in sweep.cases] == [
        (1e-18, "1 V"),
        (1e-18, "2 V"),
        (1e-18, "3 V"),
        (2e-18, "1 V"),
        (2e-18, "2 V"),
        (2e-18, "3 V"),
    ]
    for case in sweep.cases:
        assert list(case.overrides) == sweep.parameters


def test_zip_count_and_order() -> None:
    sweep = expand_sweep(
        study_with(
            {
                "combine": "zip",
                "ranks_per_case": 4,
                "parameters": {
                    "species.K.diffusion.D": {"values": [1e-18, 2e-18, 3e-18]},
                    "experiment.surface_potential": {"linear": {"start": 1, "stop": 3, "num": 3}},
                },
            }
        )
    )
    assert sweep.combine == "zip"
    assert sweep.ranks_per_case == 4
    assert [tuple(case.overrides.values()) for case in sweep.cases] == [
        (1e-18, 1.0),
        (2e-18, 2.0),
        (3e-18, 3.0),
    ]


def test_zip_lengths_must_match() -> None:
    message = sweep_error(
        {
            "combine": "zip",
            "parameters": {"a.x": {"values": [1, 2]}, "b.y": {"values": [1, 2, 3]}},
        }
    )
    assert message.startswith("study.yaml: sweep.combine: got 'zip'")
    assert "a.x: 2" in message
    assert "b.y: 3" in message


# --- generated values in SI --------------------------------------------------------------


def test_linear_in_si_units() -> None:
    sweep = expand_sweep(
        study_with(
            {
                "parameters": {
                    "species.Li.diffusion.sed.fwhm": {
                        "linear": {"start": "200 meV", "stop": "300 meV", "num": 3}
                    }
                }
            }
        )
    )
    values = [case.overrides["species.Li.diffusion.sed.fwhm"] for case in sweep.cases]
    assert values == pytest.approx([0.2 * EV, 0.25 * EV, 0.3 * EV], rel=1e-14)
    assert values[0] == pytest.approx(3.204e-20, rel=1e-3)
    assert all(type(value) is float for value in values)
    assert [case.name for case in sweep.cases] == [
        "fwhm=3.204e-20",
        "fwhm=4.005e-20",
        "fwhm=4.807e-20",
    ]


def test_linear_lengths_and_mixed_bare_number() -> None:
    sweep = expand_sweep(
        study_with(
            {
                "parameters": {
                    "glass.thickness": {"linear": {"start": "100 um", "stop": 3e-4, "num": 3}}
                }
            }
        )
    )
    values = [case.overrides["glass.thickness"] for case in sweep.cases]
    assert values == pytest.approx([1e-4, 2e-4, 3e-4], rel=1e-14)


def test_log_values() -> None:
    sweep = expand_sweep(
        study_with(
            {
                "parameters": {
                    "experiment.surface_potential": {
                        "log": {"start": "1 V", "stop": "100 V", "num": 3},
                        "label": "U",
                    }
                }
            }
        )
    )
    values = [case.overrides["experiment.surface_potential"] for case in sweep.cases]
    assert values == pytest.approx([1.0, 10.0, 100.0], rel=1e-14)
    assert [case.name for case in sweep.cases] == ["U=1", "U=10", "U=100"]


@pytest.mark.parametrize("kind", ["linear", "log"])
def test_num_one_gives_start(kind: str) -> None:
    sweep = expand_sweep(
        study_with({"parameters": {"a.b": {kind: {"start": "2 V", "stop": "50 V", "num": 1}}}})
    )
    assert [case.overrides["a.b"] for case in sweep.cases] == [2.0]


# --- names -------------------------------------------------------------------------------


def test_names_from_unit_strings_and_unique_suffixes() -> None:
    sweep = expand_sweep(
        study_with(
            {
                "parameters": {
                    "species.K.diffusion.D": {"values": ["1e-18 m^2/s", 3e-18]},
                    "species.Li.diffusion.D": {"values": [4.6e-18]},
                    "experiment.surface_potential": {"values": [5]},
                }
            }
        )
    )
    assert [case.name for case in sweep.cases] == [
        "K.diffusion.D=1e-18m2_s__Li.diffusion.D=4.6e-18__surface_potential=5",
        "K.diffusion.D=3e-18__Li.diffusion.D=4.6e-18__surface_potential=5",
    ]


def test_suffix_longer_where_a_path_ends_another() -> None:
    sweep = expand_sweep(
        study_with({"parameters": {"a.D": {"values": [1]}, "b.a.D": {"values": [2]}}})
    )
    assert sweep.cases[0].name == "a.D=1__b.a.D=2"


def test_names_explicit_labels_booleans_and_unsafe_characters() -> None:
    sweep = expand_sweep(
        study_with(
            {
                "parameters": {
                    "experiment.surface_potential": {"values": ["-5 V"], "label": "U_s"},
                    "output.vtx": {"values": [True, False]},
                    "solver.petsc_options.ksp_type": {"values": ["pre only*"], "label": "ksp"},
                    "time.tolerance": {"values": [123456.0]},
                }
            }
        )
    )
    assert [case.name for case in sweep.cases] == [
        "U_s=-5V__vtx=true__ksp=preonly___tolerance=1.235e+05",
        "U_s=-5V__vtx=false__ksp=preonly___tolerance=1.235e+05",
    ]


def test_names_are_deterministic() -> None:
    spec = {
        "parameters": {
            "species.K.diffusion.D": {"log": {"start": 1e-19, "stop": 1e-17, "num": 5}},
            "experiment.surface_potential": {"values": ["1 V", "10 V"]},
        }
    }
    first = [case.name for case in expand_sweep(study_with(spec)).cases]
    second = [case.name for case in expand_sweep(study_with(copy.deepcopy(spec))).cases]
    assert first == second
    assert len(set(first)) == 10
    assert first[0] == "D=1e-19__surface_potential=1V"


def test_colliding_names_are_an_error() -> None:
    message = sweep_error({"parameters": {"a.D": {"values": [1e-18, 1.00001e-18]}}})
    assert message.startswith("study.yaml: sweep.parameters.a.D: ")
    assert "1e-18" in message
    assert "1.00001e-18" in message
    assert "'D=1e-18'" in message


def test_repeated_value_is_an_error() -> None:
    message = sweep_error({"parameters": {"a.D": {"values": ["5 V", "5V"]}}})
    assert "sweep.parameters.a.D" in message
    assert "'5 V'" in message
    assert "'5V'" in message


def test_zip_may_repeat_a_value_of_one_parameter() -> None:
    sweep = expand_sweep(
        study_with(
            {
                "combine": "zip",
                "parameters": {"a.x": {"values": [1, 1]}, "a.y": {"values": [1, 2]}},
            }
        )
    )
    assert [case.name for case in sweep.cases] == ["x=1__y=1", "x=1__y=2"]


def test_too_long_name_is_an_error() -> None:
    message = sweep_error({"parameters": {"a.b": {"values": ["x" * 130]}}})
    assert "sweep: case name" in message
    assert "132 characters" in message
    assert "label" in message


def test_duplicate_labels_are_an_error() -> None:
    message = sweep_error(
        {"parameters": {"a.U": {"values": [1]}, "b.c": {"values": [2], "label": "U"}}}
    )
    assert "sweep.parameters.b.c.label: got label 'U', already the label of a.U" in message


def test_label_from_path_must_be_safe() -> None:
    message = sweep_error({"parameters": {"solver.petsc_options.ksp type": {"values": [1]}}})
    assert "sweep.parameters.solver.petsc_options.ksp type:" in message
    assert "'ksp type'" in message


# --- overrides and study dicts -----------------------------------------------------------


def test_overrides_at_nested_and_created_paths() -> None:
    data = study_with(
        {
            "combine": "zip",
            "parameters": {
                "species.K.diffusion.D": {"values": ["1e-18 m^2/s", "2e-18 m^2/s"]},
                "time.tolerance": {"values": [1e-3, 1e-4]},
                "mesh.growth": {"values": [1.05, 1.1]},
            },
        }
    )
    original = copy.deepcopy(data)
    sweep = expand_sweep(data)
    assert data == original
    first, second = sweep.cases
    assert "sweep" not in first.study
    assert first.study["species"]["K"]["diffusion"]["D"] == "1e-18 m^2/s"
    assert second.study["species"]["K"]["diffusion"]["D"] == "2e-18 m^2/s"
    assert first.study["time"] == {"tolerance": 1e-3}  # was null
    assert second.study["mesh"] == {"growth": 1.1}  # was absent
    # the rest is untouched
    assert first.study["species"]["Li"] == original["species"]["Li"]
    assert first.study["experiment"] == original["experiment"]
    # the cases do not share state with each other or with the input
    first.study["species"]["Li"]["diffusion"]["D_bulk"] = "changed"
    assert second.study["species"]["Li"]["diffusion"]["D_bulk"] == "4.6e-18 m^2/s"
    assert data == original


def test_mutable_values_are_copied() -> None:
    data = study_with({"parameters": {"experiment.output_times": {"values": [["1 s", "2 s"]]}}})
    original = copy.deepcopy(data)
    case = expand_sweep(data).cases[0]
    case.study["experiment"]["output_times"].append("3 s")
    case.overrides["experiment.output_times"].append("4 s")
    assert data == original
    assert case.name == "output_times=__1s___2s__"


def test_path_through_a_non_mapping_is_an_error() -> None:
    message = sweep_error({"parameters": {"experiment.surface_potential.x": {"values": [1]}}})
    assert message.startswith("study.yaml: sweep.parameters.experiment.surface_potential.x: ")
    assert "experiment.surface_potential is '5 V', not a mapping" in message


def test_case_values_are_frozen_dataclasses() -> None:
    sweep = expand_sweep(study_with({"parameters": {"a.b": {"values": [1]}}}))
    case = sweep.cases[0]
    assert isinstance(case, Case)
    with pytest.raises(dataclasses.FrozenInstanceError):
        case.name = "other"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        sweep.combine = "zip"  # type: ignore[misc]


# --- no sweep ----------------------------------------------------------------------------


def test_no_sweep_gives_one_case() -> None:
    data = study_with(None)
    del data["sweep"]
    original = copy.deepcopy(data)
    sweep = expand_sweep(data)
    assert not sweep.is_sweep
    assert sweep.parameters == []
    assert len(sweep.cases) == 1
    (case,) = sweep.cases
    assert case.name == "demo"
    assert case.overrides == {}
    assert case.study == original
    case.study["species"]["K"]["diffusion"]["D"] = 0
    assert data == original


def test_no_sweep_no_name() -> None:
    sweep = expand_sweep({"glass": {}})
    assert [case.name for case in sweep.cases] == ["case"]


@pytest.mark.parametrize("data", [None, [1, 2], "text"])
def test_top_level_must_be_a_mapping(data: Any) -> None:
    with pytest.raises(StudyError, match=r"^s\.yaml: "):
        expand_sweep(data, "s.yaml")


# --- Sweep.case --------------------------------------------------------------------------


def test_case_lookup() -> None:
    sweep = expand_sweep(study_with({"parameters": {"a.U": {"values": list(range(8))}}}))
    assert sweep.case("U=3").overrides == {"a.U": 3}
    with pytest.raises(StudyError) as info:
        sweep.case("U=9")
    message = str(info.value)
    assert "'U=9'" in message
    assert "U=0, U=1" in message
    assert "8 cases" in message


# --- errors in the sweep section ---------------------------------------------------------


@pytest.mark.parametrize(
    ("sweep", "expected"),
    [
        (
            {"combine": "cross", "parameters": {"a.b": {"values": [1]}}},
            "study.yaml: sweep.combine: got 'cross', must be 'product' or 'zip'",
        ),
        (
            {"parameters": {"a.b": {"linear": {"start": 1, "stop": 2, "num": 0}}}},
            "study.yaml: sweep.parameters.a.b.linear.num: got 0, must be >= 1",
        ),
        (
            {"parameters": {"a.b": {"linear": {"start": 1, "stop": 2, "num": 2.5}}}},
            "study.yaml: sweep.parameters.a.b.linear.num: got 2.5, expected an integer",
        ),
        (
            {"parameters": {"a.b": {"linear": {"start": 1, "stop": 2, "num": True}}}},
            "study.yaml: sweep.parameters.a.b.linear.num: got true, expected an integer",
        ),
        (
            {"parameters": {"a.b": {"linear": {"start": 1, "num": 2}}}},
            "study.yaml: sweep.parameters.a.b.linear.stop: missing required key",
        ),
        (
            {"parameters": {"a.b": {"linear": {"start": "1 V", "stop": "2 m", "num": 2}}}},
            "study.yaml: sweep.parameters.a.b.linear.stop: got '2 m', must have the same "
            "dimension as start ('1 V')",
        ),
        (
            {"parameters": {"a.b": {"linear": {"start": "1 parsec/bogus", "stop": 2, "num": 2}}}},
            "study.yaml: sweep.parameters.a.b.linear.start: got '1 parsec/bogus', expected a "
            "number or a quantity with units",
        ),
        (
            {"parameters": {"a.b": {"linear": {"start": True, "stop": 2, "num": 2}}}},
            "study.yaml: sweep.parameters.a.b.linear.start: got true, expected a number",
        ),
        (
            {"parameters": {"a.b": {"linear": {"start": "inf", "stop": 2, "num": 2}}}},
            "study.yaml: sweep.parameters.a.b.linear.start: got 'inf', must be a finite number",
        ),
        (
            {"parameters": {"a.b": {"log": {"start": "0 V", "stop": "1 V", "num": 2}}}},
            "study.yaml: sweep.parameters.a.b.log.start: got '0 V', must be > 0",
        ),
        (
            {"parameters": {"a.b": {"log": {"start": 1, "stop": -10, "num": 2}}}},
            "study.yaml: sweep.parameters.a.b.log.stop: got -10, must be > 0",
        ),
        (
            {"parameters": {"a.b": {"values": []}}},
            "study.yaml: sweep.parameters.a.b.values: got 0 entries, must have at least 1",
        ),
        (
            {"parameters": {"a.b": {"values": "1 V"}}},
            "study.yaml: sweep.parameters.a.b.values: got '1 V', expected a list",
        ),
        (
            {"parameters": {"a.b": {"values": [1], "linear": {"start": 1, "stop": 2, "num": 2}}}},
            "study.yaml: sweep.parameters.a.b: got values and linear, must have exactly one of "
            "values, linear, log",
        ),
        (
            {"parameters": {"a.b": {"label": "x"}}},
            "study.yaml: sweep.parameters.a.b: missing values, linear or log",
        ),
        (
            {"parameters": {"a.b": {"values": [1], "lin": 2}}},
            "study.yaml: sweep.parameters.a.b.lin: unknown key 'lin' (allowed: values, linear, "
            "log, label)",
        ),
        (
            {"parameters": {"a.b": {"linear": {"start": 1, "stop": 2, "num": 2, "step": 1}}}},
            "study.yaml: sweep.parameters.a.b.linear.step: unknown key 'step' (allowed: start, "
            "stop, num)",
        ),
        (
            {"parameters": {"a.b": {"values": [1], "label": "U s"}}},
            "study.yaml: sweep.parameters.a.b.label: got 'U s', must contain only letters",
        ),
        (
            {"parameters": {"a..b": {"values": [1]}}},
            "study.yaml: sweep.parameters.a..b: got 'a..b', must be keys joined by single dots",
        ),
        (
            {"parameters": {".b": {"values": [1]}}},
            "study.yaml: sweep.parameters..b: got '.b', must be keys joined by single dots",
        ),
        (
            {"parameters": {"sweep.combine": {"values": ["zip"]}}},
            "study.yaml: sweep.parameters.sweep.combine: got 'sweep.combine', the sweep section "
            "cannot be swept",
        ),
        (
            {"parameters": {"name": {"values": ["a"]}}},
            "study.yaml: sweep.parameters.name: got 'name', the study name cannot be swept",
        ),
        (
            {"parameters": {5: {"values": [1]}}},
            "study.yaml: sweep.parameters.5: got key 5, expected a text string",
        ),
        (
            {"parameters": {}},
            "study.yaml: sweep.parameters: got 0 entries, must have at least 1",
        ),
        (
            {"combine": "zip"},
            "study.yaml: sweep.parameters: missing required key",
        ),
        (
            {"parameters": {"a.b": {"values": [1]}}, "ranks_per_case": 0},
            "study.yaml: sweep.ranks_per_case: got 0, must be >= 1",
        ),
        (
            {"parameters": {"a.b": {"values": [1]}}, "ranks_per_case": "2"},
            "study.yaml: sweep.ranks_per_case: got '2', expected an integer",
        ),
        (
            {"parameters": {"a.b": {"values": [1]}}, "mode": "x"},
            "study.yaml: sweep.mode: unknown key 'mode' (allowed: combine, ranks_per_case, "
            "parameters, max_cases)",
        ),
        (None, "study.yaml: sweep: got null, expected a mapping"),
        ([1], "study.yaml: sweep: got [1], expected a mapping"),
    ],
)
def test_sweep_section_errors(sweep: Any, expected: str) -> None:
    message = sweep_error(sweep)
    assert expected in message
    assert len(message.splitlines()) == 1


def test_all_problems_reported_one_line_each() -> None:
    message = sweep_error(
        {
            "combine": "cross",
            "parameters": {
                "a.b": {"linear": {"start": 1, "stop": 2, "num": 0}},
                "c.d": {"values": []},
            },
        }
    )
    lines = message.splitlines()
    assert len(lines) == 3
    assert all(line.startswith("study.yaml: sweep.") for line in lines)


# --- the default study -------------------------------------------------------------------


def test_default_study_cases_validate() -> None:
    data = yaml.safe_load(DEFAULT_STUDY.read_text(encoding="utf-8"))
    values = ["1e-21 m^2/s", 2.6e-21, "1e-20 m^2/s"]
    data["sweep"] = {"parameters": {"species.K.diffusion.D": {"values": values}}}
    sweep = expand_sweep(data, str(DEFAULT_STUDY))
    assert [case.name for case in sweep.cases] == ["D=1e-21m2_s", "D=2.6e-21", "D=1e-20m2_s"]
    for case, expected in zip(sweep.cases, [1e-21, 2.6e-21, 1e-20], strict=True):
        study = study_from_dict(case.study, case.name)
        diffusivity = study.species["K"].diffusion.D
        assert diffusivity == pytest.approx(expected, rel=1e-14)
        assert study.name == "li3b7o12_k_cait"
        assert study.species["Li"].diffusion.D_bulk == 4.6e-18


def test_default_study_log_sweep_validates() -> None:
    data = yaml.safe_load(DEFAULT_STUDY.read_text(encoding="utf-8"))
    data["sweep"] = {
        "combine": "zip",
        "parameters": {
            "species.K.diffusion.D": {"log": {"start": "1e-21 m^2/s", "stop": 1e-19, "num": 3}},
            "time.tolerance": {"values": [1e-3, 2e-3, 3e-3]},
        },
    }
    for case in expand_sweep(data).cases:
        study = study_from_dict(case.study)
        assert study.time.tolerance == case.overrides["time.tolerance"]
        diffusivity = study.species["K"].diffusion.D
        assert diffusivity == case.overrides["species.K.diffusion.D"]
