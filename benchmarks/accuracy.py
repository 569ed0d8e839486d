"""Accuracy of a default-study result against the converged reference of
``converged_reference.py`` (benchmarks/data/default_study_converged.*).

Front depth and plateau as relative errors; profiles as the integral of |difference| of
the Li and K fractions over depth relative to the exchanged amount (the integral of the
reference K fraction), and as the largest difference (in n_bg) at a reference node (a
steep front shifted by 0.1 nm differs there by a few % of n_bg). The candidate is
interpolated linearly onto the reference nodes.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np

DATA = Path(__file__).resolve().parent / "data"
REFERENCE = DATA / "default_study_converged"


def reference() -> tuple[dict, dict[str, np.ndarray]]:
    """The reference's summary and its final profile (depth_m, Li_frac, K_frac, phi_V)."""
    summary = json.loads(REFERENCE.with_suffix(".json").read_text())
    with open(REFERENCE.with_suffix(".csv")) as f:
        rows = list(csv.DictReader(f))
    columns = {key: np.array([float(r[key]) for r in rows]) for key in rows[0]}
    return summary, columns


def errors(
    front_depth_m: float, plateau_frac: float, profile: tuple[np.ndarray, dict[str, np.ndarray]]
) -> dict[str, float]:
    """Relative front and plateau errors, and the fraction differences of ``profile``
    (depth in m and fractions per species, as `read_final_profile` gives them)."""
    summary, ref = reference()
    depth = ref["depth_m"]
    result = {
        "front_rel": front_depth_m / summary["front_depth_m"] - 1.0,
        "plateau_rel": plateau_frac / summary["plateau_frac"] - 1.0,
    }
    exchanged = np.trapezoid(ref["K_frac"], depth)
    for species in ("Li", "K"):
        candidate = np.interp(depth, profile[0], profile[1][species])
        difference = np.abs(candidate - ref[f"{species}_frac"])
        result[f"{species}_l1_rel"] = float(np.trapezoid(difference, depth) / exchanged)
        result[f"{species}_max_diff"] = float(np.max(difference))
    return result


def describe(e: dict[str, float]) -> str:
    """One line for a benchmark's output."""
    return (
        f"vs converged: front {e['front_rel']:+.3%}, plateau {e['plateau_rel']:+.3%}, "
        f"profiles (L1 / exchanged) Li {e['Li_l1_rel']:.3%}, K {e['K_l1_rel']:.3%}, "
        f"max |diff| Li {e['Li_max_diff']:.3f}, K {e['K_max_diff']:.3f} n_bg"
    )
