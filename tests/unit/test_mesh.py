"""The graded 1D mesh (femcait.geometry.grading, .settings): node layout, grading limits,
bad arguments, and the automatic settings of the default study."""

from __future__ import annotations

import math
import signal

import dolfinx_solver  # noqa: F401  # isort: split
import numpy as np
import pytest
from scipy import constants

from femcait.geometry.grading import graded_nodes
from femcait.geometry.settings import estimated_front_depth, resolved_mesh_settings
from femcait.scales import Scales
from femcait.study import load_study
from tests.conftest import DEFAULT_STUDY

MERGED_CELL_FACTOR = 1.5

# (length, first_cell, fine_cell, fine_depth, growth), nondimensional (1 nm units)
LAYOUTS = {
    "default-like": (1e5, 0.0143, 0.25, 200.0, 1.08),
    "coarse-growth": (1e4, 0.01, 0.5, 50.0, 1.5),
    "first-equals-fine": (100.0, 0.25, 0.25, 20.0, 1.1),
    "fine-zone-to-the-back": (30.0, 0.05, 0.25, 1e3, 1.08),
    "steep": (1e6, 0.001, 2.0, 10.0, 2.0),
}


def cells(x: np.ndarray) -> np.ndarray:
    return np.diff(x)


@pytest.fixture(params=list(LAYOUTS), ids=list(LAYOUTS))
def layout(request) -> tuple[tuple, np.ndarray]:
    arguments = LAYOUTS[request.param]
    return arguments, graded_nodes(*arguments)


def test_ends_and_order(layout):
    (length, *_), x = layout
    assert x[0] == 0.0
    assert x[-1] == length  # exactly, not to round-off
    assert np.all(np.diff(x) > 0)
    assert np.all(np.isfinite(x))


def test_first_cell(layout):
    (_, first_cell, *_), x = layout
    assert cells(x)[0] == pytest.approx(first_cell, rel=1e-12)


def test_fine_zone_has_fine_cells(layout):
    (length, _, fine_cell, fine_depth, growth), x = layout
    h = cells(x)
    # the surface zone: growing from first_cell, every cell below fine_cell
    start = int(np.argmax(h >= fine_cell * (1 - 1e-9)))
    assert np.all(h[:start] < fine_cell)
    assert x[start] < fine_cell * (1 + 1 / (growth - 1))  # a geometric sum up to fine_cell
    # then fine_cell exactly, down to fine_depth (or the back, where the last cell may
    # be a remainder)
    zone_end = min(fine_depth, length)
    inside = x[1:] <= zone_end * (1 + 1e-12)
    inside[:start] = False
    inside[-1] = False
    assert inside.sum() >= 1
    np.testing.assert_allclose(h[inside], fine_cell, rtol=1e-9)
    last_fine_node = x[1:][inside][-1]
    if fine_depth < length:
        assert last_fine_node > zone_end - fine_cell  # the zone reaches fine_depth


def test_neighbouring_cells_grow_at_most_by_growth(layout):
    (*_, growth), x = layout
    ratios = cells(x)[1:] / cells(x)[:-1]
    assert np.all(ratios[:-1] <= growth * (1 + 1e-9)), ratios.max()
    assert ratios[-1] <= MERGED_CELL_FACTOR * growth  # the last cell may absorb a sliver


def test_slowly_growing_fine_zone():
    x = graded_nodes(1e4, 0.0143, 0.25, 100.0, 1.08, fine_growth=1.005)
    h = cells(x)
    start = int(np.argmax(h >= 0.25 * (1 - 1e-12)))
    assert h[start] == pytest.approx(0.25, rel=1e-12)
    zone = (x[1:] <= 100.0) & (np.arange(len(h)) >= start)
    ratios = h[zone][1:] / h[zone][:-1]
    assert len(ratios) > 100
    np.testing.assert_allclose(ratios, 1.005, rtol=1e-9)
    assert x[-1] == 1e4
    assert x[1] == 0.0143


def test_slowly_growing_fine_zone_grades_at_most_by_growth():
    x = graded_nodes(1e4, 0.0143, 0.25, 100.0, 1.08, fine_growth=1.005)
    ratios = cells(x)[1:-1] / cells(x)[:-2]
    assert ratios.max() <= 1.08 * (1 + 1e-9)


def test_ramp_cut_short_by_fine_depth_keeps_grading():
    growth = 1.2
    x = graded_nodes(1e3, 0.001, 1.0, 3.0, growth)
    ratios = cells(x)[1:-1] / cells(x)[:-2]
    assert ratios.max() <= growth * (1 + 1e-9)


@pytest.mark.parametrize(
    "arguments",
    [
        (100.0, 0.0, 0.25, 10.0, 1.08),  # first_cell zero
        (100.0, -0.1, 0.25, 10.0, 1.08),  # first_cell negative
        (100.0, 0.5, 0.25, 10.0, 1.08),  # first_cell > fine_cell
        (0.2, 0.1, 0.25, 10.0, 1.08),  # fine_cell > length
        (0.25, 0.1, 0.25, 10.0, 1.08),  # fine_cell == length
        (-1.0, 0.1, 0.25, 10.0, 1.08),  # negative length
        (100.0, 0.1, 0.25, 10.0, 1.0),  # growth 1: never reaches the back
        (100.0, 0.1, 0.25, 10.0, 0.9),  # shrinking
        (100.0, math.nan, 0.25, 10.0, 1.08),
        (100.0, 0.1, 0.25, 10.0, math.nan),
    ],
    ids=[
        "first-zero",
        "first-negative",
        "first-above-fine",
        "fine-above-length",
        "fine-equals-length",
        "length-negative",
        "growth-one",
        "growth-below-one",
        "first-nan",
        "growth-nan",
    ],
)
def test_bad_arguments_raise(arguments):
    with pytest.raises(ValueError):
        graded_nodes(*arguments)


@pytest.mark.parametrize("fine_depth", [-5.0, 0.0])
def test_nonpositive_fine_depth_raises(fine_depth):
    with pytest.raises(ValueError):
        graded_nodes(100.0, 0.1, 0.25, fine_depth, 1.08)


class _TimeoutError(Exception):
    pass


def _raise_timeout(*_):
    raise _TimeoutError


@pytest.mark.parametrize("fine_growth", [0.9, 0.0])
def test_shrinking_fine_zone_raises(fine_growth):
    previous = signal.signal(signal.SIGALRM, _raise_timeout)
    signal.setitimer(signal.ITIMER_REAL, 0.3)  # the bug is an endless loop: stop it early
    try:
        with pytest.raises(ValueError):
            graded_nodes(100.0, 0.1, 0.25, 20.0, 1.08, fine_growth=fine_growth)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


# --- automatic settings of the default study --------------------------------------------
@pytest.fixture(scope="module")
def default_settings():
    study = load_study(DEFAULT_STUDY)
    scales = Scales.from_study(study)
    return study, scales, resolved_mesh_settings(study, scales)


def test_default_first_cell_resolves_the_debye_length(default_settings):
    study, scales, settings = default_settings
    kT = constants.k * study.glass.temperature
    debye_m = math.sqrt(
        constants.epsilon_0 * study.glass.eps_r * kT / (constants.e**2 * study.glass.n_bg)
    )
    assert debye_m == pytest.approx(2.86e-11, rel=0.01)  # docs/model.md: 0.0286 nm
    assert scales.length_m == 1e-9
    assert 0 < settings["first_cell"] < debye_m / scales.length_m
    assert settings["first_cell"] <= settings["fine_cell"]


def test_default_fine_zone_holds_the_front(default_settings):
    study, scales, settings = default_settings
    estimate = estimated_front_depth(study, scales)
    assert estimate > 0
    assert settings["fine_depth"] > estimate
    assert settings["fine_depth"] < settings["length"]
    assert settings["length"] == pytest.approx(study.glass.thickness / scales.length_m)
    # the estimate is of the right size: ~100 nm after 3 h (docs/model.md, "The experiment")
    assert 10 < estimate < 1000


def test_default_mesh_is_usable(default_settings):
    *_, settings = default_settings
    x = graded_nodes(**settings)
    assert x[0] == 0.0 and x[-1] == settings["length"]
    assert np.all(np.diff(x) > 0)
    assert cells(x)[0] == pytest.approx(settings["first_cell"], rel=1e-12)
    assert len(x) < 5000  # the graded mesh stays small
