"""Variable-step BDF coefficients as form constants (changing the step recompiles nothing)."""

from __future__ import annotations

from dolfinx import fem


class BDFCoefficients:
    """The storage term a c^{k+1} - b c^k + e c^{k-1} and the step dt, as form constants.

    BDF1: (a, b, e) = (1, 1, 0). BDF2 for the step ratio w = dt / dt_previous:
    a = (1 + 2w) / (1 + w), b = 1 + w, e = w^2 / (1 + w).
    """

    def __init__(self, mesh) -> None:
        self.a = fem.Constant(mesh, 1.0)
        self.b = fem.Constant(mesh, 1.0)
        self.e = fem.Constant(mesh, 0.0)
        self.dt = fem.Constant(mesh, 1.0)

    def set(self, dt: float, dt_previous: float | None) -> None:
        """BDF2 for the ratio dt / dt_previous, or BDF1 when there is no previous step."""
        if dt_previous is None:
            a, b, e = 1.0, 1.0, 0.0
        else:
            w = dt / dt_previous
            a, b, e = (1 + 2 * w) / (1 + w), 1 + w, w * w / (1 + w)
        self.a.value, self.b.value, self.e.value, self.dt.value = a, b, e, dt

    @property
    def values(self) -> tuple[float, float, float]:
        """The current (a, b, e)."""
        return float(self.a.value), float(self.b.value), float(self.e.value)
