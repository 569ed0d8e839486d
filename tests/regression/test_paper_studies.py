"""The shipped paper studies: plateaus of about 15, 7 and 3 % behind a ~100 nm front with
one Li SED (Fig. 1, qualitatively; imposed by the immobile fraction), the plateau that
emerges from a two-component SED without one, and the sequential double CAIT."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import yaml

from femcait.study import load_study
from tests.conftest import ROOT, read_table, run_study, summary

PLATEAUS = {"k": 0.15, "rb": 0.07, "cs": 0.03}


def _study(name: str) -> dict:
    return yaml.safe_load((ROOT / "studies" / f"{name}.yaml").read_text())


@pytest.mark.parametrize("ion", list(PLATEAUS))
def test_fig1_plateau(ion: str, tmp_path: Path) -> None:
    out = run_study(_study(f"paper_fig1_{ion}"), tmp_path)
    s = summary(out)
    profiles = read_table(out / "profiles.csv")
    last = profiles["time_s"] == profiles["time_s"].max()
    depth, li = profiles["depth_m"][last], profiles["Li_frac"][last]
    behind = (depth > 5e-9) & (depth < 0.6 * s["front_depth_m"])
    print(f"{ion}: front {s['front_depth_m']:.4g} m, plateau {s['plateau_frac']:.4f}")
    assert 70e-9 < s["front_depth_m"] < 130e-9
    assert s["plateau_frac"] == pytest.approx(PLATEAUS[ion], abs=0.015)
    assert np.ptp(li[behind]) < 0.02  # flat
    assert s["conservation_error"] < 1e-6
    assert s["immobile_undershoot"]["Li"] < 1e-6
    assert json.loads((out / "study.json").read_text())["time"]["scheme"] == "euler"  # auto


def test_bdf2_past_the_immobile_level_is_reported(tmp_path: Path) -> None:
    """BDF2 carries draining Li+ below its immobile level (where it stays): the run says so."""
    data = _study("paper_fig1_k")
    data["time"] = {"scheme": "bdf2"}
    s = summary(run_study(data, tmp_path))
    print(f"BDF2: plateau {s['plateau_frac']}, undershoot {s['immobile_undershoot']}")
    assert s["plateau_frac"] < 0.145
    assert s["immobile_undershoot"]["Li"] > 0.01
    assert any("below its immobile level" in warning for warning in s["warnings"])


def _last_profile(out: Path, species: str) -> tuple[np.ndarray, np.ndarray]:
    profiles = read_table(out / "profiles.csv")
    last = profiles["time_s"] == profiles["time_s"].max()
    return profiles["depth_m"][last], profiles[f"{species}_frac"][last]


def test_two_component_sed_plateau_emerges(tmp_path: Path) -> None:
    """Without an immobile fraction, a deep SED component traps its share of the Li+: a
    flat, time-independent plateau at that share; the main component alone gives none."""
    name = "paper_fig1_k_two_component_sed"
    data = _study(name)
    assert "immobile_fraction" not in data["species"]["Li"]["diffusion"]  # nothing imposed
    sed = load_study(ROOT / "studies" / f"{name}.yaml").species["Li"].diffusion.sed
    deep = min(sed.components, key=lambda c: c.centre)
    main = max(sed.components, key=lambda c: c.centre)
    total = sum(c.weight for c in sed.components)
    deep_share = deep.weight / total / (1 - sed.vacancy_fraction)  # deep sites per n_bg

    out = run_study(data, tmp_path / "two")
    s = summary(out)
    depth, li = _last_profile(out, "Li")
    behind = (depth > 5e-9) & (depth < 0.6 * s["front_depth_m"])
    levels = [o["plateau_frac"] for o in s["outputs"]]
    print(f"two-component: front {s['front_depth_m']:.4g} m, plateau {levels}, deep {deep_share}")
    assert s["status"] == "completed"
    assert 70e-9 < s["front_depth_m"] < 130e-9
    assert s["plateau_frac"] == pytest.approx(deep_share, abs=0.005)  # at the deep share
    assert np.ptp(li[behind]) < 0.01  # flat
    assert max(levels) - min(levels) < 0.005  # the same from 10 min to 3 h
    assert s["conservation_error"] < 1e-6

    control = yaml.safe_load(yaml.safe_dump(data))
    control["name"] = f"{name}_main_only"
    control["species"]["Li"]["diffusion"]["sed"] = {
        "shape": "gaussian",
        "fwhm": f"{main.fwhm} J",
        "centre": f"{main.centre} J",
        "vacancy_fraction": sed.vacancy_fraction,
    }
    c = summary(run_study(control, tmp_path / "control"))
    print(f"main component only: plateau {c['plateau_frac']}")
    assert c["plateau_frac"] < 0.25 * deep_share  # no plateau near the deep share


def test_double_cait(tmp_path: Path) -> None:
    out = run_study(_study("paper_double_cait_rb_cs"), tmp_path)
    s = summary(out)
    assert s["status"] == "completed"
    series = read_table(out / "timeseries.csv")
    assert set(series["stage"]) == {0.0, 1.0}
    first = series["stage"] == 0
    # only the initial trace (1e-12 n_bg) of Cs in stage 1
    assert np.all(series["Cs_inventory_m2"][first] < 1e-6 * series["Rb_inventory_m2"][first][-1])
    assert s["Cs_inventory_m2"] > 0.5 * s["Rb_inventory_m2"]  # Cs entered in stage 2
    assert s["conservation_error"] < 1e-6
    profiles = read_table(out / "profiles.csv")
    last = profiles["time_s"] == profiles["time_s"].max()
    depth = profiles["depth_m"][last]

    def centroid(name: str) -> float:
        n = profiles[f"{name}_frac"][last]
        return float(np.trapezoid(depth * n, depth) / np.trapezoid(n, depth))

    assert centroid("Rb") > centroid("Cs")  # Cs enters behind the Rb it pushes ahead
