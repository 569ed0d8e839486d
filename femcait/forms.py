"""Weak forms of the nondimensional Nernst-Planck-Poisson system in log-density variables.

Unknowns: u_i = ln(n_i / n_bg) for each mobile species and psi = e phi / kT. Writing the
densities as c_i = exp(u_i) keeps them positive whatever Newton does. The flux is written
in electrochemical form, J_i = -d_i(c) c_i grad(u_i + z_i psi), and discretised so that
the scheme stays positive and free of oscillations at layers the mesh does not resolve:

* mass and space-charge terms use vertex quadrature (a lumped, diagonal mass matrix), so
  every node balances its own content: no over- or undershoot from a consistent mass;
* the flux coefficient c_i is the exact cell average of exp(u_i) for linear u_i, i.e. the
  logarithmic mean of the nodal densities, (c_b - c_a) / (u_b - u_a). A Gauss rule would
  underestimate it by orders of magnitude across a steep (Debye) layer and choke the flux.
  The form evaluates it at the cell midpoint as exp(u_mid) sinh(y) / y with
  y = h u' / 2, which is exact on intervals (1D meshes).

Time is discretised by variable-step BDF2 (BDF1 for the first step): the mass term is
a c^{k+1} - b c^k + g c^{k-1}, with the coefficients held in constants so that changing
the step never recompiles a form.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import ufl
from dolfinx import fem

from femcait.sed import DiffusionLaw, ufl_ops

LOGMEAN_SERIES_BELOW = 1e-4
"""Below this |y| the factor sinh(y)/y is replaced by its series 1 + y^2/6."""

LOGMEAN_MAX_ARGUMENT = 300.0
"""|y| is capped here so that sinh(y) cannot overflow (a jump of 600 in u over a cell)."""


@dataclass(frozen=True)
class SpeciesTerms:
    """What the weak form needs to know about one mobile species (nondimensional)."""

    name: str
    charge: int
    diffusion: DiffusionLaw  # D / D_ref as a function of c = n / n_bg


class BDFCoefficients:
    """Variable-step BDF coefficients a, b, g and the step dt, as form constants."""

    def __init__(self, mesh) -> None:
        self.a = fem.Constant(mesh, 1.0)
        self.b = fem.Constant(mesh, 1.0)
        self.g = fem.Constant(mesh, 0.0)
        self.dt = fem.Constant(mesh, 1.0)

    def set(self, dt: float, dt_previous: float | None) -> None:
        """BDF2 for the ratio dt / dt_previous, or BDF1 when there is no previous step."""
        if dt_previous is None:
            a, b, g = 1.0, 1.0, 0.0
        else:
            w = dt / dt_previous
            a, b, g = (1 + 2 * w) / (1 + w), 1 + w, w * w / (1 + w)
        self.a.value, self.b.value, self.g.value, self.dt.value = a, b, g, dt

    @property
    def values(self) -> tuple[float, float, float]:
        """The current (a, b, g)."""
        return float(self.a.value), float(self.b.value), float(self.g.value)


def lumped_dx(mesh) -> ufl.Measure:
    """Vertex quadrature: lumped mass, nodal space charge."""
    return ufl.Measure(
        "dx", domain=mesh, metadata={"quadrature_rule": "vertex", "quadrature_degree": 1}
    )


def midpoint_dx(mesh) -> ufl.Measure:
    """One-point (midpoint) quadrature for the cell-constant flux terms."""
    return ufl.Measure("dx", domain=mesh, metadata={"quadrature_degree": 0})


def _half_jump(u: ufl.core.expr.Expr, mesh) -> ufl.core.expr.Expr:
    """Half the change of u across a cell (u linear on an interval), bounded."""
    y = 0.5 * ufl.CellDiameter(mesh) * u.dx(0)
    return ufl.max_value(ufl.min_value(y, LOGMEAN_MAX_ARGUMENT), -LOGMEAN_MAX_ARGUMENT)


def species_flux_coefficient(u, law: DiffusionLaw, mesh):
    """d(c) * c on a cell, both at the logarithmic-mean density (the exact cell average of
    exp(u) for u linear on an interval); a law's mobile share (immobile fraction) at the
    cell's smaller nodal density, exp(u_mid - |jump| / 2)."""
    y = _half_jump(u, mesh)
    factor = ufl.conditional(ufl.lt(abs(y), LOGMEAN_SERIES_BELOW), 1 + y * y / 6, ufl.sinh(y) / y)
    c_mean = ufl.exp(u) * factor
    c_low = ufl.exp(u - abs(y))
    return law(c_mean, ufl_ops(mesh), c_mobile=c_low) * c_mean


def npp_residual(
    w: fem.Function,
    w_old: fem.Function,
    w_older: fem.Function,
    species: Sequence[SpeciesTerms],
    debye_squared: float,
    background_charge: float,
    bdf: BDFCoefficients,
    influx: Sequence[tuple[int, ufl.core.expr.Expr, ufl.Measure]] = (),
    sources: Sequence[ufl.core.expr.Expr] | None = None,
) -> ufl.Form:
    """Residual of one implicit step, every species equation multiplied by dt.

    Args:
        w, w_old, w_older: mixed functions (u_1..u_N, psi) at t^{k+1}, t^k, t^{k-1}.
        species: the mobile species, in the order of the mixed space.
        debye_squared: (Debye length / length unit)^2.
        background_charge: fixed network charge density, in units of e n_bg (negative
            charges give a positive number here: it is subtracted).
        bdf: the time-step constants.
        influx: (species index, flux into the domain, boundary measure) for prescribed
            inward fluxes (galvanostatic beam).
        sources: optional volume sources (N species + Poisson), for manufactured solutions.
    """
    mesh = w.function_space.mesh
    dxl, dxm = lumped_dx(mesh), midpoint_dx(mesh)
    unknowns, previous, older = ufl.split(w), ufl.split(w_old), ufl.split(w_older)
    tests = ufl.TestFunctions(w.function_space)
    n = len(species)
    psi, q = unknowns[n], tests[n]
    debye_squared = fem.Constant(mesh, float(debye_squared))  # values, not code: the form
    space_charge = -fem.Constant(mesh, float(background_charge))  # is compiled once per sweep
    residual = 0
    for i, s in enumerate(species):
        u, v = unknowns[i], tests[i]
        c = ufl.exp(u)
        storage = bdf.a * c - bdf.b * ufl.exp(previous[i]) + bdf.g * ufl.exp(older[i])
        coefficient = species_flux_coefficient(u, s.diffusion, mesh)
        flux_term = coefficient * ufl.inner(ufl.grad(u) + s.charge * ufl.grad(psi), ufl.grad(v))
        residual += storage * v * dxl + bdf.dt * flux_term * dxm
        space_charge += s.charge * c
    for i, g, ds in influx:
        residual -= bdf.dt * g * tests[i] * ds
    residual += debye_squared * ufl.inner(ufl.grad(psi), ufl.grad(q)) * dxm
    residual -= space_charge * q * dxl
    if sources is not None:
        dxs = ufl.Measure("dx", domain=mesh, metadata={"quadrature_degree": 6})
        for i in range(n):
            residual -= bdf.dt * sources[i] * tests[i] * dxs
        residual -= sources[n] * q * dxs
    return residual
