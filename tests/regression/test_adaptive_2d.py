"""Adaptive 2D runs: the lines' depth nodes follow the front, the lateral nodes the mask edge,
transfers keep every inventory, a laterally uniform run is the adaptive 1D run, two ranks
adapt to the same meshes, and ParaView plays the changing meshes."""

from __future__ import annotations

import numpy as np
import pytest
from mpi4py import MPI

from femcait.simulation import Simulation
from femcait.study.loader import study_from_dict
from tests.conftest import default_study_dict, read_table, run_study, summary
from tests.paraview import read_with_paraview
from tests.regression.test_2d_mask import masked_study, spot_study

pytestmark = pytest.mark.slow

TRANSFER_RTOL = 1e-12
"""Largest relative change of an inventory by a change of mesh."""

CHANGE_RTOL = 1e-10
"""Largest relative change of an inventory change (since the start) by a change of mesh:
the change is a small difference of the large native inventory, whose round-off it carries
(1e-12 seen)."""

EDGE_NM = 50.0


def adaptive(study: dict) -> dict:
    """The small masked (or spot) study on an adaptive mesh from 2 nm cells in the fine
    zone and 0.5 nm lateral cells at the edge, at the tolerance 0.05 (more adaptations
    than the default 0.2), for 150 s."""
    study["experiment"].update(duration="150 s", output_times=["75 s", "150 s"])
    study["mesh"] = {
        "adapt": True,
        "fine_cell": "2 nm",
        "adapt_tolerance": 0.05,
        "lateral_cell": "0.5 nm",
        "lateral_growth": 1.3,
        "lateral_max_cell": "20 nm",
    }
    return study


@pytest.mark.parametrize("make", [masked_study, spot_study], ids=["planar", "disc"])
def test_transfers_keep_every_inventory(make, monkeypatch) -> None:
    simulation = Simulation(study_from_dict(adaptive(make())), MPI.COMM_WORLD)
    transfers = []
    adapt = simulation._adapt_mesh

    def measured(states):
        problem = simulation.problem
        before = problem.inventories(), problem.inventory_changes()
        changed = adapt(states)
        if changed:
            problem = simulation.problem
            transfers.append((before, (problem.inventories(), problem.inventory_changes())))
        return changed

    monkeypatch.setattr(simulation, "_adapt_mesh", measured)
    record = simulation.run()
    assert len(transfers) == simulation.statistics.adaptations >= 2
    for (inventory, change), (inventory_after, change_after) in transfers:
        np.testing.assert_allclose(inventory_after, inventory, rtol=TRANSFER_RTOL, atol=0)
        np.testing.assert_allclose(
            change_after, change, rtol=0, atol=CHANGE_RTOL * np.abs(change).max()
        )
    assert record.conservation_error < 1e-7  # the Newton tolerance, as on fixed 2D meshes
    assert record.min_frac > 0
    mesh = simulation.adapter.mesh
    lateral = mesh.lateral.nodes()
    # fine lateral cells where the front bends at the edge
    fine = lateral[:-1][np.diff(lateral) < 1.0]
    assert fine.min() >= EDGE_NM - 25 and fine.max() <= EDGE_NM + 25
    front_nm = record.front_depth_m * 1e9
    # on the beam axis, fine depth cells around the front and not far below it
    axis = mesh.depths[int(np.argmin(np.abs(lateral - 0.5 * EDGE_NM)))].nodes()
    rows = axis[:-1][(np.diff(axis) < 0.5) & (axis[:-1] > 0.5)]
    assert rows.min() < front_nm < rows.max() < 3 * front_nm
    # while the lines on the far masked side, where nothing arrives, keep their base nodes
    assert (
        max(
            depth.level.max()
            for depth in (d for d, x in zip(mesh.depths, lateral, strict=True) if x > EDGE_NM + 5)
        )
        == 0
    )
    assert mesh.depths[0].cells > 1.4 * mesh.depths[-1].cells


def test_laterally_uniform_run_is_the_adaptive_1d_run(tmp_path) -> None:
    """The default study on an adaptive 10 nm strip: no lateral change, so the lateral
    axis stays and the depth axis adapts as the 1D mesh does, to the same results."""
    one_d = default_study_dict()
    one_d["experiment"].update(duration="600 s", output_times=["300 s", "600 s"])
    strip = {**one_d, "name": "strip"}
    strip["geometry"] = {"kind": "rectangle", "width": "10 nm"}
    strip["mesh"] = {"adapt": True, "lateral_max_cell": "2.5 nm"}
    runs = {name: run_study(data, tmp_path / name) for name, data in (("1d", one_d), ("2d", strip))}
    results = {name: summary(out) for name, out in runs.items()}
    assert results["1d"]["mesh_adaptations"] > 0
    assert results["2d"]["mesh_adaptations"] == results["1d"]["mesh_adaptations"]
    assert results["2d"]["cells"] == 2 * 4 * results["1d"]["cells"]
    assert results["2d"]["front_depth_m"] == pytest.approx(results["1d"]["front_depth_m"], rel=1e-6)
    profiles = {name: read_table(out / "profiles.csv") for name, out in runs.items()}
    np.testing.assert_allclose(profiles["2d"]["depth_m"], profiles["1d"]["depth_m"], rtol=1e-12)
    for key in ("Li_frac", "K_frac"):
        np.testing.assert_allclose(profiles["2d"][key], profiles["1d"][key], atol=1e-6)


@pytest.fixture(scope="module")
def masked_runs(tmp_path_factory):
    """The small adaptive masked study, serially and on two ranks."""
    folder = tmp_path_factory.mktemp("adaptive_2d")
    study = adaptive(masked_study())
    return {ranks: run_study(study, folder / f"ranks{ranks}", ranks=ranks) for ranks in (1, 2)}


def test_two_ranks_adapt_to_the_same_meshes(masked_runs) -> None:
    serial, parallel = summary(masked_runs[1]), summary(masked_runs[2])
    assert serial["mesh_adaptations"] > 0
    for key in ("mesh_adaptations", "cells", "max_cells", "steps"):
        assert parallel[key] == serial[key], key
    series = {r: read_table(out / "timeseries.csv") for r, out in masked_runs.items()}
    np.testing.assert_array_equal(series[2]["cells"], series[1]["cells"])
    assert len(set(series[1]["cells"])) > 2  # the mesh changed during the run
    for key in ("front_depth_m", "front_lateral_spread_m"):
        assert parallel[key] == pytest.approx(serial[key], rel=1e-8), key
    profiles = {r: read_table(out / "profiles.csv") for r, out in masked_runs.items()}
    for key in ("K_frac", "Li_frac", "phi_V"):
        np.testing.assert_allclose(profiles[2][key], profiles[1][key], atol=1e-8, err_msg=key)


def test_run_folder_shows_the_2d_mesh(masked_runs) -> None:
    out = masked_runs[1]
    assert (out / "mesh.png").stat().st_size > 0
    assert summary(out)["max_cells"] >= summary(out)["cells"]


def test_paraview_plays_the_changing_2d_meshes(pvbatch: str, masked_runs, tmp_path) -> None:
    out = masked_runs[1]
    result = read_with_paraview(pvbatch, out / "fields.xdmf", tmp_path)
    assert result["times"] == pytest.approx([75.0, 150.0], rel=1e-12)
    points = [counts[0] for counts in result["points_by_time"]]
    assert points[0] != points[1]  # a new mesh between the outputs
    assert {"Li_frac", "K_frac", "phi_V"} <= set(result["names"])
    assert result["arrays"]["K_frac"]["range"][0] > 0.0
