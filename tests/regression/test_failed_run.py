"""A run the solver cannot carry out still writes the whole output contract, marked failed."""

from __future__ import annotations

import csv

from tests.conftest import (
    DERIVED_SUMMARY_KEYS,
    default_study_dict,
    femcait,
    summary,
    write_study,
)


def test_failure_below_dt_min_is_reported_with_every_key(tmp_path):
    study = default_study_dict()
    study["experiment"]["duration"] = "600 s"
    study["experiment"]["output_times"] = ["600 s"]
    study["time"] = {"dt_initial": "100 s", "dt_min": "100 s"}  # the first step cannot work
    out = tmp_path / "out"
    result = femcait(
        "run", str(write_study(study, tmp_path / "s.yaml")), "--out", str(out), check=False
    )
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    s = summary(out)
    assert s["status"] == "failed"
    assert "fell below dt_min" in s["reason"] and " s " in s["reason"]  # seconds, not units
    for key in DERIVED_SUMMARY_KEYS:
        assert key in s and s[key] is None, key
    assert s["steps"] == 0 and s["rejected_steps"] >= 1
    for name, first in (("timeseries.csv", "step"), ("profiles.csv", "time_s")):
        with (out / name).open(newline="") as file:
            rows = list(csv.reader(file))
        assert len(rows) == 1 and rows[0][0] == first, name  # the header alone
