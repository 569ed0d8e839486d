"""Fields for ParaView: species fractions and potential at the output times, in SI.

`fields.xdmf` (+ .h5) is always written (ParaView's Xdmf3 readers open it); a VTX
folder `fields.bp` is added on request. The fields live on a copy of the mesh whose
coordinates are in metres (same topology, so same cells and node order); the simulation's
mesh is left as it is.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import ufl
from dolfinx import cpp, fem, io
from dolfinx import mesh as dmesh

from femcait.solver.problem import TransportProblem


def metric_copy(mesh: dmesh.Mesh, length_m: float) -> dmesh.Mesh:
    """The mesh with its coordinates multiplied by ``length_m`` (shared topology)."""
    geometry = mesh.geometry
    x = geometry.x[:, : geometry.dim] * length_m
    scaled = dmesh.create_geometry(
        geometry.index_map(),
        geometry.dofmaps[0],
        geometry.cmaps[0],
        np.ascontiguousarray(x),
        geometry.input_global_indices,
    )
    cpp_mesh = cpp.mesh.Mesh_float64(mesh.comm, mesh.topology._cpp_object, scaled._cpp_object)
    # a UFL domain of its own: sharing the simulation's would point that one at this mesh
    return dmesh.Mesh(cpp_mesh, ufl.Mesh(mesh.ufl_domain().ufl_coordinate_element()))


class FieldWriter:
    """Writes n_i / n_bg (``<species>_frac``) and phi (``phi_V``) at output times.

    An adaptive run changes its mesh: each mesh is written once (named ``mesh``, then
    ``mesh_1``, ``mesh_2``, ...) and the fields at an output time refer to the mesh they
    were computed on, so that ParaView plays them as one time series.
    """

    def __init__(
        self,
        folder: Path,
        problem: TransportProblem,
        names: list[str],
        length_m: float,
        thermal_voltage_V: float,
        vtx: bool = False,
    ) -> None:
        self.names = names
        self.length_m = length_m
        self.thermal_voltage_V = thermal_voltage_V
        self.meshes = 0
        self.xdmf = io.XDMFFile(problem.mesh.comm, str(folder / "fields.xdmf"), "w")
        self._use(problem)
        self.vtx = None
        if vtx:
            self.vtx = io.VTXWriter(
                problem.mesh.comm, str(folder / "fields.bp"), [f for f, _, _ in self.fields]
            )

    def _use(self, problem: TransportProblem) -> None:
        """Output functions on (a metric copy of) the mesh of ``problem``, written once."""
        self.problem = problem
        mesh = metric_copy(problem.mesh, self.length_m)
        mesh.name = "mesh" if self.meshes == 0 else f"mesh_{self.meshes}"
        self.meshes += 1
        self.mesh_xpath = f"/Xdmf/Domain/Grid[@Name='{mesh.name}']"
        space = fem.functionspace(mesh, ("Lagrange", 1))
        self.fields: list[tuple[fem.Function, np.ndarray, bool]] = []
        for i, name in enumerate([*self.names, None]):
            source, parent = problem.V.sub(i).collapse()
            order = np.empty(
                space.dofmap.index_map.size_local + space.dofmap.index_map.num_ghosts,
                dtype=np.int64,
            )
            order[space.dofmap.list.ravel()] = np.asarray(parent).ravel()[
                source.dofmap.list.ravel()
            ]
            f = fem.Function(space, name=f"{name}_frac" if name else "phi_V")
            self.fields.append((f, order, name is not None))
        self.xdmf.write_mesh(mesh)

    def write(self, time_s: float, problem: TransportProblem) -> None:
        """Write every field of ``problem`` at time ``time_s`` (seconds)."""
        if problem is not self.problem:
            self._use(problem)
        values = problem.w.x.array
        for f, parent, is_species in self.fields:
            nodal = values[parent]
            f.x.array[:] = np.exp(nodal) if is_species else nodal * self.thermal_voltage_V
            self.xdmf.write_function(f, time_s, self.mesh_xpath)
        if self.vtx is not None:
            self.vtx.write(time_s)

    def close(self) -> None:
        """Close the files."""
        self.xdmf.close()
        if self.vtx is not None:
            self.vtx.close()
