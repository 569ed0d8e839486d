"""Derived quantities of a depth profile (defined in docs/model.md, "Derived quantities"),
on sampled NumPy arrays.

All functions take depths in increasing order, with the fractions n_i / n_bg at them.
"""

from __future__ import annotations

import numpy as np


def front_depth(depth: np.ndarray, foreign: np.ndarray, level: float = 0.5) -> float:
    """First depth from the surface where the foreign fraction falls through ``level``.

    Linear interpolation between the two nodes that bracket the crossing; NaN when the
    surface value is already below ``level`` or the fraction never falls below it.
    """
    if len(foreign) == 0 or foreign[0] < level:
        return float("nan")
    below = np.flatnonzero(foreign < level)
    if len(below) == 0:
        return float("nan")
    i = below[0]
    x0, x1, f0, f1 = depth[i - 1], depth[i], foreign[i - 1], foreign[i]
    return float(x0 + (f0 - level) * (x1 - x0) / (f0 - f1))


def plateau_level(depth: np.ndarray, native: np.ndarray, start: float, front: float) -> float:
    """Minimum native fraction between ``start`` (interpolated there) and the front.

    NaN when there is no front deeper than ``start``.
    """
    if not np.isfinite(front) or front <= start:
        return float("nan")
    inside = native[(depth > start) & (depth <= front)]
    at_start = np.interp(start, depth, native)
    return float(min(at_start, inside.min(initial=np.inf)))


def max_charge_imbalance(
    depth: np.ndarray,
    fractions: np.ndarray,
    charges: np.ndarray,
    background: float,
    exclude_below: float,
) -> float:
    """Largest |sum_i z_i n_i / n_bg - background| deeper than ``exclude_below``."""
    net = charges @ fractions - background
    keep = depth >= exclude_below
    return float(np.max(np.abs(net[keep]), initial=0.0))
