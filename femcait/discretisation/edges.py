"""Flux terms as sums over mesh edges: positive and free of oscillations at layers the mesh
does not resolve.

A flux J = -k grad(mu) is discretised as the flux through the dual edge (the control-volume
face) between the two nodes of every mesh edge E = (a, b),

    sum_E  k_E  w_E  (mu_b - mu_a) (v_b - v_a),

with w_E = 1 / |E| on an interval and the dual-edge weight of `measures` on triangles
(there, with k constant, the sum is exactly the P1 stiffness form). For a species,
k = D(c) c: on each edge the density c_E is the exact average of exp(u) along the edge for
u linear on it, the logarithmic mean of the two nodal densities,

    c_E = (c_b - c_a) / (u_b - u_a) = exp(u_mid) sinh(y) / y,   y = (u_b - u_a) / 2,

with D at c_E (the mobile share of an immobile fraction at the edge's smaller density,
exp(u_mid - |y|)); each triangle at the edge uses its own material. A Gauss rule would
underestimate the mean by orders of magnitude across a steep layer and choke the flux. This
is the edge-averaged finite-element idea (Xu & Zikatanov, Math. Comp. 68 (1999) 1429) in
log-density variables.

In 1D the edges are the cells; in 2D they are the facets, so the sum is an interior- plus
an exterior-facet integral with one quadrature point (the edge midpoint), derivatives taken
along the edge.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import ufl

from femcait.discretisation.measures import Measures

LOGMEAN_SERIES_BELOW = 1e-4
"""Below this |y| the factor sinh(y)/y is replaced by its series 1 + y^2/6."""

LOGMEAN_MAX_ARGUMENT = 300.0
"""|y| is capped here so that sinh(y) cannot overflow (a jump of 600 in u over an edge)."""


@dataclass(frozen=True)
class Edge:
    """A mesh edge as an integrand sees it: a 1D cell, an interior or a boundary facet."""

    mesh: object
    kind: str  # "cell", "interior" or "boundary"

    @property
    def length(self) -> ufl.core.expr.Expr:
        """|E|."""
        if self.kind == "cell":
            return ufl.CellDiameter(self.mesh)
        area = ufl.FacetArea(self.mesh)
        return area("+") if self.kind == "interior" else area

    def value(self, f) -> ufl.core.expr.Expr:
        """A P1 function at the edge's midpoint (on a 1D cell: extrapolated from the
        quadrature point along the cell, so that the integrand is constant on the cell)."""
        if self.kind == "cell":
            corners = ufl.geometry.CellVertices(self.mesh)
            midpoint = (corners[0, 0] + corners[1, 0]) / 2
            return f + (midpoint - ufl.SpatialCoordinate(self.mesh)[0]) * f.dx(0)
        return f("+") if self.kind == "interior" else f

    def derivative(self, f) -> ufl.core.expr.Expr:
        """The derivative of a P1 function along the edge (the same from both sides)."""
        if self.kind == "cell":
            return f.dx(0)
        normal = ufl.FacetNormal(self.mesh)
        gradient = ufl.grad(f)
        if self.kind == "interior":
            normal, gradient = normal("+"), gradient("+")
        return gradient[1] * normal[0] - gradient[0] * normal[1]

    def half_jump(self, f) -> ufl.core.expr.Expr:
        """(f_b - f_a) / 2 for a P1 function f."""
        return 0.5 * self.length * self.derivative(f)

    @property
    def sides(self) -> tuple[str | None, ...]:
        """Restrictions of the cells at the edge: ('+', '-') inside, (None,) otherwise."""
        return ("+", "-") if self.kind == "interior" else (None,)


type Conductance = Callable[[Edge, str | None], ufl.core.expr.Expr]
"""k on an edge, for the cell on a side (None: the only cell)."""


def edge_sum(measures: Measures, mu, v, conductance: Conductance, sides_share: bool) -> ufl.Form:
    """sum_E k_E w_E (mu_b - mu_a) (v_b - v_a) as a UFL form.

    ``conductance(edge, side)`` gives k for the cell on ``side``; when ``sides_share`` (one
    material), it is built once per interior edge.
    """
    mesh = measures.mesh
    if measures.domain.dim == 1:
        edge = Edge(mesh, "cell")
        return conductance(edge, None) * mu.dx(0) * v.dx(0) * measures.cell_dx
    one_point = {"quadrature_degree": 0}
    form = 0
    for edge, measure in (
        (Edge(mesh, "interior"), ufl.dS(metadata=one_point)),
        (Edge(mesh, "boundary"), ufl.ds(metadata=one_point)),
    ):
        if sides_share:
            weight = sum(measures.dual_edge_weight(side) for side in edge.sides)
            k = weight * conductance(edge, edge.sides[0])
        else:
            k = sum(
                measures.dual_edge_weight(side) * conductance(edge, side) for side in edge.sides
            )
        form += k * edge.length * edge.derivative(mu) * edge.derivative(v) * measure
    return form


def log_mean_densities(edge: Edge, u) -> tuple[ufl.core.expr.Expr, ufl.core.expr.Expr]:
    """(logarithmic mean, smaller) of the nodal densities exp(u) at the ends of the edge."""
    y = edge.half_jump(u)
    y = ufl.max_value(ufl.min_value(y, LOGMEAN_MAX_ARGUMENT), -LOGMEAN_MAX_ARGUMENT)
    factor = ufl.conditional(ufl.lt(abs(y), LOGMEAN_SERIES_BELOW), 1 + y * y / 6, ufl.sinh(y) / y)
    u_mid = edge.value(u)
    return ufl.exp(u_mid) * factor, ufl.exp(u_mid - abs(y))
