"""Graded node layouts: in depth from the bombarded front into the bulk, and laterally from
the mask edges.

Depth, three zones from the front surface (x = 0) to the back electrode (x = L):
cells grow from ``first_cell`` (a fraction of the Debye length) by ``growth`` until they
reach ``fine_cell``; from there they grow only slowly (by ``fine_growth``, the front
widens as it slows down) to ``fine_depth``, where the replacement profile forms; then
they grow by ``growth`` again until the back electrode.
All lengths here are in the nondimensional length unit.
"""

from __future__ import annotations

import itertools
import math

import numpy as np

LATERAL_SAMPLES = 200_000
"""Samples of the lateral size function when placing the lateral nodes."""


def graded_nodes(
    length: float,
    first_cell: float,
    fine_cell: float,
    fine_depth: float,
    growth: float,
    fine_growth: float = 1.0,
) -> np.ndarray:
    """Node coordinates of the three-zone graded mesh of [0, length], increasing.

    Each cell is the previous one times ``growth`` while it is smaller than ``fine_cell``
    (capped there) or deeper than ``fine_depth``, and times ``fine_growth`` in between.
    The last cell absorbs what is left (at most 1.5 times its neighbour).
    """
    values = (length, first_cell, fine_cell, fine_depth, growth, fine_growth)
    if not all(math.isfinite(v) for v in values) or not (
        0 < first_cell <= fine_cell < length and fine_depth > 0 and growth > 1 and fine_growth >= 1
    ):
        raise ValueError(
            f"need 0 < first_cell ({first_cell}) <= fine_cell ({fine_cell}) < length "
            f"({length}), fine_depth ({fine_depth}) > 0, growth ({growth}) > 1 and "
            f"fine_growth ({fine_growth}) >= 1, all finite"
        )
    x = [0.0]
    h = first_cell
    while x[-1] + h < length:
        x.append(x[-1] + h)
        if x[-1] >= fine_depth:
            h *= growth
        elif h < fine_cell:
            h = min(h * growth, fine_cell)
        else:
            h *= fine_growth
    if len(x) > 1 and length - x[-1] < 0.5 * (x[-1] - x[-2]):
        x.pop()  # merge a sliver into the last cell
    x.append(length)
    return np.asarray(x)


def lateral_nodes(
    start: float,
    stop: float,
    edges: list[float],
    edge_cell: float,
    growth: float,
    max_cell: float,
    anchors: list[float] = (),
) -> np.ndarray:
    """Node positions of [start, stop], increasing: cells of ``edge_cell`` at the ``edges``
    (mask edges), growing geometrically by ``growth`` per cell away from them, at most
    ``max_cell``; uniform cells of at most ``max_cell`` when there are no edges. The
    ``anchors`` (e.g. where profiles are taken) are nodes too.

    The cell size follows h(x) = min(max_cell, edge_cell + (growth - 1) d(x)), d the
    distance to the nearest edge (a geometric progression in the cell index); the nodes are
    placed at equal steps of the integral of 1 / h, and the edges are nodes.
    """
    values = (start, stop, edge_cell, growth, max_cell)
    if not all(math.isfinite(v) for v in values) or not (
        start < stop and 0 < edge_cell <= max_cell and growth > 1
    ):
        raise ValueError(
            f"need start ({start}) < stop ({stop}), 0 < edge_cell ({edge_cell}) <= max_cell "
            f"({max_cell}) and growth ({growth}) > 1, all finite"
        )
    inner = sorted(e for e in edges if start < e < stop)
    fixed = sorted({start, stop, *inner, *(a for a in anchors if start < a < stop)})
    nodes = [start]
    for a, b in itertools.pairwise(fixed):
        x = np.linspace(a, b, LATERAL_SAMPLES + 1)
        distance = np.full_like(x, np.inf)
        for e in inner:
            distance = np.minimum(distance, np.abs(x - e))
        h = np.minimum(max_cell, edge_cell + (growth - 1) * distance)
        density = 1.0 / h
        cumulative = np.concatenate(
            [[0.0], np.cumsum(0.5 * (density[1:] + density[:-1]) * np.diff(x))]
        )
        count = max(1, math.ceil(cumulative[-1] - 1e-9))
        targets = np.linspace(0.0, cumulative[-1], count + 1)[1:-1]
        nodes.extend(np.interp(targets, cumulative, x))
        nodes.append(b)
    return np.asarray(nodes)
