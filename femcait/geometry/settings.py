"""Mesh settings of a study, with the automatic ones resolved (nondimensional lengths)."""

from __future__ import annotations

import math

from femcait import constants
from femcait.scales import Scales
from femcait.study import Study

FIRST_CELL_DEBYE_FRACTION = 0.5
"""Automatic first cell: this fraction of the Debye length."""

FINE_DEPTH_SAFETY = 2.0
"""Automatic fine zone: this multiple of the estimated final front depth (plus 20 l)."""


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
