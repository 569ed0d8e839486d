"""2D domains from mesh files: gmsh .msh read with dolfinx.io.gmsh, other formats converted
to .msh with meshio first.

The file's physical groups name the boundary parts (front, masked, back, sides; see the
study's geometry.groups) and the regions (cell groups, each with a material in the study's
`regions`). Coordinates: x lateral (the radius in axisymmetric files), y the depth from the
front (y = 0) to the back electrode. Every check happens before anything is computed and
raises a `StudyError` naming the file, the group or the key.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from dolfinx import mesh as dmesh
from dolfinx.io import gmsh as dolfinx_gmsh
from mpi4py import MPI

from femcait.errors import StudyError
from femcait.geometry.domain import Boundary, Domain
from femcait.scales import Scales
from femcait.study import Study

THICKNESS_RTOL = 1e-6
"""The mesh's depth must match glass.thickness to this relative tolerance."""

_ROLES = {
    "front": Boundary.FRONT,
    "masked": Boundary.MASKED,
    "back": Boundary.BACK,
    "sides": Boundary.SIDES,
}


@dataclass(frozen=True)
class MeshGroups:
    """What a mesh file holds: physical groups by name -> (dimension, tag), its dimension,
    whether its cells are triangles, and how many cells and nodes it has."""

    groups: dict[str, tuple[int, int]]
    dimension: int
    triangles_only: bool
    cells: int
    nodes: int


def inspect_msh(path: Path) -> MeshGroups:
    """Physical groups and element types of a .msh file (raises `StudyError`)."""
    import gmsh

    gmsh.initialize(interruptible=False)
    try:
        gmsh.option.setNumber("General.Terminal", 0)
        try:
            gmsh.open(str(path))
        except Exception as error:  # gmsh raises a bare Exception on unreadable files
            raise StudyError(
                f"geometry.file: cannot read {path} as a gmsh mesh ({error})"
            ) from None
        groups = {}
        for dim, tag in gmsh.model.getPhysicalGroups():
            name = gmsh.model.getPhysicalName(dim, tag) or str(tag)
            groups[name] = (dim, tag)
        dimension = gmsh.model.getDimension()
        types = gmsh.model.mesh.getElementTypes(dim=dimension) if dimension >= 0 else []
        triangles_only = len(types) > 0 and all(t == 2 for t in types)
        cells = sum(len(gmsh.model.mesh.getElementsByType(t)[0]) for t in types)
        nodes = len(gmsh.model.mesh.getNodes()[0])
    finally:
        gmsh.finalize()
    return MeshGroups(groups, dimension, triangles_only, cells, nodes)


def mesh_file_size(path: Path) -> tuple[int, int]:
    """(cells, nodes) of a mesh file: its triangles (gmsh .msh) or cells (other formats)."""
    if path.suffix.lower() == ".msh":
        info = inspect_msh(path)
        return info.cells, info.nodes
    import meshio

    try:
        mesh = meshio.read(path)
    except Exception as error:  # meshio raises many kinds of errors on foreign input
        raise StudyError(f"geometry.file: meshio cannot read {path} ({error})") from None
    cells = sum(len(block.data) for block in mesh.cells if block.type == "triangle")
    return cells, len(mesh.points)


def convert_to_msh(source: Path, target: Path) -> None:
    """Convert a mesh file meshio reads to gmsh format 2.2 (triangles, their boundary lines,
    and the physical tags and names meshio found)."""
    import meshio

    try:
        mesh = meshio.read(source)
    except Exception as error:  # meshio raises many kinds of errors on foreign input
        raise StudyError(f"geometry.file: meshio cannot read {source} ({error})") from None
    kept = [(i, block) for i, block in enumerate(mesh.cells) if block.type in ("triangle", "line")]
    if not any(block.type == "triangle" for _, block in kept):
        raise StudyError(f"geometry.file: {source} holds no triangles (a 2D triangle mesh needed)")
    tags = None
    for key in ("gmsh:physical", "medit:ref", "cell_tags", "CellEntityIds"):
        if key in mesh.cell_data:
            tags = mesh.cell_data[key]
            break
    if tags is None:
        raise StudyError(
            f"geometry.file: {source} has no cell tags (gmsh:physical, medit:ref, cell_tags or "
            "CellEntityIds) to name its boundaries and regions"
        )
    cells = [meshio.CellBlock(block.type, block.data) for _, block in kept]
    physical = [np.asarray(tags[i], dtype=int) for i, _ in kept]
    converted = meshio.Mesh(
        mesh.points[:, :2] if mesh.points.shape[1] > 2 else mesh.points,
        cells,
        cell_data={"gmsh:physical": physical, "gmsh:geometrical": physical},
        field_data=mesh.field_data,
    )
    meshio.write(target, converted, file_format="gmsh22", binary=False)


def _checked_groups(path: Path, study: Study) -> tuple[dict[Boundary, int], dict[str, int]]:
    """Boundary tags by role and region tags by name, after checking the file against the
    study (rank 0)."""
    info = inspect_msh(path)
    source = study.geometry.file
    if info.dimension != 2:
        raise StudyError(
            f"geometry.file: {source} is a {info.dimension}D mesh; femcait needs a 2D triangle "
            "mesh (x lateral, y depth)"
        )
    if not info.triangles_only:
        raise StudyError(f"geometry.file: {source} has cells other than triangles")
    names = study.geometry.groups
    boundary: dict[Boundary, int] = {}
    for role, value in _ROLES.items():
        name = getattr(names, role)
        group = info.groups.get(name)
        if group is None or group[0] != 1:
            if role in ("front", "back"):
                found = ", ".join(sorted(n for n, (d, _) in info.groups.items() if d == 1))
                raise StudyError(
                    f"geometry.groups.{role}: {source} has no boundary group {name!r} "
                    f"(its boundary groups: {found or 'none'})"
                )
            continue
        boundary[value] = group[1]
    cells = {n: tag for n, (d, tag) in info.groups.items() if d == 2}
    regions: dict[str, int] = {}
    if len(cells) > 1 or study.regions:
        missing = [name for name in cells if name not in study.regions]
        if missing:
            listed = ", ".join(repr(name) for name in missing)
            raise StudyError(
                f"regions: {source} has regions without a material ({listed}); add "
                f"regions.<name> for each (an empty mapping takes the glass's material)"
            )
        for name in study.regions:
            if name not in cells:
                raise StudyError(
                    f"regions.{name}: {source} has no such region (its regions: "
                    f"{', '.join(sorted(cells)) or 'none'})"
                )
        regions = {name: cells[name] for name in study.regions}
    return boundary, regions


def mesh_file_domain(study: Study, scales: Scales, comm: MPI.Comm) -> Domain:
    """The domain of a study whose geometry is a mesh file (collective)."""
    geometry = study.geometry
    source = Path(geometry.file)
    with tempfile.TemporaryDirectory(prefix="femcait-mesh-") as scratch:
        checked, error = None, None
        path = source
        if comm.rank == 0:
            try:
                if source.suffix.lower() != ".msh":
                    path = Path(scratch) / "converted.msh"
                    convert_to_msh(source, path)
                checked = _checked_groups(path, study)
            except StudyError as exc:
                error = str(exc)
        error = comm.bcast(error, root=0)
        if error is not None:
            raise StudyError(error)
        boundary, regions = comm.bcast(checked, root=0)
        path = comm.bcast(path, root=0)
        data = _read_msh(path, comm)
    mesh = data.mesh
    mesh.geometry.x[:, :2] *= geometry.unit / scales.length_m
    return _tagged_domain(study, scales, mesh, data, boundary, regions)


def _read_msh(path: Path, comm: MPI.Comm) -> dolfinx_gmsh.MeshData:
    """The mesh and tags of a .msh file (read on rank 0, distributed), gmsh kept quiet."""
    if comm.rank != 0:
        return dolfinx_gmsh.model_to_mesh(None, comm, 0, gdim=2)
    import gmsh

    gmsh.initialize(interruptible=False)
    try:
        gmsh.option.setNumber("General.Terminal", 0)
        gmsh.merge(str(path))
        return dolfinx_gmsh.model_to_mesh(gmsh.model, comm, 0, gdim=2)
    finally:
        gmsh.finalize()


def _tagged_domain(study, scales, mesh, data, boundary, regions) -> Domain:
    comm, fdim = mesh.comm, 1
    geometry = study.geometry
    x = mesh.geometry.x
    low = comm.allreduce(x[:, 0].min(initial=np.inf), op=MPI.MIN)
    high = comm.allreduce(x[:, 0].max(initial=-np.inf), op=MPI.MAX)
    top = comm.allreduce(x[:, 1].min(initial=np.inf), op=MPI.MIN)
    thickness = comm.allreduce(x[:, 1].max(initial=-np.inf), op=MPI.MAX)
    unit = scales.length_m
    if abs(top) > 1e-9 * thickness:
        raise StudyError(
            f"geometry.file: {geometry.file}: the front must be at y = 0 (the mesh starts at "
            f"y = {top * unit / geometry.unit:.6g})"
        )
    expected = study.glass.thickness / unit
    if abs(thickness - expected) > THICKNESS_RTOL * expected:
        raise StudyError(
            f"glass.thickness: got {study.glass.thickness:.6g} m, but the back of the mesh in "
            f"{geometry.file} is at {thickness * unit:.6g} m"
        )
    if geometry.coordinates == "axisymmetric" and low < -1e-9 * (high - low):
        raise StudyError(
            f"geometry.coordinates: axisymmetric, but {geometry.file} reaches r = "
            f"{low * unit / geometry.unit:.6g} < 0"
        )
    facets = data.facet_tags
    entities, values = [], []
    for role, tag in boundary.items():
        found = facets.find(tag)
        entities.append(found)
        values.append(np.full(len(found), int(role), dtype=np.int32))
    entities = np.concatenate(entities) if entities else np.zeros(0, np.int32)
    values = np.concatenate(values) if values else np.zeros(0, np.int32)
    order = np.argsort(entities)
    tags = dmesh.meshtags(mesh, fdim, entities[order], values[order])
    exposed = _exposed_intervals(mesh, tags)
    if not exposed:
        raise StudyError(f"geometry.groups.front: the front group of {geometry.file} is empty")
    if geometry.beam_axis is not None:
        axis = geometry.beam_axis / unit
    elif geometry.coordinates == "axisymmetric":
        axis = 0.0
    else:
        axis = 0.5 * (exposed[0][0] + exposed[-1][1])
    return Domain(
        mesh,
        tags,
        thickness=thickness,
        axisymmetric=geometry.coordinates == "axisymmetric",
        exposed=tuple(exposed),
        beam_axis=axis,
        cell_tags=data.cell_tags if regions else None,
        regions=regions,
        lateral_extent=(low, high),
    )


def _exposed_intervals(mesh: dmesh.Mesh, tags: dmesh.MeshTags) -> list[tuple[float, float]]:
    """The lateral ranges of the exposed front facets, merged (on every rank)."""
    mesh.topology.create_connectivity(1, 2)
    nodes = dmesh.entities_to_geometry(mesh, 1, tags.find(Boundary.FRONT))
    lateral = mesh.geometry.x[nodes, 0] if len(nodes) else np.zeros((0, 2))
    local = list(zip(lateral.min(axis=1).tolist(), lateral.max(axis=1).tolist(), strict=True))
    spans = sorted(span for part in mesh.comm.allgather(local) for span in part)
    merged: list[tuple[float, float]] = []
    for start, stop in spans:
        if merged and start <= merged[-1][1] * (1 + 1e-12) + 1e-12:
            merged[-1] = (merged[-1][0], max(merged[-1][1], stop))
        else:
            merged.append((start, stop))
    return merged
