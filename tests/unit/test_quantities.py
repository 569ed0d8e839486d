"""Derived profile quantities (femcait.diagnostics.profile) on hand-made arrays with known
answers."""

from __future__ import annotations

import math

import numpy as np
import pytest

from femcait.diagnostics.profile import front_depth, max_charge_imbalance, plateau_level

DEPTH = np.array([0.0, 1.0, 2.0, 3.0, 4.0, 5.0])


# --- front_depth -------------------------------------------------------------------------
def test_front_depth_interpolates_linearly():
    foreign = np.array([1.0, 0.8, 0.4, 0.1, 0.0, 0.0])
    # 0.5 is crossed between x = 1 (0.8) and x = 2 (0.4): 1 + 0.3 / 0.4
    assert front_depth(DEPTH, foreign) == pytest.approx(1.75, rel=1e-14)


def test_front_depth_nonuniform_depths():
    depth = np.array([0.0, 0.5, 2.0, 10.0])
    foreign = np.array([0.9, 0.7, 0.3, 0.0])
    # between 0.5 (0.7) and 2.0 (0.3): 0.5 + 1.5 * 0.2 / 0.4
    assert front_depth(depth, foreign) == pytest.approx(1.25, rel=1e-14)


def test_front_depth_other_level():
    foreign = np.array([1.0, 0.8, 0.4, 0.1, 0.0, 0.0])
    # 0.2 is crossed between x = 2 (0.4) and x = 3 (0.1): 2 + 0.2 / 0.3
    assert front_depth(DEPTH, foreign, level=0.2) == pytest.approx(2 + 2 / 3, rel=1e-14)


def test_front_depth_first_crossing_from_the_surface():
    foreign = np.array([1.0, 0.4, 0.9, 0.1, 0.0, 0.0])
    # the first fall through 0.5 is between x = 0 and x = 1: 0.5 / 0.6
    assert front_depth(DEPTH, foreign) == pytest.approx(0.5 / 0.6, rel=1e-14)


def test_front_depth_node_exactly_at_level():
    foreign = np.array([1.0, 0.5, 0.2, 0.0, 0.0, 0.0])
    assert front_depth(DEPTH, foreign) == pytest.approx(1.0, abs=1e-15)


def test_front_depth_of_a_linear_profile():
    depth = np.linspace(0.0, 10.0, 41)
    foreign = 1.0 - depth / 8.0  # crosses 0.5 at the node x = 4
    assert front_depth(depth, foreign) == pytest.approx(4.0, rel=1e-12)
    foreign = 1.0 - depth / 7.3  # crosses 0.5 at x = 3.65, between nodes
    assert front_depth(depth, foreign) == pytest.approx(3.65, rel=1e-12)


@pytest.mark.parametrize(
    "foreign",
    [
        np.array([0.4, 0.3, 0.2, 0.1, 0.0, 0.0]),  # surface already below the level
        np.array([1.0, 0.9, 0.8, 0.7, 0.6, 0.55]),  # never falls below it
        np.array([0.49, 0.9, 0.8, 0.1, 0.0, 0.0]),  # below at the surface, rises later
    ],
    ids=["surface-below", "never-below", "surface-below-then-rises"],
)
def test_front_depth_nan(foreign):
    assert math.isnan(front_depth(DEPTH, foreign))


def test_front_depth_empty_profile_is_nan():
    assert math.isnan(front_depth(np.array([]), np.array([])))


# --- plateau_level -----------------------------------------------------------------------
def test_plateau_level_minimum_between_start_and_front():
    native = np.array([0.5, 0.3, 0.2, 0.25, 0.1, 1.0])
    # start 1.5 (interpolated 0.25), nodes in (1.5, 3.5]: 0.2, 0.25; x = 4 (0.1) is beyond
    assert plateau_level(DEPTH, native, start=1.5, front=3.5) == pytest.approx(0.2)


def test_plateau_level_uses_interpolated_start():
    native = np.array([1.0, 0.1, 0.5, 0.6, 0.9, 1.0])
    # at x = 1.5: 0.1 + 0.5 * 0.4 = 0.3, below every node in (1.5, 3]
    assert plateau_level(DEPTH, native, start=1.5, front=3.0) == pytest.approx(0.3)


def test_plateau_level_front_between_nodes():
    native = np.array([0.5, 0.4, 0.3, 0.2, 0.05, 1.0])
    # nodes in (0.5, 3.9]: 0.4, 0.3, 0.2; interpolated start 0.45; the 0.05 at x = 4 is out
    assert plateau_level(DEPTH, native, start=0.5, front=3.9) == pytest.approx(0.2)


def test_plateau_level_no_node_inside():
    native = np.array([0.5, 0.4, 0.3, 0.2, 0.05, 1.0])
    # (2.2, 2.8] holds no node: the interpolated start value, 0.3 - 0.2 * 0.1
    assert plateau_level(DEPTH, native, start=2.2, front=2.8) == pytest.approx(0.28)


@pytest.mark.parametrize(
    ("start", "front"),
    [(1.0, 1.0), (1.5, 1.5), (1.5, 0.5), (1.0, float("nan")), (1.0, float("inf"))],
    ids=["at-start-node", "at-start", "shallower", "no-front", "infinite"],
)
def test_plateau_level_nan_without_a_front_deeper_than_start(start, front):
    native = np.array([0.5, 0.3, 0.2, 0.25, 0.1, 1.0])
    assert math.isnan(plateau_level(DEPTH, native, start=start, front=front))


# --- max_charge_imbalance ----------------------------------------------------------------
def test_max_charge_imbalance_excludes_the_front_layer():
    depth = np.array([0.0, 0.5, 1.0, 2.0, 3.0])
    native = np.array([0.1, 0.2, 0.3, 0.6, 1.0])
    foreign = np.array([1.2, 0.85, 0.68, 0.401, 0.0])
    fractions = np.vstack([native, foreign])
    charges = np.array([1.0, 1.0])
    # net: 0.3, 0.05, -0.02, 0.001, 0.0
    assert max_charge_imbalance(depth, fractions, charges, 1.0, 0.0) == pytest.approx(0.3)
    assert max_charge_imbalance(depth, fractions, charges, 1.0, 0.4) == pytest.approx(0.05)
    # the exclusion is "shallower than": a node exactly at the depth counts
    assert max_charge_imbalance(depth, fractions, charges, 1.0, 1.0) == pytest.approx(0.02)
    assert max_charge_imbalance(depth, fractions, charges, 1.0, 1.5) == pytest.approx(0.001)
    assert max_charge_imbalance(depth, fractions, charges, 1.0, 10.0) == 0.0


def test_max_charge_imbalance_with_charge_numbers():
    depth = np.array([0.0, 1.0, 2.0])
    native = np.array([0.2, 0.5, 1.0])
    divalent = np.array([0.45, 0.2, 0.0])
    fractions = np.vstack([native, divalent])
    # z = (1, 2), background 1: net = 0.2 + 0.9 - 1, 0.5 + 0.4 - 1, 0 -> 0.1, -0.1, 0
    assert max_charge_imbalance(depth, fractions, np.array([1.0, 2.0]), 1.0, 0.0) == pytest.approx(
        0.1
    )
    # and the background enters as given: with 1.1, net = 0.0, -0.2, -0.1
    assert max_charge_imbalance(depth, fractions, np.array([1.0, 2.0]), 1.1, 0.0) == pytest.approx(
        0.2
    )


def test_max_charge_imbalance_neutral_profile_is_zero():
    depth = np.linspace(0.0, 5.0, 11)
    native = np.linspace(0.1, 1.0, 11)
    fractions = np.vstack([native, 1.0 - native])
    assert max_charge_imbalance(depth, fractions, np.array([1.0, 1.0]), 1.0, 0.0) < 1e-15
