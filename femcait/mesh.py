"""The 1D mesh: graded geometrically from the bombarded front into the bulk.

Three zones, from the front surface (x = 0) to the back electrode (x = L):
cells grow from ``first_cell`` (a fraction of the Debye length) by ``growth`` until they
reach ``fine_cell``; from there they grow only slowly (by ``fine_growth``, the front
widens as it slows down) to ``fine_depth``, where the replacement profile forms; then
they grow by ``growth`` again until the back electrode.
All lengths here are in the nondimensional length unit.
"""

from __future__ import annotations

import math

import basix.ufl
import numpy as np
import ufl
from dolfinx import mesh as dmesh
from mpi4py import MPI
from scipy import constants

from femcait.scales import Scales
from femcait.study import Study

FIRST_CELL_DEBYE_FRACTION = 0.5
"""Automatic first cell: this fraction of the Debye length."""

FINE_DEPTH_SAFETY = 2.0
"""Automatic fine zone: this multiple of the estimated final front depth (plus 20 l)."""


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


def estimated_front_depth(study: Study, scales: Scales) -> float:
    """Rough final front depth (nondimensional) for sizing the fine zone.

    Per stage, from the start of the experiment to the end of that stage; the deepest of
    these. Potentiostatic: the surface potential drives the ions through the replaced zone
    (the beam species at its D) in series with the bulk (the native species at D_ref),
    both at density n_bg: d^2 / (2 D_beam) + L d / D_native = U t. Galvanostatic: the
    charge passed, j t / (e n_bg).
    """
    experiment = study.experiment
    depth = 0.0
    for start, stage in zip(experiment.stage_starts, experiment.stages, strict=True):
        t = (start + stage.duration) / scales.time_s
        if stage.mode == "galvanostatic":
            flux = stage.current_density / (scales.flux_m2_s * constants.e)
            depth = max(depth, flux * t)
            continue
        D_beam = study.diffusion_laws[stage.beam].D_bulk / scales.diffusivity_m2_s
        L = study.glass.thickness / scales.length_m
        U = abs(stage.surface_potential) / scales.thermal_voltage_V
        a, b, c = 1 / (2 * D_beam), L, -U * t
        depth = max(depth, (-b + math.sqrt(b * b - 4 * a * c)) / (2 * a))
    return depth


def resolved_mesh_settings(study: Study, scales: Scales) -> dict[str, float]:
    """The mesh parameters (nondimensional), with the automatic ones filled in."""
    m = study.mesh
    length = study.glass.thickness / scales.length_m
    debye = scales.debye_length_m / scales.length_m
    fine_cell = m.fine_cell / scales.length_m
    first_cell = (
        m.first_cell / scales.length_m
        if m.first_cell is not None
        else min(FIRST_CELL_DEBYE_FRACTION * debye, fine_cell)
    )
    if m.fine_depth is not None:
        fine_depth = m.fine_depth / scales.length_m
    else:
        fine_depth = FINE_DEPTH_SAFETY * estimated_front_depth(study, scales) + 20.0
    return {
        "length": length,
        "first_cell": first_cell,
        "fine_cell": fine_cell,
        "fine_depth": min(fine_depth, length),
        "growth": m.growth,
        "fine_growth": m.fine_growth,
    }


def create_interval_mesh(comm: MPI.Comm, nodes: np.ndarray) -> dmesh.Mesh:
    """A distributed dolfinx interval mesh with the given (rank-0) node coordinates."""
    if comm.rank == 0:
        x = np.asarray(nodes, dtype=np.float64).reshape(-1, 1)
        cells = np.stack([np.arange(len(x) - 1), np.arange(1, len(x))], axis=1)
    else:
        x = np.zeros((0, 1))
        cells = np.zeros((0, 2), dtype=np.int64)
    element = ufl.Mesh(basix.ufl.element("Lagrange", "interval", 1, shape=(1,)))
    return dmesh.create_mesh(comm, cells.astype(np.int64), element, x)
