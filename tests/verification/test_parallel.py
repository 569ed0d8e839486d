"""A run on two MPI ranks gives the serial result.

The default study, shortened to 10 minutes, runs through the command line serially and
under ``mpiexec -n 2``; the profiles and the run statistics must agree to round-off.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.conftest import default_study_dict, read_table, run_study, summary

pytestmark = pytest.mark.slow

FIELD_ATOL = 1e-8
SCALAR_RTOL = 1e-8


def short_study() -> dict:
    study = default_study_dict()
    study["experiment"]["duration"] = "600 s"
    study["experiment"]["output_times"] = ["300 s", "600 s"]
    return study


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[int, Path]:
    """The short study run serially and on two ranks (same study, same code)."""
    folder = tmp_path_factory.mktemp("parallel")
    return {
        ranks: run_study(short_study(), folder / f"ranks{ranks}", ranks=ranks) for ranks in (1, 2)
    }


def test_ranks_reported(runs):
    assert summary(runs[1])["ranks"] == 1
    assert summary(runs[2])["ranks"] == 2
    for out in runs.values():
        assert summary(out)["status"] == "completed"


def test_same_profiles(runs):
    serial, parallel = read_table(runs[1] / "profiles.csv"), read_table(runs[2] / "profiles.csv")
    assert list(serial) == list(parallel)
    assert len(serial["depth_m"]) == len(parallel["depth_m"])
    np.testing.assert_array_equal(parallel["time_s"], serial["time_s"])
    assert sorted(set(serial["time_s"])) == [300.0, 600.0]
    np.testing.assert_allclose(parallel["depth_m"], serial["depth_m"], rtol=1e-14, atol=0)
    for key in [k for k in serial if k.endswith("_frac")] + ["phi_V"]:
        np.testing.assert_allclose(parallel[key], serial[key], rtol=0, atol=FIELD_ATOL, err_msg=key)


def test_same_statistics_and_front(runs):
    serial, parallel = summary(runs[1]), summary(runs[2])
    for key in ("steps", "newton_iterations", "rejected_steps", "cells", "dofs"):
        assert parallel[key] == serial[key], key
    assert serial["front_depth_m"] > 0
    assert parallel["front_depth_m"] == pytest.approx(
        serial["front_depth_m"], rel=SCALAR_RTOL, abs=0
    )
    for key in ("foreign_inventory_m2", "charge_C_m2"):
        assert parallel[key] == pytest.approx(serial[key], rel=SCALAR_RTOL, abs=0), key


def test_same_time_steps(runs):
    serial, parallel = (
        read_table(runs[1] / "timeseries.csv"),
        read_table(runs[2] / "timeseries.csv"),
    )
    assert len(parallel["time_s"]) == len(serial["time_s"])
    # steps follow error estimates that differ by round-off between the two runs
    np.testing.assert_allclose(parallel["time_s"], serial["time_s"], rtol=1e-6, atol=0)
    np.testing.assert_array_equal(parallel["newton_iterations"], serial["newton_iterations"])


@pytest.fixture(scope="module")
def adaptive_runs(tmp_path_factory) -> dict[int, Path]:
    """The short study on an adaptive mesh, serially and on two ranks."""
    folder = tmp_path_factory.mktemp("parallel_adaptive")
    study = short_study()
    study["mesh"] = {"adapt": True, "fine_cell": "2 nm"}
    return {ranks: run_study(study, folder / f"ranks{ranks}", ranks=ranks) for ranks in (1, 2)}


def test_adaptive_meshes_are_the_same(adaptive_runs):
    """The marking sees the whole profile on every rank: the same meshes, steps and
    results on one and two ranks."""
    serial, parallel = summary(adaptive_runs[1]), summary(adaptive_runs[2])
    assert serial["mesh_adaptations"] > 0
    for key in ("mesh_adaptations", "cells", "max_cells", "steps", "newton_iterations"):
        assert parallel[key] == serial[key], key
    series = {r: read_table(out / "timeseries.csv") for r, out in adaptive_runs.items()}
    np.testing.assert_array_equal(series[2]["cells"], series[1]["cells"])
    assert parallel["front_depth_m"] == pytest.approx(
        serial["front_depth_m"], rel=SCALAR_RTOL, abs=0
    )
    # the largest change across a depth cell is gathered over both ranks' cells
    assert parallel["largest_depth_change"] == pytest.approx(
        serial["largest_depth_change"], rel=0, abs=FIELD_ATOL
    )
    profiles = {r: read_table(out / "profiles.csv") for r, out in adaptive_runs.items()}
    np.testing.assert_allclose(profiles[2]["depth_m"], profiles[1]["depth_m"], rtol=1e-14)
    for key in ("Li_frac", "K_frac", "phi_V"):
        np.testing.assert_allclose(
            profiles[2][key], profiles[1][key], rtol=0, atol=FIELD_ATOL, err_msg=key
        )
