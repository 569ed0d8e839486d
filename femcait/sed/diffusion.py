"""Concentration-dependent diffusion coefficients D(n), backend-generic (NumPy or UFL)."""

from __future__ import annotations

from dataclasses import dataclass

from femcait.sed.backend import NUMPY_OPS, Field, Ops
from femcait.sed.gaussian import GaussianSED

FILL_GAP = 1e-9
"""With ``above_bulk="fill"``, the filled site fraction is capped at ``1 - FILL_GAP``."""

_ABOVE_BULK_MODES = ("clamp", "fill")


@dataclass(frozen=True)
class SEDDiffusion:
    """D(n) from a site-energy distribution, anchored at the bulk concentration n_bg.

    ``D(c) = D_bulk exp((E_F(c) - E_F(1)) / kT)`` with ``c = n / n_bg`` and E_F the ionic
    Fermi level of ``sed``. Outside the SED's range ``c`` is first clamped to ``c_eff``:

    * below ``c_min``: ``c_eff = c_min`` (D held at its value at ``c_min``);
    * above 1 with ``above_bulk="clamp"``: ``c_eff = 1`` (D held at ``D_bulk``);
    * above 1 with ``above_bulk="fill"``: the SED keeps filling towards the site density,
      ``c_eff = min(c, c_fill_max)`` where ``(1 - f_vac) c_fill_max = 1 - FILL_GAP``
      (D grows, and stays finite, as the sites fill up).

    Hence D is finite and positive for every real ``c``, including 0 and negative values.

    Attributes:
        sed: The site-energy distribution (vacancy_fraction > 0).
        D_bulk: D at ``n = n_bg`` (> 0, any unit: ``D`` has the same unit).
        kT_eV: Thermal energy k_B T, eV (> 0).
        c_min: Lower clamp of ``c`` (0 < c_min < 1).
        above_bulk: ``"clamp"`` or ``"fill"``, the behaviour for ``c > 1``.
    """

    sed: GaussianSED
    D_bulk: float
    kT_eV: float
    c_min: float = 1e-6
    above_bulk: str = "clamp"

    def __post_init__(self) -> None:
        if not self.sed.vacancy_fraction > 0.0:
            raise ValueError(
                "sed.vacancy_fraction must be > 0 for an SED D(n) (E_F(n_bg) is infinite "
                f"for a full SED), got {self.sed.vacancy_fraction!r}"
            )
        if not self.D_bulk > 0.0:
            raise ValueError(f"D_bulk must be > 0, got {self.D_bulk!r}")
        if not self.kT_eV > 0.0:
            raise ValueError(f"kT_eV must be > 0, got {self.kT_eV!r}")
        if not 0.0 < self.c_min < 1.0:
            raise ValueError(f"c_min must satisfy 0 < c_min < 1, got {self.c_min!r}")
        if self.above_bulk not in _ABOVE_BULK_MODES:
            raise ValueError(
                f"above_bulk must be one of {_ABOVE_BULK_MODES}, got {self.above_bulk!r}"
            )

    @property
    def c_max(self) -> float:
        """Upper clamp of ``c``: 1 for ``"clamp"``, ``c_fill_max`` for ``"fill"``."""
        if self.above_bulk == "clamp":
            return 1.0
        return (1.0 - FILL_GAP) / (1.0 - self.sed.vacancy_fraction)

    def ratio(self, c: Field, ops: Ops = NUMPY_OPS) -> Field:
        """``D(c) / D_bulk`` at filled fraction ``c = n / n_bg``."""
        c_eff = ops.minimum(ops.maximum(c, self.c_min), self.c_max)
        E_F_bulk = float(self.sed.fermi_level(1.0))
        return ops.exp((self.sed.fermi_level(c_eff, ops) - E_F_bulk) / self.kT_eV)

    def __call__(self, c: Field, ops: Ops = NUMPY_OPS) -> Field:
        """``D(c)`` in the unit of ``D_bulk``."""
        return self.D_bulk * self.ratio(c, ops)


@dataclass(frozen=True)
class ConstantDiffusion:
    """A concentration-independent D, with the interface of :class:`SEDDiffusion`.

    Attributes:
        D: The diffusion coefficient (> 0, any unit).
    """

    D: float

    def __post_init__(self) -> None:
        if not self.D > 0.0:
            raise ValueError(f"D must be > 0, got {self.D!r}")

    def ratio(self, c: Field, ops: Ops = NUMPY_OPS) -> Field:
        """``D(c) / D``: 1 (an array of ones shaped like ``c`` for NumPy)."""
        return ops.ones_like(c)

    def __call__(self, c: Field, ops: Ops = NUMPY_OPS) -> Field:
        """``D``, shaped like ``c`` for NumPy."""
        return self.D * self.ratio(c, ops)
