"""ParaView opens the default run's fields.xdmf: the README's promise, checked with pvbatch.

ParaView is not a Python dependency of femcait; the test needs `pvbatch` on PATH (Debian:
`make paraview`). Without it the test is skipped, unless FEMCAIT_REQUIRE_PARAVIEW=1 (CI),
when it fails.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.paraview import read_with_paraview

pytestmark = pytest.mark.slow

DURATION_S = 10800.0
FRACTION_MAX = 1.0001
SURFACE_POTENTIAL_V = 5.0


def test_paraview_reads_fields(pvbatch: str, default_run: Path, tmp_path: Path) -> None:
    summary = json.loads((default_run / "summary.json").read_text())
    study = json.loads((default_run / "study.json").read_text())
    thickness_m = study["glass"]["thickness"]
    result = read_with_paraview(pvbatch, default_run / "fields.xdmf", tmp_path)

    # every field at the last output time, which is the end of the experiment
    assert {"Li_frac", "K_frac", "phi_V"} <= set(result["names"]), result["names"]
    assert result["times"][-1] == pytest.approx(DURATION_S, rel=1e-12)
    assert result["times"] == pytest.approx(study["experiment"]["output_times"], rel=1e-12)
    if result["data_time"] is not None:
        assert result["data_time"] == pytest.approx(DURATION_S, rel=1e-12)

    # one point per mesh node, coordinates in metres from the front (0) to the back (L)
    # (VTK bounds are single precision)
    assert result["points"] == [summary["cells"] + 1]
    for name, array in result["arrays"].items():
        assert array["x_bounds"] == pytest.approx([0.0, thickness_m], abs=1e-6 * thickness_m), name

    # physical values: fractions of n_bg in [0, 1], potential between the electrodes
    for name in ("Li_frac", "K_frac"):
        low, high = result["arrays"][name]["range"]
        assert 0.0 <= low <= high <= FRACTION_MAX, (name, low, high)
    low, high = result["arrays"]["phi_V"]["range"]
    assert 0.0 <= low <= high <= SURFACE_POTENTIAL_V + 1e-4, (low, high)
    # not a blank file: the boundary values are there (back electrode grounded,
    # front at the surface potential and the beam density n_s = n_bg)
    assert low == pytest.approx(0.0, abs=1e-9)
    assert high == pytest.approx(SURFACE_POTENTIAL_V, rel=1e-9)
    assert result["arrays"]["K_frac"]["range"][1] == pytest.approx(1.0, rel=1e-9)
