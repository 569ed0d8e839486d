"""The residual of one implicit step of the nondimensional Nernst-Planck-Poisson system.

Unknowns: u_i = ln(n_i / n_ref) for each mobile species and psi = e phi / kT, P1 on the
same mesh. Writing the densities as c_i = exp(u_i) keeps them positive whatever Newton
does. Box method (`measures`): each node balances the content of its control volume
(lumped mass and space charge) against the fluxes through the dual faces of its edges;
a species flux takes the logarithmic-mean density of the edge (`edges`), so that the scheme
stays positive and free of oscillations at layers the mesh does not resolve. Time:
variable-step BDF2 (`bdf`), every species equation multiplied by dt.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import ufl
from dolfinx import fem

from femcait.discretisation.bdf import BDFCoefficients
from femcait.discretisation.edges import log_mean_densities
from femcait.discretisation.materials import Materials
from femcait.discretisation.measures import BoundaryMeasure, CellGeometry
from femcait.sed import DiffusionLaw


@dataclass(frozen=True)
class SpeciesTerms:
    """What the weak form needs to know about one mobile species (nondimensional)."""

    name: str
    charge: int
    diffusion: DiffusionLaw  # D / D_ref as a function of c = n / n_bg (the glass's law)


@dataclass(frozen=True)
class Influx:
    """A prescribed inward flux density of one species through tagged boundary facets."""

    species: int
    flux: ufl.core.expr.Expr
    tag: int


def npp_residual(
    w: fem.Function,
    w_old: fem.Function,
    w_older: fem.Function,
    species: Sequence[SpeciesTerms],
    materials: Materials,
    debye_squared: float,
    bdf: BDFCoefficients,
    influx: Sequence[Influx] = (),
    sources: Sequence[fem.Function] | None = None,
    scale: float = 1.0,
) -> ufl.Form:
    """Residual of one implicit step, every species equation multiplied by dt, the whole
    residual by ``scale`` (see `Domain.lateral_measure`).

    Args:
        w, w_old, w_older: mixed functions (u_1..u_N, psi) at t^{k+1}, t^k, t^{k-1}.
        species: the mobile species, in the order of the mixed space.
        materials: network charge, permittivity and diffusion laws of the regions.
        debye_squared: (Debye length of the reference material / length unit)^2.
        bdf: the time-step constants.
        influx: prescribed inward fluxes (galvanostatic beam).
        sources: optional nodal volume sources, P1 functions (N species + Poisson), for
            manufactured solutions; lumped like the storage.
        scale: a factor on every equation (Newton's tolerances apply to the scaled
            residual).
    """
    cell = CellGeometry(materials.domain)
    mesh = cell.mesh
    unknowns, previous, older = ufl.split(w), ufl.split(w_old), ufl.split(w_older)
    tests = ufl.TestFunctions(w.function_space)
    n = len(species)
    psi, q = unknowns[n], tests[n]
    debye_squared = fem.Constant(mesh, float(debye_squared))  # values, not code: the form
    #                                                            is compiled once per sweep

    def at(f, k):
        return cell.at_vertex(f, k)

    residual = 0
    for i, s in enumerate(species):
        u, v = unknowns[i], tests[i]

        def storage(k, u=u, i=i, v=v):
            content = (
                bdf.a * ufl.exp(at(u, k))
                - bdf.b * ufl.exp(at(previous[i], k))
                + bdf.e * ufl.exp(at(older[i], k))
            )
            return content * at(v, k)

        def flux(j, k, u=u, i=i, v=v, z=s.charge):
            c_mean, c_low = log_mean_densities(at(u, j), at(u, k))
            conductance = materials.diffusion(i, c_mean, c_low) * c_mean
            return conductance * cell.difference(u + z * psi, j, k) * cell.difference(v, j, k)

        residual += cell.vertex_sum(storage) + bdf.dt * cell.edge_sum(flux)

    def dielectric(j, k):
        permittivity = debye_squared * materials.permittivity()
        return permittivity * cell.difference(psi, j, k) * cell.difference(q, j, k)

    def space_charge(k):
        charge = sum(s.charge * ufl.exp(at(unknowns[i], k)) for i, s in enumerate(species))
        return (charge - materials.background) * at(q, k)

    residual += cell.edge_sum(dielectric) - cell.vertex_sum(space_charge)
    boundary = BoundaryMeasure(materials.domain)
    for entry in influx:
        residual -= (
            bdf.dt * entry.flux * tests[entry.species] * boundary.weight * boundary.ds(entry.tag)
        )
    if sources is not None:
        for i in range(n):
            residual -= bdf.dt * cell.vertex_sum(lambda k, i=i: at(sources[i], k) * at(tests[i], k))
        residual -= cell.vertex_sum(lambda k: at(sources[n], k) * at(q, k))
    return fem.Constant(mesh, float(scale)) * residual
