"""The domain of a study: the geometry section turned into a distributed, tagged mesh."""

from __future__ import annotations

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
    unit = scales.length_m
    start, stop = (value / unit for value in geometry.window)
    extent = geometry.width if isinstance(geometry, RectangleGeometry) else geometry.radius
    lateral = None
    if comm.rank == 0:
        m = study.mesh
        lines = study.output.profile_lines or []
        lateral = lateral_nodes(
            0.0,
            extent / unit,
            [start, stop],
            m.lateral_cell / unit,
            m.lateral_growth,
            m.lateral_max_cell / unit,
            anchors=[0.5 * (start + stop), *(line / unit for line in lines)],
        )
    return windowed_domain(
        comm, lateral, depth, (start, stop), axisymmetric=isinstance(geometry, DiscGeometry)
    )
