"""`femcait fit` end to end: a synthetic profile made by femcait from a known D(K+),
through a 2 nm depth resolution and with noise, is fitted back from a start 2.6 times
off; for two noise seeds the fit lands within 3 reported standard errors of the truth.
A joint fit of two experiments recovers a shared and a per-experiment parameter. Bad fit
input stops before any forward run, naming the key."""

from __future__ import annotations

import csv
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import yaml

from femcait.study import study_from_dict
from tests.conftest import default_study_dict, femcait, write_study

TRUE_D = 2.6e-21


@pytest.fixture(scope="module")
def fit_folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("fit")
    truth = default_study_dict()
    truth["name"] = "truth"
    truth["experiment"]["duration"] = "1800 s"
    truth["experiment"]["output_times"] = ["1800 s"]
    write_study(truth, folder / "truth.yaml")
    start = truth | {"name": "start"}
    start["species"]["K"]["diffusion"]["D"] = "1e-21 m^2/s"
    write_study(start, folder / "start.yaml")
    return folder


def synthetic(folder, out: str, *options: str, study: str = "truth.yaml") -> None:
    """A synthetic measured profile of ``study`` (60 points down to 60 nm) into ``out``,
    with the options of `femcait.fit.synthetic`."""
    subprocess.run(
        [sys.executable, "-m", "femcait.fit.synthetic", str(folder / study), str(folder / out),
         "--depth", "60e-9", "--points", "60", *options],
        check=True, capture_output=True,
    )  # fmt: skip


def fit_file(folder, measured: str, parameters: dict) -> str:
    data = {
        "name": "fit_k",
        "experiments": [
            {
                "name": "k",
                "study": "start.yaml",
                "measured": {
                    "file": measured,
                    "depth_column": "depth_nm",
                    "depth_unit": "1 nm",
                    "species": {"K": "K_frac", "Li": "Li_frac"},
                    "floor": 1e-3,
                    "window": ["1 nm", "60 nm"],
                },
            }
        ],
        "parameters": parameters,
        "resolution": {"sigma": "2 nm"},
    }
    path = folder / f"fit_{measured}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return str(path)


def converged_fit(path: Path, data: dict, out: Path) -> dict:
    """Write the fit file ``data`` to ``path`` and fit into ``out``: its fit.json, which
    must say converged."""
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    femcait("fit", str(path), "--out", str(out))
    report = json.loads((out / "fit.json").read_text())
    assert report["status"] == "converged"
    return report


def fit_of_the_truth(folder, measured: str, parameters: dict, out: str, **changes) -> dict:
    """fit.json of a fit of measurement-model ``parameters`` only, to the true study: it
    converges with one forward run (the study never changes)."""
    path = Path(fit_file(folder, measured, parameters))
    data = yaml.safe_load(path.read_text())
    data["experiments"][0]["study"] = "truth.yaml"
    data.update(changes)
    report = converged_fit(path, data, folder / out)
    assert report["forward_runs"] == 1
    return report


D_PARAMETER = {"species.K.diffusion.D": {"min": "1e-22 m^2/s", "max": "1e-19 m^2/s", "log": True}}


@pytest.mark.parametrize("seed", [1, 2])
def test_a_synthetic_profile_is_recovered_within_its_uncertainty(fit_folder, seed):
    measured = f"measured_{seed}.csv"
    synthetic(fit_folder, measured, "--noise", "0.01", "--seed", str(seed))
    out = fit_folder / f"out_{seed}"
    result = femcait("fit", fit_file(fit_folder, measured, D_PARAMETER), "--out", str(out))
    assert "species.K.diffusion.D = " in result.stdout
    report = json.loads((out / "fit.json").read_text())
    assert report["status"] == "converged"
    fitted = report["parameters"]["species.K.diffusion.D"]
    assert 0 < fitted["stderr"] < 0.05 * TRUE_D
    assert abs(fitted["value"] - TRUE_D) < 3 * fitted["stderr"], fitted
    assert report["forward_runs"] == len(list((out / "runs" / "k").iterdir()))
    assert report["reused_runs"] >= 1  # the optimum, evaluated again for the report
    assert (out / "runs" / "k" / "0001" / "summary.json").is_file()
    assert (out / "fit_k.png").stat().st_size > 0
    assert (out / "fit_bands_k.png").stat().st_size > 0
    bands = list(csv.DictReader((out / "fit_bands.csv").open()))
    k = [row for row in bands if row["species"] == "K" and row["curve"] == "D_m2_s"]
    assert k and all(float(r["low"]) < fitted["value"] < float(r["high"]) for r in k)
    assert (out / "fit_points.csv").read_text().startswith("experiment,species,depth_m,")
    best = yaml.safe_load((out / "best_fit_k.yaml").read_text())
    study = study_from_dict(best, "best_fit_k.yaml", fit_folder)
    assert pytest.approx(fitted["value"]) == study.species["K"].diffusion.D
    if seed == 1:  # started again, the fit finds every run done: how a stopped fit resumes
        femcait("fit", fit_file(fit_folder, measured, D_PARAMETER), "--out", str(out))
        again = json.loads((out / "fit.json").read_text())
        assert again["forward_runs"] == 0
        assert again["reused_runs"] == report["forward_runs"] + report["reused_runs"]
        assert again["parameters"] == report["parameters"]


def test_an_interrupted_fit_keeps_its_runs_and_resumes(fit_folder):
    measured = "measured_interrupted.csv"
    synthetic(fit_folder, measured, "--seed", "3")
    out = fit_folder / "out_interrupted"
    command = [str(Path(sys.executable).parent / "femcait"), "fit"]
    fit = fit_file(fit_folder, measured, D_PARAMETER)
    process = subprocess.Popen(
        [*command, fit, "--out", str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    deadline = time.monotonic() + 300
    while not (out / "runs" / "k" / "0002" / "summary.json").exists():
        assert process.poll() is None and time.monotonic() < deadline
        time.sleep(0.05)
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    assert "the same command resumes" in stderr.decode()
    assert not (out / "fit.json").exists()
    kept = [run for run in (out / "runs" / "k").iterdir() if (run / "summary.json").is_file()]
    assert len(kept) >= 2
    femcait("fit", fit, "--out", str(out))
    assert json.loads((out / "fit.json").read_text())["reused_runs"] >= len(kept)


@pytest.mark.parametrize(
    ("parameters", "named"),
    [
        ({"species.K.diffusion.Dx": {"min": 0, "max": 1}}, "has no key 'species.K.diffusion.Dx'"),
        ({"species.Li.diffusion.law": {"min": 0, "max": 1}}, "is 'sed', not a number"),
        ({"other:species.K.diffusion.D": {"min": 0, "max": 1}}, "no experiment named 'other'"),
        (
            {"species.K.diffusion.D": {"min": 1e-20, "max": 1e-19}},
            "the starting value 1e-21 lies outside",
        ),
    ],
)
def test_bad_parameters_stop_before_any_forward_run(fit_folder, parameters, named):
    (fit_folder / "measured_bad.csv").write_text("depth_nm,K_frac,Li_frac\n1,0.9,0.1\n2,0.5,0.5\n")
    out = fit_folder / "out_bad"
    result = femcait("fit", fit_file(fit_folder, "measured_bad.csv", parameters), "--out",
                     str(out), check=False)  # fmt: skip
    assert result.returncode == 2, result.stderr
    assert named in result.stderr
    assert "fit_measured_bad.csv.yaml: parameters." in result.stderr
    assert "Traceback" not in result.stderr
    assert not out.exists()


def test_a_joint_fit_shares_one_parameter_and_fits_another_per_experiment(fit_folder):
    """Two CAITs (5 V, and 2.5 V) share D(K+); the surface potential of the second is
    fitted for it alone (`b:experiment.surface_potential`). Both come back within 3
    standard errors, and both best-fit studies carry the one fitted D(K+)."""
    low = default_study_dict()
    low["name"] = "truth_low"
    low["experiment"]["duration"] = "1800 s"
    low["experiment"]["output_times"] = ["1800 s"]
    low["experiment"]["surface_potential"] = "2.5 V"
    write_study(low, fit_folder / "truth_low.yaml")
    low["name"] = "start_low"
    low["species"]["K"]["diffusion"]["D"] = "1e-21 m^2/s"
    low["experiment"]["surface_potential"] = "3 V"
    write_study(low, fit_folder / "start_low.yaml")
    for truth, measured in (("truth.yaml", "joint_a.csv"), ("truth_low.yaml", "joint_b.csv")):
        synthetic(fit_folder, measured, "--noise", "0.01", "--seed", "3", study=truth)
    data = yaml.safe_load(Path(fit_file(fit_folder, "joint_a.csv", D_PARAMETER)).read_text())
    second = json.loads(json.dumps(data["experiments"][0]))
    second.update(name="b", study="start_low.yaml")
    second["measured"]["file"] = "joint_b.csv"
    data["experiments"].append(second)
    data["parameters"]["b:experiment.surface_potential"] = {"min": "1 V", "max": "5 V"}
    out = fit_folder / "out_joint"
    report = converged_fit(fit_folder / "joint.yaml", data, out)
    shared = report["parameters"]["species.K.diffusion.D"]
    potential = report["parameters"]["b:experiment.surface_potential"]
    assert abs(shared["value"] - TRUE_D) < 3 * shared["stderr"], shared
    assert abs(potential["value"] - 2.5) < 3 * potential["stderr"], potential
    assert 0 < potential["stderr"] < 0.1
    studies = [yaml.safe_load((out / f"best_fit_{n}.yaml").read_text()) for n in ("k", "b")]
    assert [s["species"]["K"]["diffusion"]["D"] for s in studies] == [shared["value"]] * 2
    assert studies[0]["experiment"]["surface_potential"] == "5 V"  # untouched in k
    assert studies[1]["experiment"]["surface_potential"] == pytest.approx(potential["value"])
    assert {p.name for p in (out / "runs").iterdir()} == {"k", "b"}


def test_a_depth_offset_and_scale_are_recovered(fit_folder):
    """The synthetic profile of the true study, with its depths miscalibrated as a SIMS
    sputter rate and surface transient would (measured = (true - 1.5 nm) / 1.08), is fitted
    for `depth.offset` and `depth.scale` alone: one forward run (the study never changes),
    both back within 3 standard errors."""
    offset_nm, scale = 1.5, 1.08
    synthetic(fit_folder, "calibrated.csv", "--noise", "0.01", "--seed", "4")
    rows = list(csv.DictReader((fit_folder / "calibrated.csv").open()))
    with (fit_folder / "miscalibrated.csv").open("w", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=list(rows[0]))
        writer.writeheader()
        for row in rows:
            depth = (float(row["depth_nm"]) - offset_nm) / scale
            if depth > 0:
                writer.writerow({**row, "depth_nm": depth})
    parameters = {
        "depth.offset": {"min": "-5 nm", "max": "5 nm"},
        "depth.scale": {"min": 0.8, "max": 1.25},
    }
    report = fit_of_the_truth(fit_folder, "miscalibrated.csv", parameters, "out_calibration")
    fitted_offset = report["parameters"]["depth.offset"]
    fitted_scale = report["parameters"]["depth.scale"]
    assert abs(fitted_offset["value"] - offset_nm * 1e-9) < 3 * fitted_offset["stderr"]
    assert abs(fitted_scale["value"] - scale) < 3 * fitted_scale["stderr"]
    assert 0 < fitted_scale["stderr"] < 0.02
    calibration = report["depth_calibration"]["k"]
    assert calibration == {"offset_m": fitted_offset["value"], "scale": fitted_scale["value"]}


def test_a_depth_calibration_both_shared_and_per_experiment_is_refused(fit_folder):
    (fit_folder / "measured_cal.csv").write_text("depth_nm,K_frac,Li_frac\n1,0.9,0.1\n2,0.5,0.5\n")
    parameters = {
        "depth.scale": {"min": 0.8, "max": 1.2},
        "k:depth.scale": {"min": 0.8, "max": 1.2},
    }
    out = fit_folder / "out_cal_bad"
    result = femcait("fit", fit_file(fit_folder, "measured_cal.csv", parameters), "--out",
                     str(out), check=False)  # fmt: skip
    assert result.returncode == 2, result.stderr
    assert "depth.scale is both shared and per experiment" in result.stderr
    assert not out.exists()


def test_the_mixing_length_of_the_mri_resolution_is_recovered(fit_folder):
    """A synthetic profile seen through 1 nm roughness and 3 nm atomic mixing, fitted for
    the mixing length from 1 nm: back within 3 standard errors, from one forward run."""
    synthetic(
        fit_folder,
        "mixed.csv",
        "--sigma",
        "1e-9",
        "--mixing",
        "3e-9",
        "--noise",
        "0.01",
        "--seed",
        "5",
    )
    parameters = {"resolution.mixing": {"min": "0.1 nm", "max": "10 nm", "initial": "1 nm"}}
    report = fit_of_the_truth(
        fit_folder, "mixed.csv", parameters, "out_mixing", resolution={"sigma": "1 nm"}
    )
    mixing = report["parameters"]["resolution.mixing"]
    assert 0 < mixing["stderr"] < 0.5e-9
    assert abs(mixing["value"] - 3e-9) < 3 * mixing["stderr"], mixing
    assert report["resolution"] == {
        "sigma_m": 1e-9,
        "mixing_m": mixing["value"],
        "information_m": 0.0,
    }


def test_counts_with_poisson_noise_are_fitted_with_honest_errors(fit_folder):
    """SIMS-like counts: the true profile (no Gaussian noise) times 2e4 counts per n_bg,
    drawn from a Poisson distribution; K given by its level, Li normalised to its bulk
    (40-60 nm, behind the front). Fitted with the Poisson residual from a start 2.6 times
    off: D(K+) within 3 standard errors, and a reduced chi^2 near 1 (the noise model is
    the truth's)."""
    level = 2e4
    synthetic(fit_folder, "exact.csv", "--noise", "0", "--floor", "0")
    rng = np.random.default_rng(6)
    rows = list(csv.DictReader((fit_folder / "exact.csv").open()))
    with (fit_folder / "counts.csv").open("w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(["depth_nm", "K_counts", "Li_counts"])
        for row in rows:
            counts = [rng.poisson(level * float(row[f"{n}_frac"])) for n in ("K", "Li")]
            writer.writerow([row["depth_nm"], *counts])
    path = Path(fit_file(fit_folder, "counts.csv", D_PARAMETER))
    data = yaml.safe_load(path.read_text())
    measured = data["experiments"][0]["measured"]
    measured["species"] = {"K": "K_counts", "Li": "Li_counts"}
    measured.update(signals={"K": level, "Li": "bulk"}, bulk_window=["40 nm", "60 nm"])
    measured["floor"] = 0.0
    data["residual"] = "poisson"
    report = converged_fit(path, data, fit_folder / "out_counts")
    fitted = report["parameters"]["species.K.diffusion.D"]
    assert abs(fitted["value"] - TRUE_D) < 3 * fitted["stderr"], fitted
    assert 0.5 < report["reduced_chi2"] < 2.0
    assert report["signal_levels"]["k"]["K"] == level
    assert report["signal_levels"]["k"]["Li"] == pytest.approx(level, rel=0.05)


def test_a_fit_on_two_ranks_runs_its_jacobian_side_by_side_with_the_serial_result(fit_folder):
    """Under mpiexec -n 2 every forward run goes to a group of one rank, the runs of a
    Jacobian side by side: the same runs, values and errors as serially, bit for bit."""
    synthetic(fit_folder, "measured_mpi.csv", "--noise", "0.01", "--seed", "7")
    fit = fit_file(fit_folder, "measured_mpi.csv", D_PARAMETER)
    reports = {}
    for ranks in (1, 2):
        out = fit_folder / f"out_ranks{ranks}"
        femcait("fit", fit, "--out", str(out), ranks=ranks)
        reports[ranks] = json.loads((out / "fit.json").read_text())
    assert reports[2]["parameters"] == reports[1]["parameters"]
    for key in ("forward_runs", "reused_runs", "iterations", "chi2"):
        assert reports[2][key] == reports[1][key], key
    result = femcait("fit", fit, "--out", str(fit_folder / "out_bad_groups"), "--ranks-per-run",
                     "3", ranks=2, check=False)  # fmt: skip
    assert result.returncode == 2
    assert "--ranks-per-run: got 3, must divide the number of MPI ranks (2)" in result.stderr
