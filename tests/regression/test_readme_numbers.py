"""The README's and the default study's headline numbers are what a run of the default
study gives.

The numbers are parsed from README.md and studies/li3b7o12_k_cait.yaml (never copied
here) and compared with the session's `default_run` to the digits they are written with
(one unit in the last written digit, so a round-off change of the last digit passes and
anything larger fails). When a deliberate change of the model moves them, rerun the
default study and update the README and the study comment.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import DEFAULT_STUDY, ROOT, read_table, summary

pytestmark = pytest.mark.slow

README = ROOT / "README.md"
NUMBER = r"(\d+(?:\.\d+)?(?:e-?\d+)?)"


def _numbers(text: str, pattern: str, where: str) -> list[tuple[float, float]]:
    """The numbers captured by ``pattern`` (NUMBER groups) in ``text``, each with one unit
    of its last written digit."""
    match = re.search(pattern, text)
    assert match, f"{where}: no text matching {pattern!r}"
    values = []
    for token in match.groups():
        mantissa, _, exponent = token.partition("e")
        decimals = len(mantissa.partition(".")[2])
        unit = 10.0 ** (-decimals + (int(exponent) if exponent else 0))
        values.append((float(token), unit))
    return values


def _close(written: tuple[float, float], run: float, label: str) -> None:
    value, unit = written
    assert abs(run - value) <= unit * (1 + 1e-9), f"{label}: written {value}, the run gives {run}"


def _li_at(out: Path, depth_m: float) -> float:
    profiles = read_table(out / "profiles.csv")
    last = profiles["time_s"] == profiles["time_s"].max()
    return float(np.interp(depth_m, profiles["depth_m"][last], profiles["Li_frac"][last]))


def test_readme_example_output_line(default_run: Path) -> None:
    """`make run`'s last lines as the README shows them: front depth, plateau, charge."""
    s = summary(default_run)
    front, plateau, charge = _numbers(
        README.read_text(),
        rf"front depth {NUMBER} nm, plateau {NUMBER} % of n_bg, charge passed {NUMBER} C/m\^2",
        "README.md",
    )
    _close(front, s["front_depth_m"] * 1e9, "front depth (nm)")
    _close(plateau, s["plateau_frac"] * 100, "plateau (%)")
    _close(charge, s["charge_C_m2"], "charge (C/m^2)")


def test_readme_default_study_profile(default_run: Path) -> None:
    """The shipped-studies entry of the default study: the Li+ behind the front rise."""
    s = summary(default_run)
    text = README.read_text()
    low, high, depth, front = _numbers(
        text,
        rf"rise from {NUMBER} % of n_bg at\s+2 nm \(`plateau_frac`, the minimum\) to {NUMBER} %"
        rf" at {NUMBER} nm, just before the front at {NUMBER} nm",
        "README.md, shipped studies",
    )
    _close(low, s["plateau_frac"] * 100, "Li+ at 2 nm (%)")
    _close(high, _li_at(default_run, depth[0] * 1e-9) * 100, f"Li+ at {depth[0]} nm (%)")
    _close(front, s["front_depth_m"] * 1e9, "front depth (nm)")


def test_readme_balances(default_run: Path) -> None:
    """The charge imbalance at 10 min and 3 h and the final conservation error."""
    s = summary(default_run)
    series = read_table(default_run / "timeseries.csv")
    text = README.read_text()
    early, late = _numbers(
        text, rf"{NUMBER} at 10 min\s+falling to {NUMBER} at 3 h", "README.md, imbalance"
    )
    at_10_min = series["max_charge_imbalance"][np.argmin(abs(series["time_s"] - 600.0))]
    _close(early, at_10_min, "charge imbalance at 10 min")
    _close(late, s["max_charge_imbalance"], "charge imbalance at 3 h")
    (conservation,) = _numbers(
        text, rf"relative to the inventory change \(about {NUMBER} at the end of", "README.md"
    )
    _close(conservation, s["conservation_error"], "conservation error")


def test_default_study_comment(default_run: Path) -> None:
    """The default study file's own description of its result."""
    s = summary(default_run)
    text = DEFAULT_STUDY.read_text()
    (front,) = _numbers(text, rf"down to a front {NUMBER} nm deep", DEFAULT_STUDY.name)
    _close(front, s["front_depth_m"] * 1e9, "front depth (nm)")
    low, high, depth = _numbers(
        text,
        rf"rise from {NUMBER} % of n_bg at 2 nm \(summary plateau_frac, the minimum\) to"
        rf" {NUMBER} % at {NUMBER} nm",
        DEFAULT_STUDY.name,
    )
    _close(low, s["plateau_frac"] * 100, "Li+ at 2 nm (%)")
    _close(high, _li_at(default_run, depth[0] * 1e-9) * 100, f"Li+ at {depth[0]} nm (%)")
