"""Fields for ParaView: species fractions and potential at the output times, in SI.

`fields.xdmf` (+ .h5) is always written (ParaView's Xdmf3 readers open it); a VTX
folder `fields.bp` is added on request. The mesh is written with coordinates in metres.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from dolfinx import fem, io

from femcait.problem import TransportProblem


class FieldWriter:
    """Writes n_i / n_bg (``<species>_frac``) and phi (``phi_V``) at output times."""

    def __init__(
        self,
        folder: Path,
        problem: TransportProblem,
        names: list[str],
        length_m: float,
        thermal_voltage_V: float,
        vtx: bool = False,
    ) -> None:
        self.problem = problem
        self.thermal_voltage_V = thermal_voltage_V
        self.fields: list[tuple[fem.Function, np.ndarray, bool]] = []
        for i, name in enumerate([*names, None]):
            space, parent = problem.V.sub(i).collapse()
            f = fem.Function(space, name=f"{name}_frac" if name else "phi_V")
            self.fields.append((f, np.asarray(parent).ravel(), name is not None))
        mesh = problem.mesh
        self.xdmf = io.XDMFFile(mesh.comm, str(folder / "fields.xdmf"), "w")
        coordinates = mesh.geometry.x.copy()
        mesh.geometry.x[:] *= length_m
        try:
            self.xdmf.write_mesh(mesh)
        finally:
            mesh.geometry.x[:] = coordinates
        self.vtx = None
        if vtx:
            self.vtx = io.VTXWriter(
                mesh.comm, str(folder / "fields.bp"), [f for f, _, _ in self.fields]
            )
        self._length_m = length_m

    def write(self, time_s: float) -> None:
        """Write every field at time ``time_s`` (seconds)."""
        values = self.problem.w.x.array
        for f, parent, is_species in self.fields:
            nodal = values[parent]
            f.x.array[:] = np.exp(nodal) if is_species else nodal * self.thermal_voltage_V
            self.xdmf.write_function(f, time_s)
        if self.vtx is not None:
            mesh = self.problem.mesh
            coordinates = mesh.geometry.x.copy()
            mesh.geometry.x[:] *= self._length_m
            try:
                self.vtx.write(time_s)
            finally:
                mesh.geometry.x[:] = coordinates

    def close(self) -> None:
        """Close the files."""
        self.xdmf.close()
        if self.vtx is not None:
            self.vtx.close()
