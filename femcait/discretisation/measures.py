"""Integration measures and the control-volume weights of a domain (the box method).

Every node owns a control volume: in 1D half of each adjacent cell; on triangles the
Voronoi box, whose part in a triangle T at vertex a is the quadrilateral (a, the midpoints
of the two edges at a, the circumcentre O of T), of signed area
sum over the edges (a, k) of T of cot(theta_k') |a k|^2 / 8, theta_k' the angle of T
opposite the edge. Mass and space charge are lumped on these volumes (vertex quadrature
with a per-vertex weight), and the flux through the dual edge between two nodes has the
weight w_E = (dual edge length) / |E| = sum over the triangles at E of cot(theta) / 2
(`edges`). On a grid of rectangles split into right triangles the boxes are the rectangles
around the nodes, so a laterally uniform 2D solution is the 1D solution.

Axisymmetric domains integrate with the weight r (2 pi left out) over the same boxes and
dual edges: the box part of a vertex is the r-moment of its quadrilateral (two triangles,
each its signed area times the mean r of its corners) and the dual-edge weight carries the
mean r of the edge midpoint and the circumcentre. This is the standard finite-volume
discretisation of the axisymmetric operator; axis nodes keep a positive volume.
"""

from __future__ import annotations

from dataclasses import dataclass

import ufl

from femcait.geometry import Domain


def _restricted(quantity, side: str | None):
    return quantity(side) if side else quantity


@dataclass(frozen=True)
class Triangle:
    """Geometric quantities of a mesh triangle as UFL expressions (optionally restricted)."""

    mesh: object
    side: str | None = None

    @property
    def vertices(self) -> list[ufl.core.expr.Expr]:
        """The three vertex positions."""
        corners = _restricted(ufl.geometry.CellVertices(self.mesh), self.side)
        return [ufl.as_vector([corners[k, 0], corners[k, 1]]) for k in range(3)]

    @property
    def area(self) -> ufl.core.expr.Expr:
        """|T|."""
        return _restricted(ufl.CellVolume(self.mesh), self.side)

    @property
    def circumcentre(self) -> ufl.core.expr.Expr:
        """The centre of the circumscribed circle."""
        a, b, c = self.vertices
        e1, e2 = b - a, c - a
        cross = e1[0] * e2[1] - e1[1] * e2[0]
        l1, l2 = ufl.dot(e1, e1), ufl.dot(e2, e2)
        return a + ufl.as_vector([l1 * e2[1] - l2 * e1[1], l2 * e1[0] - l1 * e2[0]]) / (2 * cross)

    def cotangent_at(self, corner, p, q) -> ufl.core.expr.Expr:
        """cot of the angle at ``corner`` between the directions to p and q."""
        return ufl.dot(p - corner, q - corner) / (2 * self.area)

    def box_part(self, x, axisymmetric: bool) -> ufl.core.expr.Expr:
        """The part of vertex x's control volume (r-moment if axisymmetric) inside T.

        Written symmetrically in the three vertices: the term of the vertex x itself
        vanishes (|x - v|^2 = 0), the other two are the triangles (x, edge midpoint, O).
        """
        vertices = self.vertices
        total = vertices[0] + vertices[1] + vertices[2]
        part = 0
        for v in vertices:
            third = total - x - v
            term = self.cotangent_at(third, x, v) * ufl.dot(x - v, x - v) / 8
            if axisymmetric:
                term *= (x[0] + (x[0] + v[0]) / 2 + self.circumcentre[0]) / 3
            part += term
        return part


@dataclass(frozen=True)
class Measures:
    """The measures and control-volume weights every form of a domain uses."""

    domain: Domain

    @property
    def mesh(self):
        """The domain's mesh."""
        return self.domain.mesh

    @property
    def lumped_dx(self) -> ufl.Measure:
        """Vertex quadrature: lumped mass, nodal space charge (times `lumped_weight`)."""
        return ufl.Measure(
            "dx", domain=self.mesh, metadata={"quadrature_rule": "vertex", "quadrature_degree": 1}
        )

    @property
    def cell_dx(self) -> ufl.Measure:
        """A two-point Gauss rule for integrands that are constant on each cell (exact).

        Not the one-point rule: FFCx 0.11 hoists values that are constant over a one-point
        rule out of the quadrature loop and reuses them in the vertex-rule loop of the same
        kernel (a u in both came out as its midpoint value at the vertices), so a form
        mixing the two rules was assembled wrongly. tests/unit/test_forms_assembly.py
        checks the assembled residual against its separately assembled parts."""
        return ufl.Measure("dx", domain=self.mesh, metadata={"quadrature_degree": 2})

    @property
    def ds(self) -> ufl.Measure:
        """Boundary facets, with the domain's facet tags (times `surface_weight`)."""
        return ufl.Measure("ds", domain=self.mesh, subdomain_data=self.domain.facet_tags)

    @property
    def lumped_weight(self) -> ufl.core.expr.Expr | float:
        """Weight of `lumped_dx` integrands that makes them sums over the control volumes:
        vertex quadrature gives each vertex |T| / 3, the weight turns that into its box part
        (1 in 1D, where the box is half of each cell)."""
        if self.domain.dim == 1:
            return 1.0
        triangle = Triangle(self.mesh)
        x = ufl.SpatialCoordinate(self.mesh)
        return 3 * triangle.box_part(x, self.domain.axisymmetric) / triangle.area

    @property
    def surface_weight(self) -> ufl.core.expr.Expr | float:
        """Coordinate weight of boundary integrals: 1, or r."""
        return ufl.SpatialCoordinate(self.mesh)[0] if self.domain.axisymmetric else 1.0

    def dual_edge_weight(self, side: str | None = None) -> ufl.core.expr.Expr:
        """w_E^T = cot(theta) / 2 of a facet's edge in the triangle on ``side`` (times the
        mean r of the edge midpoint and the circumcentre if axisymmetric); theta is the
        angle opposite the edge, cot(theta) = (S - 2 h^2) / (4 |T|), S the sum of the
        squared edge lengths of T."""
        triangle = Triangle(self.mesh, side)
        a, b, c = triangle.vertices
        squares = ufl.dot(b - a, b - a) + ufl.dot(c - b, c - b) + ufl.dot(a - c, a - c)
        length = _restricted(ufl.FacetArea(self.mesh), side)
        weight = (squares - 2 * length**2) / (8 * triangle.area)
        if self.domain.axisymmetric:
            midpoint = _restricted(ufl.SpatialCoordinate(self.mesh), side)
            weight *= (midpoint[0] + triangle.circumcentre[0]) / 2
        return weight
