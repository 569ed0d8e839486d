"""Sweeps end to end: cases, results.csv, failures isolated, resume, MPI groups, report."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import MPIEXEC, default_study_dict, femcait, write_study

D_VALUES = ["2e-21 m^2/s", "4e-21 m^2/s"]
FWHM_VALUES = ["0.2 eV", "0.25 eV"]


def _sweep_study(duration: str = "120 s", d_values=None) -> dict:
    data = default_study_dict()
    data["name"] = "mini_sweep"
    data["experiment"].update(duration=duration, output_times=[])
    data["sweep"] = {
        "parameters": {
            "species.K.diffusion.D": {"values": d_values or D_VALUES},
            "species.Li.diffusion.sed.fwhm": {"values": FWHM_VALUES, "label": "fwhm"},
        }
    }
    return data


def _results(out: Path) -> dict[str, dict[str, str]]:
    with (out / "results.csv").open(newline="") as stream:
        return {row["case"]: row for row in csv.DictReader(stream)}


@pytest.fixture(scope="module")
def serial_sweep(tmp_path_factory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("sweep")
    study = write_study(_sweep_study(), folder / "sweep.yaml")
    femcait("run", str(study), "--out", str(folder / "out"))
    return study, folder / "out"


def test_cases_and_results(serial_sweep) -> None:
    study, out = serial_sweep
    listed = femcait("cases", str(study)).stdout.splitlines()
    names = [line.split("\t")[0] for line in listed]
    assert names == [
        "D=2e-21m2_s__fwhm=0.2eV",
        "D=2e-21m2_s__fwhm=0.25eV",
        "D=4e-21m2_s__fwhm=0.2eV",
        "D=4e-21m2_s__fwhm=0.25eV",
    ]
    rows = _results(out)
    assert list(rows) == names
    assert {row["status"] for row in rows.values()} == {"completed"}
    first = rows[names[0]]
    assert float(first["species.K.diffusion.D"]) == pytest.approx(2e-21)
    assert float(first["species.Li.diffusion.sed.fwhm"]) == pytest.approx(0.2 * 1.602176634e-19)
    for name in names:
        case = out / "cases" / name
        summary = json.loads((case / "summary.json").read_text())
        assert summary["status"] == "completed"
        assert float(rows[name]["front_depth_m"]) == pytest.approx(summary["front_depth_m"])
        assert (case / "fields.xdmf").is_file() and (case / "profiles.csv").is_file()
        assert json.loads((case / "case.json").read_text())["case"] == name
    # each case ran its own parameters: four different results
    results = {(row["front_depth_m"], row["plateau_frac"]) for row in rows.values()}
    assert len(results) == 4


def test_rerun_skips_complete_cases_and_reruns_failed_ones(serial_sweep) -> None:
    study, out = serial_sweep
    names = list(_results(out))
    kept = out / "cases" / names[0] / "summary.json"
    stamp = kept.stat().st_mtime_ns
    failed = out / "cases" / names[1] / "summary.json"
    summary = json.loads(failed.read_text())
    failed.write_text(json.dumps({**summary, "status": "failed", "reason": "test"}))
    result = femcait("run", str(study), "--out", str(out))
    assert "1 case(s) run, 3 already complete" in result.stdout
    assert kept.stat().st_mtime_ns == stamp
    assert {row["status"] for row in _results(out).values()} == {"completed"}


def test_report_figures(serial_sweep) -> None:
    _, out = serial_sweep
    written = femcait("report", str(out)).stdout.split()
    assert str(out / "results.csv") in written
    for name in ("report_front_depth_m.png", "report_plateau_frac.png"):
        assert (out / name).stat().st_size > 1000


def test_failing_case_is_isolated(tmp_path: Path) -> None:
    data = _sweep_study(d_values=["2e-21 m^2/s", "-1 m^2/s"])
    data["sweep"]["parameters"]["species.Li.diffusion.sed.fwhm"]["values"] = ["0.25 eV"]
    # one Jacobi sweep instead of an LU solve: Newton cannot converge, the step falls
    # below dt_min and the case fails
    data["sweep"]["parameters"]["solver.petsc_options.pc_type"] = {
        "values": ["lu", "jacobi"],
        "label": "pc",
    }
    study = write_study(data, tmp_path / "sweep.yaml")
    result = femcait("run", str(study), "--out", str(tmp_path / "out"), check=False)
    assert result.returncode == 1, result.stderr
    rows = _results(tmp_path / "out")
    statuses = {name: row["status"] for name, row in rows.items()}
    print(statuses)
    assert statuses == {
        "D=2e-21m2_s__fwhm=0.25eV__pc=lu": "completed",
        "D=2e-21m2_s__fwhm=0.25eV__pc=jacobi": "failed",
        "D=-1m2_s__fwhm=0.25eV__pc=lu": "failed",
        "D=-1m2_s__fwhm=0.25eV__pc=jacobi": "failed",
    }
    bad_D = [row for name, row in rows.items() if name.startswith("D=-1")]
    assert all("must be > 0" in row["reason"] for row in bad_D)  # invalid: never ran
    assert "dt_min" in rows["D=2e-21m2_s__fwhm=0.25eV__pc=jacobi"]["reason"]


def test_bad_sweep_section_names_the_key(tmp_path: Path) -> None:
    data = _sweep_study()
    data["sweep"]["combine"] = "cross"
    study = write_study(data, tmp_path / "sweep.yaml")
    result = femcait("run", str(study), "--out", str(tmp_path / "out"), check=False)
    assert result.returncode == 2
    assert "sweep.combine: got 'cross'" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()


def test_single_case_for_job_arrays(tmp_path: Path) -> None:
    study = write_study(_sweep_study(), tmp_path / "sweep.yaml")
    out = tmp_path / "out"
    femcait("run", str(study), "--out", str(out), "--case", "D=4e-21m2_s__fwhm=0.25eV")
    statuses = {name: row["status"] for name, row in _results(out).items()}
    assert statuses["D=4e-21m2_s__fwhm=0.25eV"] == "completed"
    assert list(statuses.values()).count("pending") == 3


def test_groups_agree_under_mpi(tmp_path: Path, serial_sweep) -> None:
    study, serial_out = serial_sweep
    two_groups = tmp_path / "two_groups"
    one_group = tmp_path / "one_group"
    femcait("run", str(study), "--out", str(two_groups), ranks=2)
    femcait("run", str(study), "--out", str(one_group), "--ranks-per-case", "2", ranks=2)
    serial, a, b = _results(serial_out), _results(two_groups), _results(one_group)
    for name in serial:
        summaries = [
            json.loads((folder / "cases" / name / "summary.json").read_text())
            for folder in (serial_out, two_groups, one_group)
        ]
        assert [s["ranks"] for s in summaries] == [1, 1, 2]
        for key in ("front_depth_m", "charge_C_m2", "foreign_inventory_m2"):
            assert float(a[name][key]) == float(serial[name][key])  # same ranks: identical
            assert float(b[name][key]) == pytest.approx(float(serial[name][key]), rel=1e-8)


def test_interrupted_sweep_resumes_without_rerunning(tmp_path: Path) -> None:
    study = write_study(_sweep_study(duration="600 s"), tmp_path / "sweep.yaml")
    out = tmp_path / "out"
    command = [str(Path(sys.executable).parent / "femcait"), "run", str(study), "--out", str(out)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not any((out / "cases").glob("*/summary.json")):
        time.sleep(0.2)
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 130, stderr
    finished = {p.parent.name: p.stat().st_mtime_ns for p in (out / "cases").glob("*/summary.json")}
    assert 1 <= len(finished) < 4
    # nothing half-written is left under a case name
    for case in (out / "cases").iterdir():
        assert (case / "summary.json").is_file(), case
    result = femcait("run", str(study), "--out", str(out))
    assert f"{4 - len(finished)} case(s) run, {len(finished)} already complete" in result.stdout
    for name, stamp in finished.items():
        assert (out / "cases" / name / "summary.json").stat().st_mtime_ns == stamp
    assert {row["status"] for row in _results(out).values()} == {"completed"}
    assert not list(out.glob(".claims-*"))
    assert os.listdir(out / "cases") and len(os.listdir(out / "cases")) == 4
    assert MPIEXEC.exists()
