"""The shared output helpers: atomic replacement and the CSV cell format."""

from __future__ import annotations

import numpy as np
import pytest

from femcait.output.atomic import replacing
from femcait.output.tables import csv_cell
from femcait.study.units import si_magnitude


def test_replacing_keeps_the_target_when_writing_fails(tmp_path):
    target = tmp_path / "results.csv"
    target.write_text("old\n")
    with pytest.raises(RuntimeError), replacing(target) as temporary:
        temporary.write_text("half")
        raise RuntimeError("disk full")
    assert target.read_text() == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results.csv"]


def test_replacing_swaps_in_the_new_content(tmp_path):
    target = tmp_path / "sweep.json"
    target.write_text("old\n")
    with replacing(target) as temporary:
        temporary.write_text("new\n")
    assert target.read_text() == "new\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sweep.json"]


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        (0.1 + 0.2, "0.30000000000000004"),  # every digit, reads back exactly
        (np.float64(1e-21), "1e-21"),  # no 'np.float64(...)'
        (float("nan"), "nan"),
        (None, ""),
        (np.int64(3), 3),
        ("completed", "completed"),
    ],
)
def test_csv_cell(value, cell):
    assert csv_cell(value) == cell


def test_si_magnitude_is_the_one_unit_parser():
    assert si_magnitude("200 meV") == pytest.approx(200e-3 * 1.602176634e-19, rel=1e-15)
    assert si_magnitude("1.4e28") == 1.4e28
    with pytest.raises(ValueError):
        si_magnitude("clamp")
    with pytest.raises(ValueError):
        si_magnitude(10**400)
