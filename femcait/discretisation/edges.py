"""The density on a mesh edge for the species flux: the logarithmic mean of its two nodes.

A species flux J = -D(c) c grad(mu), mu = u + z psi, is the flux through the dual face of
every mesh edge E = (j, k) (`measures`): w_E D(c_E) c_E (mu_k - mu_j). The density c_E is
the exact average of exp(u) along the edge for u linear on it, the logarithmic mean of the
two nodal densities,

    c_E = (c_k - c_j) / (u_k - u_j) = exp(u_mid) sinh(y) / y,   y = (u_k - u_j) / 2,

with D at c_E (the mobile share of an immobile fraction at the edge's smaller density,
exp(u_mid - |y|)). A Gauss rule would underestimate the mean by orders of magnitude across a
steep layer and choke the flux; with it the scheme stays positive and free of oscillations
at layers the mesh does not resolve. This is the edge-averaged finite-element idea (Xu &
Zikatanov, Math. Comp. 68 (1999) 1429) in log-density variables; in 1D the edge is the cell.
"""

from __future__ import annotations

import ufl

LOGMEAN_SERIES_BELOW = 1e-4
"""Below this |y| the factor sinh(y)/y is replaced by its series 1 + y^2/6."""

LOGMEAN_MAX_ARGUMENT = 300.0
"""|y| is capped here so that sinh(y) cannot overflow (a jump of 600 in u over an edge)."""


def log_mean_densities(u_j, u_k) -> tuple[ufl.core.expr.Expr, ufl.core.expr.Expr]:
    """(logarithmic mean, smaller) of the densities exp(u_j), exp(u_k)."""
    y = (u_k - u_j) / 2
    y = ufl.max_value(ufl.min_value(y, LOGMEAN_MAX_ARGUMENT), -LOGMEAN_MAX_ARGUMENT)
    factor = ufl.conditional(ufl.lt(abs(y), LOGMEAN_SERIES_BELOW), 1 + y * y / 6, ufl.sinh(y) / y)
    u_mid = (u_j + u_k) / 2
    return ufl.exp(u_mid) * factor, ufl.exp(u_mid - abs(y))
