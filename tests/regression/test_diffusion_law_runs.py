"""Runs with other D laws: a D(n) table reproduces the SED law it was written from, an
immobile fraction stays behind, and filling the SED above n_bg runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import default_study_dict, femcait, read_table, run_study, summary, write_study

SHORT = {"duration": "1200 s", "output_times": ["600 s"]}


def _short_study() -> dict:
    data = default_study_dict()
    data["experiment"].update(SHORT)
    return data


def test_table_written_by_sed_reproduces_the_sed_run(tmp_path: Path) -> None:
    sed_data = _short_study()
    sed_out = run_study(sed_data, tmp_path / "sed")
    tables = tmp_path / "tables"
    femcait("sed", str(write_study(sed_data, tmp_path / "s.yaml")), "--out", str(tables))
    table_data = _short_study()
    table_data["species"]["Li"]["diffusion"] = {
        "law": "table",
        "file": str(tables / "sed.csv"),
        "species": "Li",
    }
    table_out = run_study(table_data, tmp_path / "table")
    a, b = summary(sed_out), summary(table_out)
    print({k: (a[k], b[k]) for k in ("front_depth_m", "plateau_frac", "charge_C_m2")})
    # 601 rows, log-log linear between them: the D law differs by < 1e-5 relative
    assert b["front_depth_m"] == pytest.approx(a["front_depth_m"], rel=1e-4)
    assert b["plateau_frac"] == pytest.approx(a["plateau_frac"], rel=1e-3)
    assert b["charge_C_m2"] == pytest.approx(a["charge_C_m2"], rel=1e-4)


def test_immobile_fraction_stays_behind(tmp_path: Path) -> None:
    data = _short_study()
    data["species"]["Li"]["diffusion"]["immobile_fraction"] = 0.15
    out = run_study(data, tmp_path)
    s = summary(out)
    profiles = read_table(out / "profiles.csv")
    print(f"plateau {s['plateau_frac']:.5f}, min Li {profiles['Li_frac'].min():.5f}")
    # D vanishes as n falls to 0.15 n_bg: the ions there never leave (the plain SED's
    # Li falls to 6 % in this study), and the Li left behind approaches 0.15 from above
    assert 0.15 - 1e-3 < s["plateau_frac"] < 0.2
    assert profiles["Li_frac"].min() > 0.15 - 1e-3


def test_fill_above_bulk_runs(tmp_path: Path) -> None:
    data = _short_study()
    data["species"]["Li"]["diffusion"]["above_bulk"] = "fill"
    clamp = summary(run_study(_short_study(), tmp_path / "clamp"))
    fill = summary(run_study(data, tmp_path / "fill"))
    assert fill["status"] == "completed"
    # Li rises above n_bg only in a thin layer ahead of the front: the results barely move
    assert fill["front_depth_m"] == pytest.approx(clamp["front_depth_m"], rel=0.02)
