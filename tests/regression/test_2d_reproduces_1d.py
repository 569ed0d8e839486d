"""Where the physics is 1D, the 2D runs are the 1D run: the shipped 2D strip
(studies/li3b7o12_k_cait_2d.yaml) and an axisymmetric disc exposed all over, against the
default 1D study, at every output time.

The issue's bar is a front depth within 0.5 % and profiles within 1 % (the area between
the profiles over the first micrometre, relative to the front depth). All three adapt
(the default); nothing varies laterally, so every line of a 2D mesh keeps the depth nodes
of the 1D mesh, the box method makes a laterally uniform solution exactly the 1D one, and
the test asks for much more: 1e-6.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml

from tests.conftest import ROOT, read_table, run_study, summary

pytestmark = pytest.mark.slow

STRIP = ROOT / "studies" / "li3b7o12_k_cait_2d.yaml"
AGREEMENT = 1e-6
WINDOW_M = 1e-6


def disc_study() -> dict:
    """The strip study on an axisymmetric disc of 20 nm radius, exposed all over."""
    study = yaml.safe_load(STRIP.read_text())
    study["name"] = "disc_exposed"
    study["geometry"] = {"kind": "disc", "radius": "20 nm"}
    study["mesh"] = {"lateral_max_cell": "5 nm"}
    return study


@pytest.fixture(scope="module")
def runs(tmp_path_factory, default_run) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("two_d")
    return {
        "1d": default_run,
        "strip": run_study(yaml.safe_load(STRIP.read_text()), folder / "strip"),
        "disc": run_study(disc_study(), folder / "disc"),
    }


def profile_area(reference: dict, other: dict, time_s: float, key: str) -> float:
    """Integral over the first micrometre of |other - reference| at time_s (trapezoid on
    the union of the depths, both linear between their own points)."""
    a = reference["time_s"] == time_s
    b = other["time_s"] == time_s
    za, zb = reference["depth_m"][a], other["depth_m"][b]
    z = np.union1d(za[za <= WINDOW_M], zb[zb <= WINDOW_M])
    difference = np.abs(np.interp(z, za, reference[key][a]) - np.interp(z, zb, other[key][b]))
    return float(np.trapezoid(difference, z))


@pytest.mark.parametrize("name", ["strip", "disc"])
def test_front_depth_at_every_output(runs, name):
    reference, other = summary(runs["1d"])["outputs"], summary(runs[name])["outputs"]
    assert [o["time_s"] for o in other] == [o["time_s"] for o in reference]
    for mine, theirs in zip(other, reference, strict=True):
        assert mine["front_depth_m"] == pytest.approx(theirs["front_depth_m"], rel=AGREEMENT)
        # the whole front is exposed: no spread (but round-off in the lines' fronts)
        assert mine["front_lateral_spread_m"] < 1e-12 * mine["front_depth_m"]


@pytest.mark.parametrize("name", ["strip", "disc"])
def test_profiles_at_every_output(runs, name):
    reference = read_table(runs["1d"] / "profiles.csv")
    other = read_table(runs[name] / "profiles.csv")
    assert "position_m" in other and "position_m" not in reference
    fronts = {o["time_s"]: o["front_depth_m"] for o in summary(runs["1d"])["outputs"]}
    for time_s, front in fronts.items():
        for key in ("Li_frac", "K_frac"):
            area = profile_area(reference, other, time_s, key)
            assert area / front < AGREEMENT, (time_s, key, area / front)


@pytest.mark.parametrize("name", ["strip", "disc"])
def test_areal_quantities_and_statistics(runs, name):
    """Per unit area of the exposed front, the 2D inventories and charge are the 1D ones;
    the totals are those times the exposed area (per metre of strip, or of the disc)."""
    reference, other = summary(runs["1d"]), summary(runs[name])
    keys = ("foreign_inventory_m2", "charge_C_m2", "plateau_frac", "native_deficit_m2")
    for key in (*keys, "largest_depth_change"):  # the same depth edges in every column
        assert other[key] == pytest.approx(reference[key], rel=AGREEMENT), key
    assert other["steps"] == reference["steps"]
    assert other["conservation_error"] < 1e-8
    if name == "strip":
        width = 10e-9
        assert other["foreign_inventory_per_m"] == pytest.approx(
            other["foreign_inventory_m2"] * width, rel=1e-12
        )
    else:
        area = np.pi * 20e-9**2
        assert other["foreign_inventory_ions"] == pytest.approx(
            other["foreign_inventory_m2"] * area, rel=1e-12
        )
        assert other["charge_C"] == pytest.approx(other["charge_C_m2"] * area, rel=1e-12)


def test_2d_outputs_exist(runs):
    out = runs["strip"]
    names = {p.name for p in out.iterdir()}
    assert {"fields.xdmf", "fields.h5", "profiles.csv", "timeseries.csv", "summary.json"} <= names
    maps = sorted(p.name for p in out.glob("map_*s.png"))
    assert maps == sorted(f"map_{t:g}s.png" for t in (600.0, 1800.0, 3600.0, 10800.0))


def test_crater_average_of_a_uniform_strip_is_its_profile(runs):
    crater = read_table(runs["strip"] / "crater.csv")
    profiles = read_table(runs["strip"] / "profiles.csv")
    assert list(crater) == ["time_s", "depth_m", "Li_frac", "K_frac"]
    for time_s in np.unique(profiles["time_s"]):
        a, b = crater["time_s"] == time_s, profiles["time_s"] == time_s
        for key in ("Li_frac", "K_frac"):
            at_depths = np.interp(crater["depth_m"][a], profiles["depth_m"][b], profiles[key][b])
            np.testing.assert_allclose(crater[key][a], at_depths, rtol=1e-9, atol=1e-12)
