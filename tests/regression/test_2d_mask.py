"""2D runs with a mask edge and a round spot, small enough for the test suite.

A 100 nm wide cross-section exposed over [0, 50 nm], 5 min of K+ CAIT at 5 V on a coarse
mesh (0.5 nm fine cells, 2 nm lateral cells at the edge): the front spreads under the mask,
a floating mask leaves the masked surface at a potential, a grounded one holds it at 0,
the balances hold, no fraction leaves [0, 1], two MPI ranks give the serial result, and an
axisymmetric spot reports totals in ions consistent with its areal quantities.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import yaml

from tests.conftest import ROOT, read_table, run_study, summary
from tests.paraview import read_with_paraview

pytestmark = pytest.mark.slow

EDGE_M = 50e-9
UNDER_MASK_M = 60e-9
FIELD_ATOL = 1e-8
SCALAR_RTOL = 1e-8


def masked_study(mask: str = "floating") -> dict:
    """5 min at 5 V under a floating mask; a grounded mask at 1 V for 1 min (next to the
    exposed edge it pulls the Li+ into an accumulation layer without bound, see
    test_grounded_mask)."""
    study = yaml.safe_load((ROOT / "studies" / "li3b7o12_k_masked_2d.yaml").read_text())
    study["name"] = f"masked_{mask}"
    study["geometry"].update(width="100 nm", beam_window=["0 nm", "50 nm"], mask=mask)
    study["experiment"].update(duration="300 s", output_times=["150 s", "300 s"])
    if mask == "grounded":
        study["experiment"].update(
            surface_potential="1 V", duration="60 s", output_times=["30 s", "60 s"]
        )
    study["mesh"] = {
        "adapt": False,
        "fine_cell": "0.5 nm",
        "lateral_cell": "2 nm",
        "lateral_growth": 1.3,
        "lateral_max_cell": "20 nm",
    }
    study["output"] = {
        "profile_lines": ["25 nm", "50 nm", "60 nm"],
        "crater": ["0 nm", "50 nm"],
    }
    return study


def spot_study() -> dict:
    study = masked_study()
    study["name"] = "spot"
    study["geometry"] = {"kind": "disc", "radius": "100 nm", "spot_radius": "50 nm"}
    study["output"] = {"profile_lines": ["0 nm", "60 nm"], "crater": ["0 nm", "30 nm"]}
    return study


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("mask")
    return {
        "floating": run_study(masked_study("floating"), folder / "floating"),
        "floating2": run_study(masked_study("floating"), folder / "floating2", ranks=2),
        "grounded": run_study(masked_study("grounded"), folder / "grounded"),
        "spot": run_study(spot_study(), folder / "spot"),
    }


def line(table: dict, position_m: float, time_s: float) -> dict:
    rows = np.isclose(table["position_m"], position_m, rtol=1e-9, atol=0) & (
        table["time_s"] == time_s
    )
    return {key: values[rows] for key, values in table.items()}


@pytest.mark.parametrize("name", ["floating", "grounded", "spot"])
def test_front_spreads_under_the_mask(runs, name):
    final = 60.0 if name == "grounded" else 300.0
    s = summary(runs[name])
    assert s["status"] == "completed"
    assert 0 < s["front_depth_m"] < 50e-9
    assert 0 < s["front_lateral_spread_m"] < 3 * s["front_depth_m"]
    spreads = [o["front_lateral_spread_m"] for o in s["outputs"]]
    assert spreads == sorted(spreads)  # the front only advances under the mask
    profiles = read_table(runs[name] / "profiles.csv")
    under = line(profiles, UNDER_MASK_M, final)
    edge_distance = UNDER_MASK_M - EDGE_M
    reaches = s["front_lateral_spread_m"] > edge_distance
    assert (under["K_frac"][0] >= 0.5) == reaches  # the surface under the mask, 10 nm away


def test_floating_mask_potential(runs):
    floating = line(read_table(runs["floating"] / "profiles.csv"), UNDER_MASK_M, 300.0)
    assert floating["phi_V"][0] > 1.0  # no normal field: the surface floats up
    exposed = line(read_table(runs["floating"] / "profiles.csv"), EDGE_M, 300.0)
    assert exposed["phi_V"][0] == pytest.approx(5.0, rel=1e-12)


def test_grounded_mask(runs):
    """phi = 0 on the masked surface (the edge node is exposed, at U_s); cations pulled to
    the grounded surface pile up far beyond n_bg there (an ideal solution has no site
    limit), and the run says so."""
    profiles = read_table(runs["grounded"] / "profiles.csv")
    under, edge = line(profiles, UNDER_MASK_M, 60.0), line(profiles, EDGE_M, 60.0)
    assert under["phi_V"][0] == 0.0
    assert edge["phi_V"][0] == pytest.approx(1.0, rel=1e-12)
    s = summary(runs["grounded"])
    assert s["max_frac"] > 2
    assert any("grounded mask" in warning for warning in s["warnings"])
    assert not any("n_bg somewhere" in w for w in summary(runs["floating"])["warnings"])


@pytest.mark.parametrize("name", ["floating", "grounded", "spot"])
def test_balances_and_bounds(runs, name):
    """The foreign inventory equals the influx through the exposed front to Newton's
    tolerance summed over the steps (the residual rows are amounts per unit of the front's
    lateral measure, the areal quantities per unit of exposed front), and no fraction
    leaves (0, 1] (but at a grounded mask, see test_grounded_mask)."""
    s = summary(runs[name])
    series = read_table(runs[name] / "timeseries.csv")
    study = json.loads((runs[name] / "study.json").read_text())
    geometry = study["geometry"]
    if geometry["kind"] == "disc":
        per_exposed = (geometry["radius"] / geometry["spot_radius"]) ** 2
    else:
        start, stop = geometry["beam_window"]
        per_exposed = geometry["width"] / (stop - start)
    atol = 1e-9  # femcait's snes_atol, in n_bg nm
    bound = len(series["time_s"]) * atol * study["glass"]["n_bg"] * 1e-9 * per_exposed
    error = np.abs(series["foreign_inventory_m2"] - series["foreign_influx_m2"])
    assert error.max() <= bound, f"{error.max():.3g} m^-2 > {bound:.3g} m^-2"
    assert s["conservation_error"] < 1e-7
    assert s["min_frac"] > 0
    profiles = read_table(runs[name] / "profiles.csv")
    for key in ("Li_frac", "K_frac"):
        assert profiles[key].min() > 0
        if name != "grounded":  # no overshoot, also at the edge
            assert profiles[key].max() <= 1 + 1e-6, key
            assert s["max_frac"] <= 1 + 1e-6


def test_crater_averages_the_window(runs):
    """The crater spans the exposed window: at the surface, where the beam holds K+ at n_bg
    all over it, its K+ average is exactly 1; deep below the front it is pristine glass."""
    crater = read_table(runs["floating"] / "crater.csv")
    final = crater["time_s"] == 300.0
    depth = crater["depth_m"][final]
    assert depth[0] == 0.0
    assert crater["K_frac"][final][0] == pytest.approx(1.0, rel=1e-12)
    deep = depth > 40e-9
    np.testing.assert_allclose(crater["Li_frac"][final][deep], 1.0, atol=1e-6)
    front = summary(runs["floating"])["front_depth_m"]
    shallow = (depth > 0.2 * front) & (depth < 0.8 * front)
    assert np.all(crater["K_frac"][final][shallow] > 0.5)  # replaced zone in the window


def test_two_ranks_give_the_serial_result(runs):
    serial, parallel = runs["floating"], runs["floating2"]
    assert summary(parallel)["ranks"] == 2
    a, b = read_table(serial / "profiles.csv"), read_table(parallel / "profiles.csv")
    np.testing.assert_allclose(b["depth_m"], a["depth_m"], rtol=1e-12, atol=0)
    for key in ("Li_frac", "K_frac", "phi_V"):
        np.testing.assert_allclose(b[key], a[key], rtol=0, atol=FIELD_ATOL, err_msg=key)
    sa, sb = summary(serial), summary(parallel)
    for key in ("front_depth_m", "front_lateral_spread_m", "foreign_inventory_m2", "charge_C_m2"):
        assert sb[key] == pytest.approx(sa[key], rel=SCALAR_RTOL), key
    for key in ("steps", "cells", "dofs"):
        assert sb[key] == sa[key], key
    ca, cb = read_table(serial / "crater.csv"), read_table(parallel / "crater.csv")
    np.testing.assert_allclose(cb["K_frac"], ca["K_frac"], rtol=0, atol=FIELD_ATOL)


def test_spot_totals_in_ions(runs):
    s = summary(runs["spot"])
    area = np.pi * 50e-9**2
    assert s["foreign_inventory_ions"] == pytest.approx(s["foreign_inventory_m2"] * area, rel=1e-9)
    assert s["charge_C"] == pytest.approx(s["charge_C_m2"] * area, rel=1e-9)
    assert s["foreign_inventory_ions"] > 0


def test_paraview_reads_the_2d_fields(pvbatch, runs, tmp_path):
    """ParaView opens a 2D run: every field on every mesh node, coordinates in metres
    (x lateral over the width, y the depth to the back electrode), the time series."""
    out = runs["floating"]
    s = summary(out)
    result = read_with_paraview(pvbatch, out / "fields.xdmf", tmp_path)
    assert {"Li_frac", "K_frac", "phi_V"} <= set(result["names"])
    assert result["times"] == pytest.approx([150.0, 300.0], rel=1e-12)
    assert result["points"] == [s["dofs"] // 3]
    for name, array in result["arrays"].items():
        assert array["x_bounds"] == pytest.approx([0.0, 100e-9], abs=1e-12), name
        assert array["y_bounds"] == pytest.approx([0.0, 100e-6], rel=1e-6), name
    low, high = result["arrays"]["K_frac"]["range"]
    assert low > 0 and high == pytest.approx(1.0, rel=1e-9)
    low, high = result["arrays"]["phi_V"]["range"]
    assert low == pytest.approx(0.0, abs=1e-9) and high == pytest.approx(5.0, rel=1e-9)
