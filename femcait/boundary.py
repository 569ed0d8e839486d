"""CAIT boundary conditions (docs/model.md, "Boundary and initial conditions") in the
nondimensional variables.

Front (x = 0): the beam species is held at the front density n_s (potentiostatic, with
the surface potential prescribed) or enters at the beam flux j/e (galvanostatic, with the
surface potential left free: no field outside the sample); every other species has zero
flux. Back electrode (x = L): phi = 0; the native species is held at n_bg (ions arriving
there are discharged); foreign species have zero flux.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import ufl
from dolfinx import fem
from dolfinx import mesh as dmesh

FRONT, BACK = 1, 2
"""Facet tags of the front surface and the back electrode."""


@dataclass(frozen=True)
class CAITConditions:
    """The nondimensional data of the boundary conditions."""

    native: int  # index of the native species in the mixed space
    beam: int  # index of the beam species
    n_species: int
    length: float
    front_fraction: float  # n_s / n_bg
    surface_potential: float | None  # e U_s / kT (potentiostatic)
    beam_flux: float | None  # j / e in flux units (galvanostatic)

    @property
    def potentiostatic(self) -> bool:
        """Whether the surface potential is prescribed."""
        return self.surface_potential is not None


@dataclass
class BoundarySet:
    """Dirichlet conditions, prescribed influxes and the dofs where each species is held."""

    dirichlet: list[fem.DirichletBC]
    influx: list[tuple[int, ufl.core.expr.Expr, ufl.Measure]]
    held_dofs: dict[int, np.ndarray] = field(default_factory=dict)
    front_potential_dofs: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))


def tag_ends(mesh: dmesh.Mesh, length: float) -> dmesh.MeshTags:
    """Facet tags FRONT at x = 0 and BACK at x = length."""
    fdim = mesh.topology.dim - 1
    front = dmesh.locate_entities_boundary(mesh, fdim, lambda x: np.isclose(x[0], 0.0))
    back = dmesh.locate_entities_boundary(
        mesh, fdim, lambda x: np.isclose(x[0], length, rtol=1e-12, atol=1e-9 * length)
    )
    entities = np.concatenate([front, back]).astype(np.int32)
    values = np.concatenate([np.full(len(front), FRONT), np.full(len(back), BACK)])
    order = np.argsort(entities)
    return dmesh.meshtags(mesh, fdim, entities[order], values[order].astype(np.int32))


def cait_boundaries(
    V: fem.FunctionSpace, tags: dmesh.MeshTags, data: CAITConditions
) -> BoundarySet:
    """Boundary conditions of a CAIT experiment on the mixed space V = (u_1..u_N, psi)."""
    fdim = tags.dim
    front, back = tags.find(FRONT), tags.find(BACK)
    potential = data.n_species

    def hold(sub: int, facets: np.ndarray, value: float) -> tuple[fem.DirichletBC, np.ndarray]:
        dofs = fem.locate_dofs_topological(V.sub(sub), fdim, facets)
        return fem.dirichletbc(np.float64(value), dofs, V.sub(sub)), dofs

    bcs: list[fem.DirichletBC] = []
    held: dict[int, np.ndarray] = {}
    influx = []
    bc, dofs = hold(data.native, back, 0.0)
    bcs.append(bc)
    held[data.native] = dofs
    bcs.append(hold(potential, back, 0.0)[0])
    front_psi_dofs = fem.locate_dofs_topological(V.sub(potential), fdim, front)
    if data.potentiostatic:
        bc, dofs = hold(data.beam, front, math.log(data.front_fraction))
        bcs.append(bc)
        held[data.beam] = np.concatenate([held.get(data.beam, np.zeros(0, np.int32)), dofs])
        bcs.append(hold(potential, front, data.surface_potential)[0])
    else:
        ds = ufl.Measure("ds", domain=V.mesh, subdomain_data=tags, subdomain_id=FRONT)
        influx.append((data.beam, fem.Constant(V.mesh, float(data.beam_flux)), ds))
    return BoundarySet(bcs, influx, held, front_psi_dofs)
