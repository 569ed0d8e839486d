"""The fit's standard errors are honest: over many noise draws, the truth lies within one
reported standard error about 68 % of the time and within two about 95 %.

One forward run serves every draw: the fitted parameters (the MRI mixing length and the
depth offset) belong to the measurement, not to the study, so the study's run is found
again by its fingerprint, and each fit costs only the optimiser's work.
"""

from __future__ import annotations

import csv
import subprocess
import sys

import numpy as np
import pytest
import yaml
from mpi4py import MPI

from femcait.fit.fitting import ForwardModel, run_fit
from femcait.fit.job import prepare
from tests.conftest import default_study_dict, write_study

pytestmark = pytest.mark.slow

DRAWS = 40
TRUTH = {"resolution.mixing": 3e-9, "depth.offset": 1e-9}
NOISE = 0.005
"""Gaussian noise on the Li fraction (>= 0.05 everywhere: no negative values)."""


def test_standard_errors_cover_the_truth_as_often_as_they_should(tmp_path):
    truth = default_study_dict()
    truth["name"] = "truth"
    truth["experiment"]["duration"] = "1800 s"
    truth["experiment"]["output_times"] = ["1800 s"]
    write_study(truth, tmp_path / "truth.yaml")
    subprocess.run(
        [sys.executable, "-m", "femcait.fit.synthetic", str(tmp_path / "truth.yaml"),
         str(tmp_path / "exact.csv"), "--depth", "61e-9", "--points", "60", "--sigma",
         "1e-9", "--mixing", str(TRUTH["resolution.mixing"]), "--noise", "0", "--floor", "0"],
        check=True, capture_output=True,
    )  # fmt: skip
    exact = list(csv.DictReader((tmp_path / "exact.csv").open()))
    fit = {
        "name": "coverage",
        "experiments": [
            {
                "name": "k",
                "study": "truth.yaml",
                "measured": {
                    "file": "measured.csv",
                    "depth_column": "depth_nm",
                    "depth_unit": "1 nm",
                    "species": {"Li": "Li_frac"},
                    "window": ["2 nm", "60 nm"],
                },
            }
        ],
        "parameters": {
            "resolution.mixing": {"min": "0.5 nm", "max": "8 nm", "initial": "2 nm"},
            "depth.offset": {"min": "-3 nm", "max": "3 nm", "initial": "0 nm"},
        },
        "resolution": {"sigma": "1 nm"},
    }
    (tmp_path / "fit.yaml").write_text(yaml.safe_dump(fit, sort_keys=False))
    rng = np.random.default_rng(2026)
    scores = []
    for _ in range(DRAWS):
        with (tmp_path / "measured.csv").open("w", newline="") as file:
            writer = csv.writer(file)
            writer.writerow(["depth_nm", "Li_frac"])
            for row in exact:  # measured depths 1 nm short: the offset's truth
                depth = float(row["depth_nm"]) - TRUTH["depth.offset"] * 1e9
                writer.writerow([depth, float(row["Li_frac"]) + rng.normal(0.0, NOISE)])
        spec, experiments, parameters = prepare(tmp_path / "fit.yaml")
        model = ForwardModel(spec, experiments, parameters, tmp_path / "out", MPI.COMM_SELF, print)
        result = run_fit(model)
        assert result.status == "converged"
        for parameter, value, stderr in zip(parameters, result.values, result.stderr, strict=True):
            scores.append((value - TRUTH[parameter.path]) / stderr)
    assert len(list((tmp_path / "out" / "runs" / "k").iterdir())) == 1  # one forward run
    scores = np.abs(np.array(scores))
    within_one, within_two = np.mean(scores < 1), np.mean(scores < 2)
    # 80 scores: the binomial spread of a 68 % rate is +-5 %, of a 95 % rate +-2.4 %
    assert 0.55 < within_one < 0.82, scores
    assert within_two > 0.88, scores
