"""Shared fixtures: the default study, and running studies through the real command line."""

from __future__ import annotations

import copy
import csv
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_STUDY = ROOT / "studies" / "li3b7o12_k_cait.yaml"
MPIEXEC = Path(sys.executable).parent / "mpiexec"


DERIVED_SUMMARY_KEYS = (
    "front_depth_m",
    "plateau_frac",
    "foreign_inventory_m2",
    "charge_C_m2",
    "conservation_error",
    "max_charge_imbalance",
    "min_frac",
)
"""The derived quantities every summary.json must carry (issue 2)."""


def shipped_study_files() -> list[Path]:
    """The study files in studies/ (sweeps included; not the fit files, fit_*.yaml)."""
    return sorted(p for p in (ROOT / "studies").glob("*.yaml") if not p.name.startswith("fit_"))


def default_study_dict() -> dict:
    """The default study as a plain dict (edit a copy, then write it with `write_study`)."""
    return copy.deepcopy(yaml.safe_load(DEFAULT_STUDY.read_text()))


def write_study(data: dict, path: Path) -> Path:
    """Write a study dict as YAML."""
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def femcait(*args: str, ranks: int = 1, check: bool = True) -> subprocess.CompletedProcess:
    """Run the ``femcait`` console script (under mpiexec when ranks > 1)."""
    command = [str(Path(sys.executable).parent / "femcait"), *args]
    if ranks > 1:
        command = [str(MPIEXEC), "-n", str(ranks), *command]
    result = subprocess.run(command, capture_output=True, text=True, env=os.environ.copy())
    if check and result.returncode != 0:
        raise AssertionError(f"femcait {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result


def run_study(data: dict, folder: Path, ranks: int = 1) -> Path:
    """Run a study dict into ``folder / 'out'`` and return the output folder."""
    folder.mkdir(parents=True, exist_ok=True)
    study = write_study(data, folder / "study.yaml")
    out = folder / "out"
    femcait("run", str(study), "--out", str(out), "--quiet", ranks=ranks)
    return out


def read_table(path: Path) -> dict[str, np.ndarray]:
    """A CSV file of numbers as columns of floats."""
    with path.open(newline="") as file:
        rows = list(csv.DictReader(file))
    assert rows, f"{path} has no rows"
    return {key: np.array([float(row[key]) for row in rows]) for key in rows[0]}


def summary(out: Path) -> dict:
    """The run's summary.json."""
    return json.loads((out / "summary.json").read_text())


@pytest.fixture(scope="session")
def default_run(tmp_path_factory) -> Path:
    """The default study, run once per test session (serially)."""
    return run_study(default_study_dict(), tmp_path_factory.mktemp("default"))


@pytest.fixture(scope="session")
def pvbatch() -> str:
    """pvbatch's path (session scope, first argument: checked before the study runs)."""
    path = shutil.which("pvbatch")
    if path is None:
        message = "pvbatch (ParaView) is not on PATH; install it with `make paraview`"
        if os.environ.get("FEMCAIT_REQUIRE_PARAVIEW") == "1":
            pytest.fail(message + " (FEMCAIT_REQUIRE_PARAVIEW=1)")
        pytest.skip(message)
    return path
