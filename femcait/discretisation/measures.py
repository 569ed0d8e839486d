"""Control volumes and dual edges of a simplex mesh (the box method), as UFL on one cell.

Every node owns a control volume and every mesh edge E = (j, k) a dual face between the
volumes of j and k. A cell T contributes to both:

* the box part m_k of its vertex k: in 1D half the cell; on a triangle the quadrilateral
  (k, the midpoints of the two edges at k, the circumcentre O), of signed area
  sum over the edges (k, j) of cot(theta_kj) |k j|^2 / 8, theta_kj the angle of T
  opposite the edge, unless the domain gives its volumes per node (`Domain.box_shares`,
  the product boxes of an adaptive 2D mesh);
* the dual-face weight w_jk = (dual face) / |E| of its edge: 1 / h in 1D, cot(theta) / 2
  on a triangle. With these, sum_E w_E (f_k - f_j)(v_k - v_j) is exactly the P1 stiffness
  form, and on a grid of rectangles split into right triangles the boxes are the rectangles
  around the nodes: a laterally uniform 2D solution is the 1D solution.

Axisymmetric domains integrate with the weight r (2 pi left out) over the same boxes and
faces: the box part is the r-moment of its quadrilateral (two triangles, each its signed
area times the mean r of its corners), the face weight carries the mean r of the edge
midpoint and the circumcentre. Axis nodes keep a positive volume.

Every term of the residual is written as such a sum over the vertices or edges of a cell,
with the vertex values of the P1 unknowns taken explicitly (f_k = f + grad f . (x_k - x)),
and integrated with one point per cell (the integrand is constant on the cell): one
quadrature rule for the whole form, the P1 sparsity pattern, and no facet integrals.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

import numpy as np
import ufl
from dolfinx import fem, la

from femcait.geometry import Domain


@dataclass(frozen=True)
class CellGeometry:
    """A cell of a 1D or triangle mesh as UFL expressions on that cell."""

    domain: Domain

    @property
    def mesh(self):
        """The domain's mesh."""
        return self.domain.mesh

    @property
    def dim(self) -> int:
        """1 or 2."""
        return self.domain.dim

    @property
    def vertices(self) -> list[ufl.core.expr.Expr]:
        """Positions of the dim + 1 vertices."""
        corners = ufl.geometry.CellVertices(self.mesh)
        return [
            ufl.as_vector([corners[k, i] for i in range(self.dim)]) for k in range(self.dim + 1)
        ]

    @property
    def edges(self) -> list[tuple[int, int]]:
        """Vertex pairs of the cell's edges."""
        return list(combinations(range(self.dim + 1), 2))

    @property
    def size(self) -> ufl.core.expr.Expr:
        """|T|: length or area."""
        return ufl.CellVolume(self.mesh)

    def at_vertex(self, f, k: int) -> ufl.core.expr.Expr:
        """The value of a P1 function (or its derivative-free expression) at vertex k."""
        x = ufl.SpatialCoordinate(self.mesh)
        return f + ufl.dot(ufl.grad(f), self.vertices[k] - x)

    def difference(self, f, j: int, k: int) -> ufl.core.expr.Expr:
        """f_k - f_j for a P1 function f."""
        return ufl.dot(ufl.grad(f), self.vertices[k] - self.vertices[j])

    @property
    def circumcentre(self) -> ufl.core.expr.Expr:
        """The centre of a triangle's circumscribed circle."""
        a, b, c = self.vertices
        e1, e2 = b - a, c - a
        cross = e1[0] * e2[1] - e1[1] * e2[0]
        l1, l2 = ufl.dot(e1, e1), ufl.dot(e2, e2)
        return a + ufl.as_vector([l1 * e2[1] - l2 * e1[1], l2 * e1[0] - l1 * e2[0]]) / (2 * cross)

    def _half_cotangent(self, j: int, k: int) -> ufl.core.expr.Expr:
        """cot / 2 of the triangle's angle opposite the edge (j, k)."""
        m = 3 - j - k
        V = self.vertices
        return ufl.dot(V[j] - V[m], V[k] - V[m]) / (4 * self.size)

    def edge_weight(self, j: int, k: int) -> ufl.core.expr.Expr:
        """w_jk of this cell: 1 / h in 1D, cot(theta) / 2 on a triangle (times the mean r of
        the edge midpoint and the circumcentre if axisymmetric)."""
        if self.dim == 1:
            return 1 / self.size
        weight = self._half_cotangent(j, k)
        if self.domain.axisymmetric:
            V = self.vertices
            midpoint = (V[j][0] + V[k][0]) / 2
            weight *= (midpoint + self.circumcentre[0]) / 2
        return weight

    def box_weight(self, k: int) -> ufl.core.expr.Expr:
        """m_k: the part of vertex k's control volume in this cell (its r-moment if
        axisymmetric)."""
        if self.dim == 1:
            return self.size / 2
        if self.domain.box_shares is not None:
            return self.at_vertex(self.domain.box_shares, k) * self.size
        V = self.vertices
        part = 0
        for j in range(3):
            if j == k:
                continue
            piece = self._half_cotangent(j, k) * ufl.dot(V[k] - V[j], V[k] - V[j]) / 4
            if self.domain.axisymmetric:
                piece *= (V[k][0] + (V[k][0] + V[j][0]) / 2 + self.circumcentre[0]) / 3
            part += piece
        return part

    @property
    def dx(self) -> ufl.Measure:
        """One point per cell: integrands here are constant on each cell, divided by |T|."""
        return ufl.Measure("dx", domain=self.mesh, metadata={"quadrature_degree": 0})

    def vertex_sum(self, term) -> ufl.Form:
        """int of sum_k m_k term(k) as a form (term(k): the integrand at vertex k)."""
        return sum(self.box_weight(k) * term(k) for k in range(self.dim + 1)) / self.size * self.dx

    def box_form(self, space: fem.FunctionSpace, value=1.0) -> ufl.Form:
        """The form of `box_sums` (a vector on the P1 ``space``)."""
        v = ufl.TestFunction(space)
        return self.vertex_sum(lambda k: value * self.at_vertex(v, k))

    def box_sums(self, space: fem.FunctionSpace, value=1.0) -> np.ndarray:
        """sum over the cells of m_k * value at every node k of the P1 ``space``: the box
        volumes |B_k| for value 1 (local array, ghosts up to date)."""
        return assembled_nodal(fem.form(self.box_form(space, value)))

    def edge_sum(self, term) -> ufl.Form:
        """int of sum over the edges of w_jk term(j, k) as a form."""
        return sum(self.edge_weight(j, k) * term(j, k) for j, k in self.edges) / self.size * self.dx


@dataclass(frozen=True)
class BoundaryMeasure:
    """Boundary facets with the domain's tags, and their coordinate weight."""

    domain: Domain

    @property
    def ds(self) -> ufl.Measure:
        """Boundary facets, with the domain's facet tags (times `weight`)."""
        return ufl.Measure("ds", domain=self.domain.mesh, subdomain_data=self.domain.facet_tags)

    @property
    def weight(self) -> ufl.core.expr.Expr | float:
        """1, or r in axisymmetric domains."""
        return ufl.SpatialCoordinate(self.domain.mesh)[0] if self.domain.axisymmetric else 1.0


def assembled_nodal(form: fem.Form) -> np.ndarray:
    """The vector of a linear form on a P1 space, summed over the ranks at every node (local
    array, ghosts up to date)."""
    vector = fem.assemble_vector(form)
    vector.scatter_reverse(la.InsertMode.add)
    vector.scatter_forward()
    return vector.array
