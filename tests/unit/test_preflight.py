"""The preflight estimates and checks (femcait.preflight, femcait.petsc_options)."""

from __future__ import annotations

import random

import dolfinx_solver  # noqa: F401  # isort: split
import pytest

from femcait.errors import StudyError
from femcait.geometry.grading import graded_nodes
from femcait.petsc_options import check_petsc_options
from femcait.preflight import check_study, estimate_cost, estimated_cells, scale_problems
from femcait.solver.problem import DEFAULT_PETSC_OPTIONS, default_petsc_options
from femcait.study import load_study, study_from_dict
from tests.conftest import DEFAULT_STUDY, default_study_dict


def _mesh_settings(seed: int) -> dict[str, float]:
    rng = random.Random(seed)
    fine = 10 ** rng.uniform(-2, 0.5)
    return {
        "length": 10 ** rng.uniform(2, 6),
        "first_cell": fine * 10 ** rng.uniform(-3, 0),
        "fine_cell": fine,
        "fine_depth": 10 ** rng.uniform(0, 5),
        "growth": rng.uniform(1.01, 1.5),
        "fine_growth": rng.choice([1.0, 1.001, 1.005, 1.05]),
    }


@pytest.mark.parametrize("seed", range(40))
def test_cells_are_counted_without_building_the_mesh(seed):
    settings = _mesh_settings(seed)
    built = len(graded_nodes(**settings)) - 1
    assert abs(estimated_cells(**settings) - built) <= 2 + 0.01 * built


def test_the_default_study_is_estimated_close_to_what_it_runs():
    """On the fixed mesh: 423 cells, 484 steps and 0.46 MB measured (summary.json of the
    default run, ``mesh.adapt: false``). On the adaptive default mesh the estimate counts
    the base mesh (193 cells), which the run refines (382 cells at most)."""
    data = default_study_dict()
    data["mesh"] = {"adapt": False}
    estimate = estimate_cost(study_from_dict(data))
    assert abs(estimate.cells - 423) <= 2
    assert 150 < estimate_cost(load_study(DEFAULT_STUDY)).cells < 382
    assert 400 < estimate.steps < 800
    assert 0.3 < estimate.output_mb < 1.0
    assert estimate.front_fraction < 0.01


def test_a_study_within_its_limits_passes():
    check_study(load_study(DEFAULT_STUDY))


def test_each_limit_is_named_with_the_value_that_lets_the_run_go_on():
    data = default_study_dict()
    data["limits"] = {"max_cells": 100, "max_steps": 10, "max_output_mb": 0.01}
    with pytest.raises(StudyError) as error:
        check_study(study_from_dict(data), "s.yaml")
    lines = str(error.value).splitlines()
    for key in ("max_cells", "max_steps", "max_output_mb"):
        assert any(line.startswith(f"s.yaml: limits.{key}: ") for line in lines)
        assert any(f"set limits.{key}: " in line for line in lines)
    assert lines[-1].startswith("s.yaml: limits: estimate of the run: ")
    data["limits"] = {"max_cells": 1000, "max_steps": 10_000, "max_output_mb": 10}
    check_study(study_from_dict(data))


@pytest.mark.parametrize(
    ("key", "value", "named"),
    [
        ("n_bg", "1e-300 m^-3", "glass.n_bg"),
        ("n_bg", "1e200 m^-3", "glass.n_bg"),
        ("thickness", "1e95 m", "glass.thickness"),
    ],
)
def test_scales_beyond_the_solver_are_named(key, value, named):
    data = default_study_dict()
    data["glass"][key] = value
    problems = scale_problems(study_from_dict(data))
    assert problems and all(named in line or "experiment" in line for line in problems[:1])


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"snes_rtol": 1e-8},
        {"-snes_atol": 1e-3},
        {"mat_mumps_icntl_14": 50},
        {"snes_monitor": ""},
    ],
)
def test_petsc_options_the_solver_reads_pass(options, capfd):
    check_petsc_options(options, DEFAULT_PETSC_OPTIONS)
    assert capfd.readouterr().out == ""  # a monitor does not print for the probe


@pytest.mark.parametrize(
    ("options", "blamed"),
    [
        ({"snes_rtoll": 1e-8}, ["snes_rtoll"]),
        ({"snes_rtol": 1e-8, "ksp_rtol": 1e-3}, ["ksp_rtol"]),  # preonly reads no tolerance
        ({"ksp_type": "preonlyy", "snes_rtol": 1e-8}, ["ksp_type"]),
        ({"snes_rtol": "abc"}, ["snes_rtol"]),
    ],
)
def test_petsc_options_nobody_reads_or_petsc_rejects_are_named(options, blamed):
    with pytest.raises(StudyError) as error:
        check_petsc_options(options, DEFAULT_PETSC_OPTIONS, "s.yaml")
    lines = str(error.value).splitlines()
    assert [line.split(":")[1].strip() for line in lines] == [
        f"solver.petsc_options.{key}" for key in blamed
    ]


def test_the_probe_leaves_petsc_options_as_they_were():
    from petsc4py import PETSc

    before = PETSc.Options().getAll()
    with pytest.raises(StudyError):
        check_petsc_options({"snes_rtoll": 1, "ksp_type": "x"}, DEFAULT_PETSC_OPTIONS)
    assert PETSc.Options().getAll() == before


def test_petsc_options_are_checked_against_the_solver_of_the_run():
    """A 1D run on one rank factorises with PETSc's LU, so a MUMPS option is not read
    there (unless the study asks for MUMPS), while a 2D or parallel run reads it."""
    mumps_option = {"mat_mumps_icntl_14": 50}
    with pytest.raises(StudyError, match="mat_mumps_icntl_14: not an option the solver uses"):
        check_petsc_options(mumps_option, default_petsc_options(dim=1, ranks=1))
    check_petsc_options(
        {**mumps_option, "pc_factor_mat_solver_type": "mumps"}, default_petsc_options(1, 1)
    )
    check_petsc_options(mumps_option, default_petsc_options(dim=2, ranks=1))
    check_petsc_options(mumps_option, default_petsc_options(dim=1, ranks=2))
