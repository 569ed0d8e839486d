"""Mesh and time-step convergence of the default study's front depth and plateau level.

The a-priori graded mesh (no adaptivity) is refined as a whole: every cell size halves
(first cell, fine zone, and the growth ratios' excess over 1); the time-step error
tolerance is cut by ~3 per level. Two successive refinements must agree within 1 %.
"""

from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import default_study_dict, run_study, summary

RELATIVE_AGREEMENT = 0.01


def _final(out) -> tuple[float, float]:
    s = summary(out)
    return s["front_depth_m"], s["plateau_frac"]


def _assert_converging(values: list[tuple[float, float]], label: str) -> None:
    values = np.array(values)
    for quantity, name in ((0, "front depth"), (1, "plateau")):
        column = values[:, quantity]
        changes = np.abs(np.diff(column)) / np.abs(column[1:])
        print(f"{label} {name}: {column}, successive relative changes {changes}")
        assert changes[-1] < RELATIVE_AGREEMENT
        assert changes[-1] <= changes[0] + 1e-4  # refinement does not make it worse


@pytest.mark.slow
def test_mesh_convergence(tmp_path):
    values = []
    for level, scale in enumerate((2.0, 1.0, 0.5)):
        study = default_study_dict()
        study["mesh"] = {
            "adapt": False,  # the a-priori design of the fixed mesh
            "first_cell": f"{0.0143 * scale} nm",
            "fine_cell": f"{0.25 * scale} nm",
            "growth": 1.0 + 0.08 * scale,
            "fine_growth": 1.0 + 0.005 * scale,
            "fine_depth": "150 nm",
        }
        values.append(_final(run_study(study, tmp_path / f"mesh{level}")))
    _assert_converging(values, "mesh")


@pytest.mark.slow
def test_time_step_convergence(tmp_path):
    values = []
    for level, tolerance in enumerate((1e-2, 3e-3, 1e-3)):
        study = default_study_dict()
        study["time"] = {"tolerance": tolerance}
        study["mesh"] = {"adapt": False}  # the mesh's own error stays the same
        values.append(_final(run_study(study, tmp_path / f"time{level}")))
    _assert_converging(values, "time")
