"""Concentration-dependent diffusion coefficients D(c), c = n / n_bg, for NumPy and UFL.

Every law offers ``law(c, ops)`` (D in its unit), ``law.ratio(c, ops)`` (D / D_bulk),
``law.D_bulk`` (D at c = 1) and ``law.scaled(factor)``. Each is finite and positive (or
zero, for an immobile fraction) for every real c, so Newton never meets a NaN.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import numpy.typing as npt

from femcait.sed.backend import NUMPY_OPS, Field, Ops
from femcait.sed.distribution import SiteEnergyDistribution
from femcait.sed.piecewise import select

FILL_LIMIT = 0.9
"""With ``above_bulk="fill"``, filling stops when this share of the vacant sites is filled."""

_ABOVE_BULK_MODES = ("clamp", "fill")


@dataclass(frozen=True)
class SEDDiffusion:
    """``D(c) = D_bulk exp((E_F(c) - E_F(1)) / kT) m(c)`` from a site-energy distribution.

    Equivalently ``D = D0 exp(-E_act(c) / kT)`` with ``E_act = E_DC - E_F(c)`` (paper eqn 2).
    ``c`` is first clamped to ``c_eff``:

    * below ``c_min``: ``c_eff = c_min`` (D held at its value there);
    * above 1, ``above_bulk="clamp"``: ``c_eff = 1`` (D held at D_bulk);
    * above 1, ``above_bulk="fill"``: the SED keeps filling until `FILL_LIMIT` of the
      vacancies are filled, D held beyond.

    ``m(c)`` is 1 without an immobile fraction. With one (``f_imm``), the ions on the lowest
    ``f_imm n_bg`` sites do not move: ``m = max(c_eff - f_imm, 0) / (c_eff (1 - f_imm))``,
    the mobile share of the ions normalised to 1 at c = 1, so that ``D(1) = D_bulk`` and
    D vanishes as c falls to ``f_imm``.

    Attributes:
        sed: The site-energy distribution.
        D_bulk: D at c = 1 (> 0, any unit: D has the same unit).
        kT_eV: Thermal energy, eV (> 0).
        c_min: Lower clamp of c (0 < c_min < 1).
        above_bulk: ``"clamp"`` or ``"fill"``.
        immobile_fraction: ``f_imm`` (0 <= f_imm < 1).
        transport_energy_eV: ``E_DC`` on the SED's energy axis, or None if unknown (then
            activation energies are reported relative to the bulk one).
    """

    sed: SiteEnergyDistribution
    D_bulk: float
    kT_eV: float
    c_min: float = 1e-6
    above_bulk: str = "clamp"
    immobile_fraction: float = 0.0
    transport_energy_eV: float | None = None

    def __post_init__(self) -> None:
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
        if not 0.0 <= self.immobile_fraction < 1.0:
            raise ValueError(
                f"immobile_fraction must satisfy 0 <= f < 1, got {self.immobile_fraction!r}"
            )

    @classmethod
    def from_activation(
        cls, sed: SiteEnergyDistribution, D0: float, transport_energy_eV: float, kT_eV: float, **kw
    ) -> SEDDiffusion:
        """The law ``D0 exp(-(E_DC - E_F(c)) / kT)`` (D_bulk follows from E_F(1))."""
        E_act_bulk = transport_energy_eV - sed.bulk_fermi_level_eV
        D_bulk = D0 * float(np.exp(-E_act_bulk / kT_eV))
        return cls(sed, D_bulk, kT_eV, transport_energy_eV=transport_energy_eV, **kw)

    @property
    def c_max(self) -> float:
        """Upper clamp of c: 1 for ``"clamp"``; for ``"fill"``, where filling stops."""
        if self.above_bulk == "clamp":
            return 1.0
        f = self.sed.vacancy_fraction
        return (1.0 - f * (1.0 - FILL_LIMIT)) / (1.0 - f)

    def effective_fraction(self, c: Field, ops: Ops = NUMPY_OPS) -> Field:
        """``c`` clamped to ``[c_min, c_max]``."""
        return ops.minimum(ops.maximum(c, ops.constant(self.c_min)), ops.constant(self.c_max))

    def fermi_level(self, c: Field, ops: Ops = NUMPY_OPS) -> Field:
        """Ionic Fermi level at ``c_eff``, eV."""
        return self.sed.fermi_level(self.effective_fraction(c, ops), ops)

    def activation_energy(self, c: Field, ops: Ops = NUMPY_OPS) -> Field:
        """``E_DC - E_F(c_eff)`` in eV; relative to the bulk value if E_DC is unknown."""
        reference = self.transport_energy_eV
        if reference is None:
            reference = self.sed.bulk_fermi_level_eV
        return reference - self.fermi_level(c, ops)

    def mobile_factor(self, c: Field, ops: Ops = NUMPY_OPS) -> Field:
        """``m(c)``: 1 without an immobile fraction."""
        f = self.immobile_fraction
        if f == 0.0:
            return ops.ones_like(c)
        c_eff = self.effective_fraction(c, ops)
        f = ops.constant(f)
        return ops.maximum(c_eff - f, 0.0) / (c_eff * (1.0 - f))

    def ratio(self, c: Field, ops: Ops = NUMPY_OPS, c_mobile: Field | None = None) -> Field:
        """``D(c) / D_bulk``; the mobile share is taken at ``c_mobile`` if given (the weak
        form passes a cell's smaller nodal c, so that no node drains below f_imm)."""
        shift = self.fermi_level(c, ops) - ops.constant(self.sed.bulk_fermi_level_eV)
        mobile = self.mobile_factor(c if c_mobile is None else c_mobile, ops)
        return ops.exp(shift / ops.constant(self.kT_eV)) * mobile

    def __call__(self, c: Field, ops: Ops = NUMPY_OPS, c_mobile: Field | None = None) -> Field:
        """``D(c)`` in the unit of ``D_bulk`` (``c_mobile``: see `ratio`)."""
        return ops.constant(self.D_bulk) * self.ratio(c, ops, c_mobile)

    def scaled(self, factor: float) -> SEDDiffusion:
        """The same law with D multiplied by ``factor`` (e.g. to another unit)."""
        return dataclasses.replace(self, D_bulk=self.D_bulk * factor)


@dataclass(frozen=True)
class ConstantDiffusion:
    """A concentration-independent D.

    Attributes:
        D: The diffusion coefficient (> 0, any unit).
    """

    D: float

    def __post_init__(self) -> None:
        if not self.D > 0.0:
            raise ValueError(f"D must be > 0, got {self.D!r}")

    @property
    def D_bulk(self) -> float:
        """D at c = 1 (that is, D)."""
        return self.D

    def ratio(self, c: Field, ops: Ops = NUMPY_OPS, c_mobile: Field | None = None) -> Field:
        """``D(c) / D``: 1 (an array of ones shaped like ``c`` for NumPy)."""
        return ops.ones_like(c)

    def __call__(self, c: Field, ops: Ops = NUMPY_OPS, c_mobile: Field | None = None) -> Field:
        """``D``, shaped like ``c`` for NumPy (``c_mobile`` is not used)."""
        return ops.constant(self.D) * self.ratio(c, ops)

    def scaled(self, factor: float) -> ConstantDiffusion:
        """The same law with D multiplied by ``factor``."""
        return ConstantDiffusion(self.D * factor)


@dataclass(frozen=True)
class TabulatedDiffusion:
    """D(c) from a table, linear in (ln c, ln D) between the rows, held beyond the ends.

    Attributes:
        c_values: Strictly increasing c = n / n_bg (> 0, at least 2 rows).
        D_values: D at those c (> 0, any unit).
    """

    c_values: tuple[float, ...]
    D_values: tuple[float, ...]
    _x: npt.NDArray[np.float64] = field(init=False, repr=False, compare=False)
    _y: npt.NDArray[np.float64] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        c = np.asarray(self.c_values, dtype=float)
        D = np.asarray(self.D_values, dtype=float)
        if c.ndim != 1 or c.size < 2 or c.size != D.size:
            raise ValueError("c_values and D_values need the same length >= 2")
        if not (np.all(np.isfinite(c)) and np.all(c > 0.0) and np.all(np.diff(c) > 0.0)):
            raise ValueError("c_values must be finite, > 0 and strictly increasing")
        if not (np.all(np.isfinite(D)) and np.all(D > 0.0)):
            raise ValueError("D_values must be finite and > 0")
        object.__setattr__(self, "_x", np.log(c))
        object.__setattr__(self, "_y", np.log(D))

    @cached_property
    def D_bulk(self) -> float:
        """D at c = 1 (interpolated, or the nearest end value)."""
        return float(np.exp(np.interp(0.0, self._x, self._y)))

    def __call__(self, c: Field, ops: Ops = NUMPY_OPS, c_mobile: Field | None = None) -> Field:
        """``D(c)`` in the unit of the table (``c_mobile`` is not used)."""
        low, high = ops.constant(self.c_values[0]), ops.constant(self.c_values[-1])
        c_eff = ops.minimum(ops.maximum(c, low), high)
        slopes = np.diff(self._y) / np.diff(self._x)
        intercepts = self._y[:-1] - slopes * self._x[:-1]
        breakpoints = list(self.c_values[1:-1])
        a = select(c_eff, breakpoints, list(intercepts), ops)
        b = select(c_eff, breakpoints, list(slopes), ops)
        return ops.exp(a + b * ops.log(c_eff))

    def ratio(self, c: Field, ops: Ops = NUMPY_OPS, c_mobile: Field | None = None) -> Field:
        """``D(c) / D_bulk``."""
        return self(c, ops) / ops.constant(self.D_bulk)

    def scaled(self, factor: float) -> TabulatedDiffusion:
        """The same law with D multiplied by ``factor``."""
        return TabulatedDiffusion(self.c_values, tuple(d * factor for d in self.D_values))


DiffusionLaw = SEDDiffusion | ConstantDiffusion | TabulatedDiffusion
"""Any D(c) law."""
