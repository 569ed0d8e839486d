"""An accurate quantile for shapes without a closed form: cubic Hermite in probit space.

With ``z = Phi^{-1}(p)`` (the standard normal quantile, itself accurate to 1e-9 in NumPy
and UFL), the quantile ``E(z)`` of a smooth, bell-like site-energy density is smooth and
nearly linear (exactly linear for one Gaussian). It is interpolated by piecewise cubic
Hermite polynomials with the exact slopes ``dE/dz = phi(z) / g(E)``, on nodes bisected
until the error at the quarter points is below a tolerance. The same interpolant is
evaluated in NumPy and in UFL, so the weak form and the reported values agree, and UFL
differentiates it exactly.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from femcait.sed.backend import NUMPY_OPS, Field, Ops
from femcait.sed.normal_quantile import normal_quantile
from femcait.sed.piecewise import select

Z_RANGE = 7.0
"""The interpolant covers ``|z| <= 7``, i.e. 1.3e-12 <= p <= 1 - 1.3e-12; beyond, E is held."""

TOLERANCE_EV = 2e-9
"""Largest interpolation error accepted at the quarter points of every interval, eV
(2e-9 eV changes D by < 1e-7 relative at 300 K)."""

MAX_NODES = 4097


@dataclass(frozen=True)
class ProbitHermiteQuantile:
    """Piecewise cubic ``E(z)`` on nodes ``z_nodes``, one row of ``coefficients`` per interval.

    On interval ``i``, ``E = c0 + c1 s + c2 s^2 + c3 s^3`` with ``s = z - z_nodes[i]``.
    """

    z_nodes: npt.NDArray[np.float64]
    coefficients: npt.NDArray[np.float64]

    @classmethod
    def build(
        cls,
        energy: Callable[[npt.NDArray[np.float64]], npt.NDArray[np.float64]],
        density: Callable[[npt.NDArray[np.float64]], npt.NDArray[np.float64]],
        tolerance_eV: float = TOLERANCE_EV,
    ) -> ProbitHermiteQuantile:
        """Interpolate an exact (slow) quantile, given as ``energy(z)`` = E at p = Phi(z),
        of the density ``density(E)``."""

        def slope(z: npt.NDArray[np.float64], E: npt.NDArray[np.float64]):
            return np.exp(-0.5 * z * z) / np.sqrt(2.0 * np.pi) / density(E)

        z = np.linspace(-Z_RANGE, Z_RANGE, 57)
        while True:
            E = energy(z)
            coefficients = _hermite_coefficients(z, E, slope(z, E))
            probes = (z[:-1, None] + np.diff(z)[:, None] * np.array([0.25, 0.5, 0.75])).ravel()
            interval = np.repeat(np.arange(len(z) - 1), 3)
            error = np.abs(_evaluate(coefficients[interval], probes - z[interval]) - energy(probes))
            bad = np.unique(interval[error > tolerance_eV])
            if bad.size == 0:
                return cls(z, coefficients)
            if len(z) + bad.size > MAX_NODES:
                raise ValueError(
                    f"the quantile needs more than {MAX_NODES} nodes for {tolerance_eV:g} eV: "
                    "is the density zero or very spiky somewhere inside?"
                )
            z = np.sort(np.concatenate([z, 0.5 * (z[bad] + z[bad + 1])]))

    def __call__(self, p: Field, ops: Ops = NUMPY_OPS) -> Field:
        """The interpolated quantile at ``p`` (held at its end values outside |z| <= 7)."""
        z = ops.minimum(ops.maximum(normal_quantile(p, ops), -Z_RANGE), Z_RANGE)  # fixed
        inner = list(self.z_nodes[1:-1])
        start = select(z, inner, list(self.z_nodes[:-1]), ops)
        s = z - start
        c0, c1, c2, c3 = (select(z, inner, list(column), ops) for column in self.coefficients.T)
        return c0 + s * (c1 + s * (c2 + s * c3))


def _hermite_coefficients(z, E, m) -> npt.NDArray[np.float64]:
    """Monomial coefficients (in s = z - z_i) of the cubic Hermite pieces."""
    h = np.diff(z)
    dE = np.diff(E) / h
    c2 = (3.0 * dE - 2.0 * m[:-1] - m[1:]) / h
    c3 = (m[:-1] + m[1:] - 2.0 * dE) / (h * h)
    return np.column_stack([E[:-1], m[:-1], c2, c3])


def _evaluate(coefficients, s):
    c0, c1, c2, c3 = coefficients.T
    return c0 + s * (c1 + s * (c2 + s * c3))
