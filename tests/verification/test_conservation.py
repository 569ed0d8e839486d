"""Discrete conservation, positivity and quasi-neutrality of the default study's run.

Every check reads the run's own output files (timeseries.csv, profiles.csv, summary.json,
study.json) of the session's `default_run` and recomputes the quantity from them:

* the foreign inventory equals the time-integrated influx at the front, and the native
  deficit equals the charge through the back electrode divided by e;
* every density stays positive and no fraction overshoots 1 (the surface layer is not
  resolved by plain Galerkin, docs/model.md "Flux coefficient");
* the profiles are neutral to 1 per mille outside the first nanometre (the paper's claim);
* the foreign profile falls monotonically from the surface to the front (no oscillation).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import read_table, summary

pytestmark = pytest.mark.slow

ELEMENTARY_CHARGE = 1.602176634e-19
CONSERVATION_RTOL = 1e-8
IMBALANCE_LIMIT = 1e-3
IMBALANCE_MIN_DEPTH_M = 1e-9
OVERSHOOT_SLACK = 1e-6
MONOTONE_SLACK = 1e-9


def _resolved(out: Path) -> dict:
    return json.loads((out / "study.json").read_text())


@pytest.fixture(scope="module")
def series(default_run) -> dict[str, np.ndarray]:
    return read_table(default_run / "timeseries.csv")


@pytest.fixture(scope="module")
def profiles(default_run) -> dict[str, np.ndarray]:
    return read_table(default_run / "profiles.csv")


def _output_rows(series: dict[str, np.ndarray], default_run: Path) -> np.ndarray:
    """Indices of the steps that ended on an output time."""
    times = _resolved(default_run)["experiment"]["output_times"]
    rows = [int(np.argmin(np.abs(series["time_s"] - t))) for t in times]
    assert np.allclose(series["time_s"][rows], times, rtol=1e-12, atol=0)
    return np.array(rows)


# --- foreign species: inventory vs influx at the front ----------------------------------
def test_foreign_inventory_equals_integrated_influx_from_first_output(series, default_run):
    first_output = _output_rows(series, default_run)[0]
    inventory = series["foreign_inventory_m2"][first_output:]
    influx = series["foreign_influx_m2"][first_output:]
    assert np.all(influx > 0)
    np.testing.assert_allclose(inventory, influx, rtol=CONSERVATION_RTOL, atol=0)
    assert np.all(series["conservation_error"][first_output:] <= CONSERVATION_RTOL)


def test_foreign_balance_within_newton_tolerance_at_every_step(series, default_run):
    """The absolute balance error never exceeds the sum over steps of Newton's tolerance.

    This checks the bookkeeping (boundary fluxes from the residual at the held nodes, BDF2
    time quadrature, lumped inventories): a storage term inconsistent with the inventory,
    or interior residuals left unconverged, would break it. It cannot see a wrong flux
    law, which conserves just as well: the manufactured-solution test checks the fluxes.
    """
    import dolfinx_solver  # noqa: F401  # isort: split

    from femcait.solver.problem import DEFAULT_PETSC_OPTIONS

    resolved = _resolved(default_run)
    unit_m2 = resolved["glass"]["n_bg"] * resolved["mesh"]["length_unit"]
    atol = float(resolved["solver"]["petsc_options"].get("snes_atol", 0.0)) or float(
        DEFAULT_PETSC_OPTIONS["snes_atol"]
    )
    steps = len(series["time_s"])
    bound = steps * atol * unit_m2
    error = np.abs(series["foreign_inventory_m2"] - series["foreign_influx_m2"])
    assert error.max() <= bound, f"{error.max():.3g} m^-2 > {bound:.3g} m^-2"


def test_conservation_error_column_reports_the_balance(series):
    """The reported conservation_error is at least the relative misbalance of each species."""
    scale = np.maximum(np.abs(series["foreign_inventory_m2"]), np.abs(series["native_deficit_m2"]))
    foreign = np.abs(series["foreign_inventory_m2"] - series["foreign_influx_m2"]) / scale
    native_out = series["charge_C_m2"] / ELEMENTARY_CHARGE
    native = np.abs(series["native_deficit_m2"] - native_out) / scale
    reported = series["conservation_error"]
    assert np.all(reported >= np.maximum(foreign, native) * (1 - 1e-3) - 1e-15)


# --- native species: deficit vs charge through the back electrode ------------------------
def test_native_deficit_equals_charge_through_back_electrode(default_run, series):
    s = summary(default_run)
    assert s["native_deficit_m2"] > 0
    assert s["native_deficit_m2"] == pytest.approx(
        s["charge_C_m2"] / ELEMENTARY_CHARGE, rel=CONSERVATION_RTOL, abs=0
    )
    for row in _output_rows(series, default_run):
        assert series["native_deficit_m2"][row] == pytest.approx(
            series["charge_C_m2"][row] / ELEMENTARY_CHARGE, rel=CONSERVATION_RTOL, abs=0
        )


def test_charge_is_the_time_integral_of_the_back_current(series):
    integral = float(np.sum(series["back_current_A_m2"] * series["dt_s"]))
    assert integral == pytest.approx(series["charge_C_m2"][-1], rel=1e-10, abs=0)
    assert np.allclose(np.cumsum(series["dt_s"]), series["time_s"], rtol=1e-12, atol=0)


# --- positivity and bounds ---------------------------------------------------------------
def test_min_frac_positive_at_every_step(series):
    assert np.all(np.isfinite(series["min_frac"]))
    assert np.all(series["min_frac"] > 0)


def test_profile_fractions_positive_and_not_overshooting(profiles):
    fractions = [key for key in profiles if key.endswith("_frac")]
    assert sorted(fractions) == ["K_frac", "Li_frac"]
    for key in fractions:
        values = profiles[key]
        assert np.all(np.isfinite(values)), key
        assert np.all(values > 0), f"{key}: min {values.min():.3g}"
        assert np.all(values <= 1 + OVERSHOOT_SLACK), f"{key}: max {values.max():.12g}"
    assert np.all(np.isfinite(profiles["phi_V"]))


# --- charge balance ----------------------------------------------------------------------
def _last_profile(profiles: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    last = profiles["time_s"] == profiles["time_s"].max()
    return {key: values[last] for key, values in profiles.items()}


def test_summary_charge_imbalance_below_one_per_mille(default_run):
    assert 0 <= summary(default_run)["max_charge_imbalance"] < IMBALANCE_LIMIT


def test_profile_charge_imbalance_below_one_per_mille(default_run, profiles):
    last = _last_profile(profiles)
    assert last["time_s"][0] == pytest.approx(summary(default_run)["time_s"], rel=1e-12)
    deep = last["depth_m"] >= IMBALANCE_MIN_DEPTH_M
    assert deep.sum() > 100
    imbalance = np.abs(last["Li_frac"][deep] + last["K_frac"][deep] - 1.0)
    assert imbalance.max() < IMBALANCE_LIMIT, (
        f"{imbalance.max():.3g} at {last['depth_m'][deep][np.argmax(imbalance)]:.3g} m"
    )
    # the summary reports the same maximum (exclusion depth 1 nm in the default study)
    assert summary(default_run)["max_charge_imbalance"] == pytest.approx(
        imbalance.max(), rel=1e-9, abs=1e-15
    )


# --- the surface layer -------------------------------------------------------------------
@pytest.mark.parametrize("which", ["last", "every"])
def test_foreign_profile_monotone_from_surface_to_front(profiles, which):
    times = np.unique(profiles["time_s"])
    if which == "last":
        times = times[-1:]
    for time in times:
        at = profiles["time_s"] == time
        depth, foreign = profiles["depth_m"][at], profiles["K_frac"][at]
        assert np.all(np.diff(depth) > 0)
        assert foreign[0] == pytest.approx(1.0, abs=1e-12)  # held at n_s = n_bg
        front = int(np.flatnonzero(foreign < 0.5)[0])  # first node beyond the front
        assert front > 5, "the front must lie some nodes below the surface"
        rises = np.diff(foreign[: front + 1])
        assert rises.max() <= MONOTONE_SLACK, (
            f"t = {time} s: K_frac rises by {rises.max():.3g} at "
            f"{depth[int(np.argmax(rises)) + 1]:.3g} m"
        )


FRONT_ZONE_M = 5e-9
"""Half-width of the diffusion-front zone, where the space charge of the front sits."""


def test_electroneutral_away_from_surface_layer_and_front_at_every_output(default_run, profiles):
    """Charge imbalance < 1e-3 n_bg everywhere but the surface layer and the front zone.

    At the diffusion front itself the model has a negative excess charge (the paper:
    < 1 per mille at the end); early on, with the front fast and sharp, it is up to ~3e-3.
    """
    outputs = summary(default_run)["outputs"]
    assert len(outputs) == 4
    for output in outputs:
        at = profiles["time_s"] == output["time_s"]
        p = {name: column[at] for name, column in profiles.items()}
        depth = p["depth_m"]
        away = (depth >= IMBALANCE_MIN_DEPTH_M) & (
            np.abs(depth - output["front_depth_m"]) > FRONT_ZONE_M
        )
        imbalance = np.abs(p["Li_frac"][away] + p["K_frac"][away] - 1.0)
        assert imbalance.max() < IMBALANCE_LIMIT, (output["time_s"], imbalance.max())
