"""``femcait sed``: the SED analysis of a study, its files, and D(n) tables fed back in."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
import yaml
from scipy import constants
from scipy.special import ndtri

from tests.conftest import ROOT, default_study_dict, femcait, write_study

REQUIRED_COLUMNS = {"n_frac", "E_F_eV", "E_act_eV", "D_m2_s"}


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as stream:
        return list(csv.DictReader(stream))


def _sed(tmp_path: Path, data: dict, name: str = "study") -> tuple[Path, str]:
    study = write_study(data, tmp_path / f"{name}.yaml")
    out = tmp_path / f"{name}-sed"
    result = femcait("sed", str(study), "--out", str(out))
    return out, result.stdout


@pytest.fixture(scope="module")
def default_sed(tmp_path_factory) -> tuple[Path, str]:
    return _sed(tmp_path_factory.mktemp("sed"), default_study_dict())


def test_default_study_files(default_sed) -> None:
    out, stdout = default_sed
    assert {p.name for p in out.iterdir()} >= {
        "sed.csv",
        "sed.json",
        "study.json",
        "sed_diffusion.png",
        "sed_psed.png",
    }
    rows = _rows(out / "sed.csv")
    assert set(rows[0]) >= REQUIRED_COLUMNS
    assert {row["species"] for row in rows} == {"Li"}  # K has a constant D: no SED
    c = np.array([float(row["n_frac"]) for row in rows])
    assert c[0] == pytest.approx(1e-6, rel=1e-12)
    assert c[-1] == 1.0  # a row at exactly n_bg
    assert np.all(np.diff(c) > 0)
    D = np.array([float(row["D_m2_s"]) for row in rows])
    assert D[-1] == pytest.approx(4.6e-18, rel=1e-12)
    assert np.all(np.diff(D) > 0)
    E_F = np.array([float(row["E_F_eV"]) for row in rows])
    E_act = np.array([float(row["E_act_eV"]) for row in rows])
    kT = constants.k * 300.0 / constants.e
    assert np.allclose(D, D[-1] * np.exp((E_F - E_F[-1]) / kT), rtol=1e-12)
    assert np.allclose(E_act, E_F[-1] - E_F, atol=1e-15)  # no E_DC: relative to the bulk
    summary = json.loads((out / "sed.json").read_text())
    assert summary["psed_fwhm_eV"] == pytest.approx(0.25, rel=1e-6)
    assert summary["species"]["Li"]["psed_fwhm_eV"] == summary["psed_fwhm_eV"]
    assert summary["E_act_reference"] == "bulk"
    assert 4.0 <= summary["decades_bulk_to_tenth"] <= 5.0  # the paper: about 4 decades
    assert "E_F(n_bg) = 0.1361 eV" in stdout
    assert "PSED FWHM 250.0 meV" in stdout


def test_absolute_activation_energy_and_immobile_part(tmp_path: Path) -> None:
    data = default_study_dict()
    data["species"]["Li"]["diffusion"] = {
        "law": "sed",
        "D0": "1e-8 m^2/s",
        "E_DC": "0.7 eV",
        "immobile_fraction": 0.15,
        "sed": {
            "shape": "gaussian_sum",
            "components": [
                {"weight": 0.8, "fwhm": "250 meV"},
                {"weight": 0.2, "fwhm": "100 meV", "centre": "-0.3 eV"},
            ],
        },
    }
    out, _ = _sed(tmp_path, data)
    s = json.loads((out / "sed.json").read_text())
    assert s["E_act_reference"] == "absolute"
    assert s["E_act_bulk_eV"] == pytest.approx(0.7 - s["E_F_bulk_eV"], abs=1e-12)
    kT = constants.k * 300.0 / constants.e
    assert s["D_bulk_m2_s"] == pytest.approx(1e-8 * np.exp(-s["E_act_bulk_eV"] / kT), rel=1e-12)
    assert 0 < s["mobile_psed_fwhm_eV"] <= s["psed_fwhm_eV"]
    rows = _rows(out / "sed.csv")
    c = np.array([float(r["n_frac"]) for r in rows])
    D = np.array([float(r["D_m2_s"]) for r in rows])
    assert np.all(D[c <= 0.15] == 0.0)  # the immobile part never moves
    assert np.all(D[c > 0.15] > 0.0)


SED_RANGE_KEYS = ("D_min_m2_s", "D_range_decades", "D_tenth_m2_s", "decades_bulk_to_tenth")


def test_sed_range_without_the_default_study_cut_equals_the_range(default_sed) -> None:
    """No immobile fraction: the SED's own range is the range, and there is no cut."""
    out, _ = default_sed
    s = json.loads((out / "sed.json").read_text())
    for key in SED_RANGE_KEYS:
        assert s[f"sed_{key}"] == s[key], key
    assert s["immobile_cut_n_frac"] is None
    assert s["sed_D_at_cut_m2_s"] is None


def test_immobile_cut_is_reported_apart_from_the_sed_range(tmp_path: Path) -> None:
    """paper_fig1_k: the D range stops at the cut (D = 0 below 0.15 n_bg); the sed_* keys
    are those of the same study without the immobile fraction, and the SED's D at the cut
    is D_bulk exp((E_F(0.15) - E_F(1)) / kT) of its Gaussian."""
    study = ROOT / "studies" / "paper_fig1_k.yaml"
    data = yaml.safe_load(study.read_text())
    cut = data["species"]["Li"]["diffusion"]["immobile_fraction"]
    out, stdout = _sed(tmp_path, data, "cut")
    s = json.loads((out / "sed.json").read_text())
    del data["species"]["Li"]["diffusion"]["immobile_fraction"]
    plain_out, plain_stdout = _sed(tmp_path, data, "plain")
    plain = json.loads((plain_out / "sed.json").read_text())

    assert s["immobile_cut_n_frac"] == cut
    assert s["decades_bulk_to_tenth"] is None  # D(n_bg / 10) = 0 below the cut
    assert s["D_min_m2_s"] > 1e3 * s["sed_D_min_m2_s"]  # the cut's smallest nonzero D
    for key in SED_RANGE_KEYS:
        assert s[f"sed_{key}"] == pytest.approx(plain[key], rel=1e-12), key
    assert 4.0 <= s["sed_decades_bulk_to_tenth"] <= 5.0  # the paper: about 4 decades
    sigma = 0.25 / (2 * np.sqrt(2 * np.log(2)))  # FWHM 250 meV, centre 0, 10 % vacancies
    kT = constants.k * 300.0 / constants.e
    shift = sigma * (ndtri(0.9 * cut) - ndtri(0.9)) / kT
    assert s["sed_D_at_cut_m2_s"] == pytest.approx(3.0e-15 * np.exp(shift), rel=1e-6)
    assert s["species"]["Li"]["sed_D_at_cut_m2_s"] == s["sed_D_at_cut_m2_s"]
    # the console line gives the SED's own range, as without the cut, and names the cut
    decades = f"({plain['D_range_decades']:.2f} decades)"
    assert decades in stdout and decades in plain_stdout
    assert f"immobile below n/n_bg = {cut:g}" in stdout


def test_a_table_written_by_sed_inverts_to_the_same_psed(tmp_path: Path, default_sed) -> None:
    out, _ = default_sed
    (tmp_path / "tables").mkdir()
    (tmp_path / "tables" / "li.csv").write_bytes((out / "sed.csv").read_bytes())
    data = default_study_dict()
    data["species"]["Li"]["diffusion"] = {
        "law": "table",
        "file": "tables/li.csv",  # relative to the study file
        "species": "Li",
    }
    table_out, _ = _sed(tmp_path, data, "table")
    s = json.loads((table_out / "sed.json").read_text())
    assert s["law"] == "table"
    assert s["psed_fwhm_eV"] == pytest.approx(0.25, rel=0.01)
    assert s["D_bulk_m2_s"] == pytest.approx(4.6e-18, rel=1e-12)
    resolved = json.loads((table_out / "study.json").read_text())
    assert len(resolved["species"]["Li"]["diffusion"]["D"]) == 601  # self-contained


def test_no_sed_species_is_an_error(tmp_path: Path) -> None:
    data = default_study_dict()
    data["species"]["Li"]["diffusion"] = {"law": "constant", "D": "1e-18 m^2/s"}
    study = write_study(data, tmp_path / "study.yaml")
    result = femcait("sed", str(study), "--out", str(tmp_path / "out"), check=False)
    assert result.returncode == 2
    assert "no species has an SED or D(n) table law" in result.stderr
    assert not (tmp_path / "out").exists()


def test_bad_table_file_names_the_key(tmp_path: Path) -> None:
    (tmp_path / "d.csv").write_text("n,D\n0.1,1e-20\n1,1e-18\n")
    data = default_study_dict()
    data["species"]["Li"]["diffusion"] = {"law": "table", "file": "d.csv"}
    study = write_study(data, tmp_path / "study.yaml")
    result = femcait("sed", str(study), "--out", str(tmp_path / "out"), check=False)
    assert result.returncode == 2
    assert "species.Li.diffusion.file:" in result.stderr
    assert "no column 'n_frac'" in result.stderr
    assert "Traceback" not in result.stderr


def test_refuses_a_folder_of_other_data(tmp_path: Path) -> None:
    out = tmp_path / "data"
    out.mkdir()
    (out / "keep.txt").write_text("measured")
    study = write_study(default_study_dict(), tmp_path / "study.yaml")
    result = femcait("sed", str(study), "--out", str(out), check=False)
    assert result.returncode == 2
    assert (out / "keep.txt").read_text() == "measured"
