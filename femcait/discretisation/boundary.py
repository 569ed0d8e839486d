"""CAIT boundary conditions (docs/model.md, "Boundary and initial conditions") in the
nondimensional variables.

Exposed front: the beam species is held at the front density n_s (potentiostatic, with
the surface potential prescribed) or enters at the beam flux j/(|z| e) (galvanostatic, with the
surface potential left free: no field outside the sample); every other species has zero
flux. Masked front (2D): zero flux for every species; the potential is free (a floating,
insulating mask: no normal field) or held at 0 (a grounded metal mask). Back electrode:
phi = 0; the native species is held at its background density (ions arriving there are
discharged); foreign species have zero flux. Sides and the axis: zero flux, no normal
field.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from dolfinx import fem

from femcait.discretisation.residual import Influx
from femcait.geometry import Boundary, Domain


@dataclass(frozen=True)
class CAITConditions:
    """The nondimensional data of the boundary conditions."""

    native: int  # index of the native species in the mixed space
    beam: int  # index of the beam species
    n_species: int
    front_fraction: float  # n_s / n_ref
    surface_potential: float | None  # e U_s / kT (potentiostatic)
    beam_flux: float | None  # j / (|z_b| e) in flux units (galvanostatic)
    grounded_mask: bool = False  # the masked front held at phi = 0

    @property
    def potentiostatic(self) -> bool:
        """Whether the surface potential is prescribed."""
        return self.surface_potential is not None


@dataclass
class BoundarySet:
    """Dirichlet conditions, prescribed influxes and the dofs where each species is held."""

    dirichlet: list[fem.DirichletBC]
    influx: list[Influx]
    held_dofs: dict[int, np.ndarray] = field(default_factory=dict)


def cait_boundaries(
    V: fem.FunctionSpace,
    domain: Domain,
    data: CAITConditions,
    native_back: fem.Function | float = 0.0,
) -> BoundarySet:
    """Boundary conditions of a CAIT experiment on the mixed space V = (u_1..u_N, psi).

    ``native_back``: the native log-density held at the back electrode (a function on the
    native subspace where regions differ, else a number).
    """
    tags = domain.facet_tags
    fdim = tags.dim
    front, back, masked = (tags.find(b) for b in (Boundary.FRONT, Boundary.BACK, Boundary.MASKED))
    potential = data.n_species

    def dofs_on(sub: int, facets: np.ndarray) -> np.ndarray:
        if isinstance(native_back, fem.Function) and sub == data.native:
            return fem.locate_dofs_topological(
                (V.sub(sub), native_back.function_space), fdim, facets
            )
        return fem.locate_dofs_topological(V.sub(sub), fdim, facets)

    def hold(sub: int, facets: np.ndarray, value) -> tuple[fem.DirichletBC, np.ndarray]:
        dofs = dofs_on(sub, facets)
        if isinstance(value, fem.Function):
            return fem.dirichletbc(value, dofs, V.sub(sub)), dofs[0]
        return fem.dirichletbc(np.float64(value), dofs, V.sub(sub)), dofs

    bcs: list[fem.DirichletBC] = []
    held: dict[int, np.ndarray] = {}
    influx: list[Influx] = []
    bc, dofs = hold(data.native, back, native_back)
    bcs.append(bc)
    held[data.native] = dofs
    bcs.append(hold(potential, back, 0.0)[0])
    if data.grounded_mask:
        bcs.append(_grounded_mask(V, domain, potential, masked))
    if data.potentiostatic:
        bc, dofs = hold(data.beam, front, math.log(data.front_fraction))
        bcs.append(bc)
        held[data.beam] = np.concatenate([held.get(data.beam, np.zeros(0, np.int32)), dofs])
        bcs.append(hold(potential, front, data.surface_potential)[0])
    else:
        influx.append(
            Influx(data.beam, fem.Constant(V.mesh, float(data.beam_flux)), Boundary.FRONT)
        )
    return BoundarySet(bcs, influx, held)


def _grounded_mask(V, domain: Domain, potential: int, masked: np.ndarray) -> fem.DirichletBC:
    """phi = 0 on the masked front, but for the nodes at the exposed front's edges (they
    carry the surface potential; decided by position, the same on every rank)."""
    space, _ = V.sub(potential).collapse()
    parent, collapsed = fem.locate_dofs_topological(
        (V.sub(potential), space), domain.facet_tags.dim, masked
    )
    lateral = space.tabulate_dof_coordinates()[collapsed, 0]
    low, high = domain.lateral_extent
    keep = domain.outside_exposed(lateral) > 1e-9 * max(high - low, 1.0)
    return fem.dirichletbc(np.float64(0.0), parent[keep], V.sub(potential))
