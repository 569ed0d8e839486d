"""No over- or undershoot where the mesh does not resolve the Debye layer.

docs/model.md ("Flux coefficient"): a plain Galerkin P1 scheme with a 0.5 nm first cell
overshoots at the surface.
Here the first cells are 0.5 nm (17 Debye lengths) and the profiles must still stay
within their physical bounds and be monotone between the surface and the front.
"""

from __future__ import annotations

import numpy as np

from tests.conftest import default_study_dict, run_study, summary


def test_coarse_first_cell_stays_bounded_and_monotone(tmp_path):
    study = default_study_dict()
    study["experiment"]["duration"] = "600 s"
    study["experiment"]["output_times"] = ["60 s", "600 s"]
    study["mesh"] = {"first_cell": "0.5 nm", "fine_cell": "0.5 nm", "fine_growth": 1.0}
    out = run_study(study, tmp_path)
    data = np.genfromtxt(out / "profiles.csv", delimiter=",", names=True)
    s = summary(out)
    assert s["min_frac"] > 0
    for t in (60.0, 600.0):
        p = data[data["time_s"] == t]
        depth, li, k = p["depth_m"], p["Li_frac"], p["K_frac"]
        assert np.all(li > 0) and np.all(k > 0)
        assert k.max() <= 1.0 + 1e-9  # the beam density at the surface is the maximum
        assert li.max() <= 1.0 + 1e-9  # native never piles up above n_bg
        front = np.interp(0.5, -k, depth)  # K falls monotonically through 0.5
        inside = depth <= front
        assert np.all(np.diff(k[inside]) <= 1e-9), "K oscillates between surface and front"
        assert np.all(np.diff(li[inside]) >= -1e-9), "Li oscillates between surface and front"
        beyond = depth > front + 5e-9
        assert np.all(np.abs(li[beyond] + k[beyond] - 1.0) < 1e-3)


def test_unresolved_layers_in_2d_stay_bounded(tmp_path):
    """The same coarse cells (0.5 nm, 17 Debye lengths) on a masked 2D cross-section with
    1 nm lateral cells at the mask edge: no fraction anywhere (max_frac, a reduction over
    every node) leaves (0, 1], the surface beam density n_bg is the maximum, and the
    foreign profile on the beam axis falls monotonically to the front."""
    study = default_study_dict()
    study["geometry"] = {"kind": "rectangle", "width": "60 nm", "beam_window": ["0 nm", "30 nm"]}
    study["experiment"]["duration"] = "120 s"
    study["experiment"]["output_times"] = ["120 s"]
    study["mesh"] = {
        "adapt": False,
        "first_cell": "0.5 nm",
        "fine_cell": "0.5 nm",
        "fine_growth": 1.0,
        "lateral_cell": "1 nm",
        "lateral_growth": 1.3,
        "lateral_max_cell": "10 nm",
    }
    out = run_study(study, tmp_path)
    s = summary(out)
    assert s["min_frac"] > 0
    assert s["max_frac"] <= 1.0 + 1e-9
    series = np.genfromtxt(out / "timeseries.csv", delimiter=",", names=True)
    assert np.all(series["max_frac"] <= 1.0 + 1e-9) and np.all(series["min_frac"] > 0)
    p = np.genfromtxt(out / "profiles.csv", delimiter=",", names=True)
    depth, k = p["depth_m"], p["K_frac"]
    front = s["front_depth_m"]
    inside = depth <= front
    assert np.all(np.diff(k[inside]) <= 1e-9), "K oscillates between surface and front"
    assert s["front_lateral_spread_m"] > 0
