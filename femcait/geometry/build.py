"""The domain of a study: the geometry section turned into a distributed, tagged mesh."""

from __future__ import annotations

import numpy as np
from mpi4py import MPI

from femcait.geometry.domain import Domain
from femcait.geometry.grading import graded_nodes, lateral_nodes
from femcait.geometry.interval import interval_domain
from femcait.geometry.tensor import windowed_domain
from femcait.scales import Scales
from femcait.study import Study
from femcait.study.geometry import DiscGeometry, MeshFileGeometry, RectangleGeometry


def build_domain(
    study: Study, scales: Scales, mesh_settings: dict[str, float], comm: MPI.Comm
) -> Domain:
    """The study's domain on ``comm``, in nondimensional coordinates; ``mesh_settings`` are
    the resolved depth-grading settings (`femcait.geometry.settings`)."""
    geometry = study.geometry
    if isinstance(geometry, MeshFileGeometry):
        from femcait.geometry.mesh_file import mesh_file_domain

        return mesh_file_domain(study, scales, comm)
    depth = graded_nodes(**mesh_settings) if comm.rank == 0 else None
    if not isinstance(geometry, RectangleGeometry | DiscGeometry):
        return interval_domain(comm, depth)
    lateral = lateral_layout(study, scales) if comm.rank == 0 else None
    window = tuple(value / scales.length_m for value in geometry.window)
    return windowed_domain(
        comm, lateral, depth, window, axisymmetric=isinstance(geometry, DiscGeometry)
    )


def lateral_layout(study: Study, scales: Scales) -> np.ndarray:
    """The lateral nodes of a rectangle or disc (nondimensional): fine at the mask edges,
    with nodes on the beam axis and the profile lines."""
    geometry, m, unit = study.geometry, study.mesh, scales.length_m
    start, stop = (value / unit for value in geometry.window)
    extent = geometry.width if isinstance(geometry, RectangleGeometry) else geometry.radius
    lines = study.output.profile_lines or []
    return lateral_nodes(
        0.0,
        extent / unit,
        [start, stop],
        m.lateral_cell / unit,
        m.lateral_growth,
        m.lateral_max_cell / unit,
        anchors=[0.5 * (start + stop), *(line / unit for line in lines)],
    )
