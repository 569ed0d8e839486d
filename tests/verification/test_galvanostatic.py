"""The galvanostatic variant: the beam current is prescribed, the surface potential is free.

The default study, shortened to 10 minutes, with the beam current density set to about
the mean current of the potentiostatic (5 V) run over the same time (11.3 C/m^2 in
600 s, i.e. ~0.019 A/m^2, rounded to 0.02 A/m^2).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import default_study_dict, read_table, run_study, summary

pytestmark = pytest.mark.slow

ELEMENTARY_CHARGE = 1.602176634e-19
CURRENT_DENSITY_A_M2 = 0.02
DURATION_S = 600.0
POTENTIOSTATIC_SURFACE_POTENTIAL_V = 5.0
CHARGING_TRANSIENT_S = 1.0
"""The surface potential spikes while the first foreign ions enter (no foreign ions yet
carry the current at the surface) and settles within milliseconds; after this it rises."""


def galvanostatic_study() -> dict:
    study = default_study_dict()
    experiment = study["experiment"]
    experiment["mode"] = "galvanostatic"
    del experiment["surface_potential"]
    experiment["current_density"] = f"{CURRENT_DENSITY_A_M2} A/m^2"
    experiment["duration"] = f"{DURATION_S:g} s"
    experiment["output_times"] = ["300 s", "600 s"]
    return study


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Path:
    return run_study(galvanostatic_study(), tmp_path_factory.mktemp("galvanostatic"))


@pytest.fixture(scope="module")
def series(run) -> dict[str, np.ndarray]:
    return read_table(run / "timeseries.csv")


def test_completed(run):
    s = summary(run)
    assert s["status"] == "completed"
    assert s["time_s"] == pytest.approx(DURATION_S, rel=1e-12)


def test_foreign_inventory_is_the_injected_charge(run, series):
    injected = CURRENT_DENSITY_A_M2 * DURATION_S / ELEMENTARY_CHARGE
    assert summary(run)["foreign_inventory_m2"] == pytest.approx(injected, rel=1e-8, abs=0)
    # and at every output time (the beam flux is prescribed: inventory = j t / e)
    for time in (300.0, 600.0):
        row = int(np.argmin(np.abs(series["time_s"] - time)))
        assert series["time_s"][row] == pytest.approx(time, rel=1e-12)
        expected = CURRENT_DENSITY_A_M2 * time / ELEMENTARY_CHARGE
        assert series["foreign_inventory_m2"][row] == pytest.approx(expected, rel=1e-8, abs=0)


def test_influx_is_the_beam_flux(series):
    expected = CURRENT_DENSITY_A_M2 * series["time_s"] / ELEMENTARY_CHARGE
    np.testing.assert_allclose(series["foreign_influx_m2"], expected, rtol=1e-10, atol=0)


def test_conservation_error_small(run, series):
    assert summary(run)["conservation_error"] <= 1e-8
    output = int(np.argmin(np.abs(series["time_s"] - 300.0)))
    assert np.all(series["conservation_error"][output:] <= 1e-8)


def test_surface_potential_positive_finite_and_rising(series):
    potential, time = series["surface_potential_V"], series["time_s"]
    assert np.all(np.isfinite(potential))
    assert np.all(potential > 0)
    settled = time >= CHARGING_TRANSIENT_S
    assert settled.sum() > 10
    rises = np.diff(potential[settled])
    assert rises.min() >= -1e-9, f"falls by {-rises.min():.3g} V"
    assert potential[-1] > potential[settled][0]
    at_half = int(np.argmin(np.abs(time - DURATION_S / 2)))
    assert potential[-1] > potential[at_half]


def test_surface_potential_comparable_to_potentiostatic_run(run):
    """The current is the 5 V run's mean current, so the potential needed is about 5 V."""
    final = summary(run)["surface_potential_V"]
    assert math.isfinite(final)
    assert 0.5 * POTENTIOSTATIC_SURFACE_POTENTIAL_V < final < 2 * POTENTIOSTATIC_SURFACE_POTENTIAL_V


def test_back_current_carries_the_beam_current(run):
    """Quasi-neutral bulk: what enters at the front leaves at the back (space charge ~1e-5)."""
    s = summary(run)
    assert s["charge_C_m2"] == pytest.approx(CURRENT_DENSITY_A_M2 * DURATION_S, rel=1e-3)
    assert s["back_current_A_m2"] == pytest.approx(CURRENT_DENSITY_A_M2, rel=1e-3)


def test_positive(run, series):
    assert np.all(series["min_frac"] > 0)
    profiles = read_table(run / "profiles.csv")
    for key in ("Li_frac", "K_frac"):
        assert np.all(profiles[key] > 0), key


def test_a_divalent_beam_passes_the_same_charge_with_half_the_ions(tmp_path):
    """j is a current: a beam of z = 2 ions brings j t / (2 e) ions, and the charge passed
    is still j t (10 s of the study, K+ made K2+)."""
    study = galvanostatic_study()
    study["species"]["K"]["charge"] = 2
    study["experiment"].update(duration="10 s", output_times=["10 s"])
    s = summary(run_study(study, tmp_path))
    ions = CURRENT_DENSITY_A_M2 * 10.0 / (2 * ELEMENTARY_CHARGE)
    assert s["foreign_influx_m2"] == pytest.approx(ions, rel=1e-10, abs=0)
    # the inventory follows to Newton's tolerance (early on, little has moved: 1e-6)
    assert s["foreign_inventory_m2"] == pytest.approx(ions, rel=1e-6, abs=0)
    assert s["charge_C_m2"] == pytest.approx(CURRENT_DENSITY_A_M2 * 10.0, rel=1e-3)
