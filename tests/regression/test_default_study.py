"""The default study through the command line: the README's output contract, and its result.

The study (studies/li3b7o12_k_cait.yaml) runs once per session (fixture `default_run`).
"""

from __future__ import annotations

import csv
import json
from itertools import pairwise
from pathlib import Path

import pytest

import femcait
from tests.conftest import DERIVED_SUMMARY_KEYS

pytestmark = pytest.mark.slow

DURATION_S = 10800.0
OUTPUT_TIMES_S = [600.0, 1800.0, 3600.0, 10800.0]
SPECIES = ["Li", "K"]

OUTPUT_FILES = [
    "study.json",
    "fields.xdmf",
    "fields.h5",
    "profiles.csv",
    "timeseries.csv",
    "summary.json",
    "profiles.png",
    "diffusion.png",
]

SUMMARY_KEYS = [
    *DERIVED_SUMMARY_KEYS,
    "wall_s",
    "steps",
    "rejected_steps",
    "newton_iterations",
    "dofs",
    "ranks",
]

# Regression values: what femcait 0.1.0 computed for the default study (front depth and
# plateau after 3 h). They guard against unintended changes of the numerics; they are NOT
# measured data, and a deliberate change of the model or the study may move them.
REFERENCE_FRONT_DEPTH_M = 6.739e-8
REFERENCE_PLATEAU_FRAC = 0.0594
REFERENCE_RTOL = 0.02


def _rows(path: Path) -> tuple[list[str], list[dict[str, float]]]:
    with path.open(newline="") as file:
        reader = csv.DictReader(file)
        rows = [{k: float(v) for k, v in row.items()} for row in reader]
        return list(reader.fieldnames or []), rows


def _json(path: Path) -> dict:
    return json.loads(path.read_text())


def test_output_files(default_run: Path) -> None:
    for name in OUTPUT_FILES:
        path = default_run / name
        assert path.is_file(), f"{name} missing from {default_run}"
        assert path.stat().st_size > 0, f"{name} is empty"
    assert (default_run / "profiles.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (default_run / "diffusion.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "fields.h5" in (default_run / "fields.xdmf").read_text()
    # the run folder is committed atomically: no temporary siblings are left behind
    assert [p.name for p in default_run.parent.iterdir() if p.name.startswith(".")] == []


def test_profiles_csv(default_run: Path) -> None:
    columns, rows = _rows(default_run / "profiles.csv")
    assert columns == ["time_s", "depth_m", "Li_frac", "K_frac", "phi_V"]
    times = sorted({row["time_s"] for row in rows})
    assert times == pytest.approx(OUTPUT_TIMES_S, rel=1e-12)
    nodes = _json(default_run / "summary.json")["cells"] + 1
    thickness_m = _json(default_run / "study.json")["glass"]["thickness"]
    for t in times:
        profile = [row for row in rows if row["time_s"] == t]
        if t == times[-1]:  # the mesh adapts: the last profile is on the final mesh
            assert len(profile) == nodes, t
        depth = [row["depth_m"] for row in profile]
        assert depth[0] == 0.0
        assert depth[-1] == pytest.approx(thickness_m, rel=1e-12)
        assert all(a < b for a, b in pairwise(depth)), t
        # boundary values: the front is held at 5 V and n_K = n_bg, the back at 0 V, n_Li = n_bg
        assert profile[0]["phi_V"] == pytest.approx(5.0, rel=1e-12)
        assert profile[0]["K_frac"] == pytest.approx(1.0, rel=1e-12)
        assert profile[-1]["phi_V"] == pytest.approx(0.0, abs=1e-12)
        assert profile[-1]["Li_frac"] == pytest.approx(1.0, rel=1e-12)
        for row in profile:
            for name in SPECIES:
                assert 0.0 <= row[f"{name}_frac"] <= 1.0001, (t, row)


def test_timeseries_csv(default_run: Path) -> None:
    summary = _json(default_run / "summary.json")
    columns, rows = _rows(default_run / "timeseries.csv")
    assert {"step", "time_s", "dt_s", "front_depth_m", "plateau_frac"} <= set(columns)
    assert len(rows) == summary["steps"] > 0  # one row per accepted step
    times = [row["time_s"] for row in rows]
    assert all(a < b for a, b in pairwise(times))
    assert times[-1] == pytest.approx(DURATION_S, rel=1e-12)
    assert [row["step"] for row in rows] == list(range(1, len(rows) + 1))
    # the steps land on every output time
    for t in OUTPUT_TIMES_S:
        assert min(abs(s - t) for s in times) <= 1e-9 * t, t
    # the summary reports the state after the last step
    assert rows[-1]["front_depth_m"] == pytest.approx(summary["front_depth_m"], rel=1e-12)
    assert rows[-1]["plateau_frac"] == pytest.approx(summary["plateau_frac"], rel=1e-12)


def test_summary_json(default_run: Path) -> None:
    summary = _json(default_run / "summary.json")
    missing = [key for key in SUMMARY_KEYS if key not in summary]
    assert missing == [], f"summary.json lacks {missing}"
    assert summary["status"] == "completed"
    assert summary["time_s"] == pytest.approx(DURATION_S, rel=1e-12)
    assert summary["ranks"] == 1
    # P1 Lagrange for u_Li, u_K and psi on every node of the 1D mesh
    assert summary["dofs"] == 3 * (summary["cells"] + 1)
    assert summary["newton_iterations"] >= summary["steps"] > 0
    assert summary["rejected_steps"] >= 0
    assert summary["wall_s"] > 0
    assert 0.0 < summary["min_frac"] <= 1.0
    assert summary["foreign_inventory_m2"] > 0
    assert summary["charge_C_m2"] > 0
    # the run reports the same state at its last output as at its end
    assert [o["time_s"] for o in summary["outputs"]] == pytest.approx(OUTPUT_TIMES_S, rel=1e-12)
    assert summary["outputs"][-1]["front_depth_m"] == pytest.approx(summary["front_depth_m"])


def test_study_json(default_run: Path) -> None:
    study = _json(default_run / "study.json")
    assert study["femcait_version"] == femcait.__version__
    assert study["name"] == "li3b7o12_k_cait"
    # the study file's values, converted to SI
    assert study["glass"] == pytest.approx(
        {"thickness": 1e-4, "temperature": 300.0, "n_bg": 1.4e28, "eps_r": 8.0}, rel=1e-12
    )
    li = study["species"]["Li"]["diffusion"]
    assert li["D_bulk"] == pytest.approx(4.6e-18, rel=1e-12)
    assert li["sed"]["fwhm"] == pytest.approx(0.25 * 1.602176634e-19, rel=1e-12)  # 0.25 eV in J
    assert study["species"]["K"]["diffusion"]["D"] == pytest.approx(2.6e-21, rel=1e-12)
    experiment = study["experiment"]
    assert experiment["surface_potential"] == pytest.approx(5.0, rel=1e-12)
    assert experiment["duration"] == pytest.approx(DURATION_S, rel=1e-12)
    assert experiment["output_times"] == pytest.approx(OUTPUT_TIMES_S, rel=1e-12)
    assert experiment["front_density"] == pytest.approx(1.4e28, rel=1e-12)  # default: n_bg
    # the automatic mesh values are filled in, in metres
    mesh = study["mesh"]
    assert mesh["length_unit"] == pytest.approx(1e-9, rel=1e-12)
    assert mesh["adapt"] is True  # auto: adaptive in 1D
    assert mesh["fine_cell"] == pytest.approx(4e-9, rel=1e-12)  # the adaptive base mesh
    assert mesh["first_cell"] is not None
    assert mesh["fine_depth"] is not None
    assert 0 < mesh["first_cell"] <= mesh["fine_cell"]
    summary = _json(default_run / "summary.json")
    assert summary["front_depth_m"] < mesh["fine_depth"] < study["glass"]["thickness"]
    # and so are the automatic time-step settings, in seconds
    time = study["time"]
    assert 0 < time["dt_min"] <= time["dt_initial"] <= time["dt_max"] <= DURATION_S


def test_default_study_result(default_run: Path) -> None:
    """Front depth and plateau after 3 h against femcait 0.1.0 (not against experiment)."""
    summary = _json(default_run / "summary.json")
    assert summary["front_depth_m"] == pytest.approx(REFERENCE_FRONT_DEPTH_M, rel=REFERENCE_RTOL)
    assert summary["plateau_frac"] == pytest.approx(REFERENCE_PLATEAU_FRAC, rel=REFERENCE_RTOL)


def test_study_json_is_a_study_that_reproduces_the_run(default_run):
    """study.json loads as a study whose resolved values are those of the run."""
    from femcait.study import load_study

    study = load_study(default_run / "study.json")
    written = json.loads((default_run / "study.json").read_text())
    assert study.femcait_version == written["femcait_version"]
    assert study.mesh.first_cell == written["mesh"]["first_cell"]
    assert study.time.dt_initial == written["time"]["dt_initial"]
    assert study.glass.thickness == 1e-4
