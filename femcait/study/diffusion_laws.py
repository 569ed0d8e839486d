"""Study-file models of the diffusion laws and site-energy distributions (SI units).

Each model validates its keys and builds the matching `femcait.sed` object (energies in
eV there, D in m^2/s). Tables (a D(n) table, a tabulated SED) may be given inline or as a
CSV file, whose path is relative to the study file; the file is read while validating and
its values are kept in the resolved study, so a run's study.json needs no other file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal, Self

from pydantic import AfterValidator, Field, ValidationInfo, model_validator

from femcait import constants
from femcait.sed import (
    ConstantDiffusion,
    DiffusionLaw,
    GaussianShape,
    GaussianSumShape,
    LogisticShape,
    SEDDiffusion,
    SiteEnergyDistribution,
    TabulatedDiffusion,
    TabulatedShape,
    UniformShape,
)
from femcait.study.csv_columns import read_columns
from femcait.study.section import Section
from femcait.study.units import (
    ELEMENTARY_CHARGE,
    Energy,
    Number,
    PositiveDiffusivity,
    PositiveNumber,
    UnitError,
    invalid,
    to_si,
)

MAX_SITE_ENERGY_EV = 100.0
"""Site energies beyond this many eV are taken for a forgotten unit (bare numbers are J)."""


def _plausible_energy(value: float) -> float:
    if abs(value) > MAX_SITE_ENERGY_EV * ELEMENTARY_CHARGE:
        raise invalid(
            f"got {value:g} J (= {value / ELEMENTARY_CHARGE:.3g} eV), implausible for a site "
            "energy: bare numbers are joules, write the unit (e.g. '0.25 eV')"
        )
    return value


SiteEnergy = Annotated[Energy, AfterValidator(_plausible_energy)]
PositiveSiteEnergy = Annotated[SiteEnergy, Field(gt=0)]


def _eV(joules: float) -> float:
    return joules / ELEMENTARY_CHARGE


def _exactly_one(model: Section, first: str, second: str) -> None:
    given = [name for name in (first, second) if getattr(model, name) is not None]
    if len(given) != 1:
        detail = "both given" if given else "neither given"
        raise invalid(f"give exactly one of {first} and {second} ({detail})")


def _gaussian(spec: GaussianSED | GaussianComponent) -> GaussianShape:
    """The Gaussian (in eV) of a model with `fwhm` or `sigma`, and `centre`, in J."""
    if spec.fwhm is not None:
        return GaussianShape.from_fwhm(_eV(spec.fwhm), _eV(spec.centre))
    return GaussianShape(_eV(spec.sigma), _eV(spec.centre))


def _table_path(file: str, info: ValidationInfo) -> Path:
    base = (info.context or {}).get("base_dir")
    path = Path(file)
    return path if path.is_absolute() or base is None else Path(base) / path


class _SEDBase(Section):
    vacancy_fraction: Annotated[Number, Field(gt=0, lt=1)] = 0.10
    """Fraction of the sites empty at n = n_bg: N_sites = n_bg / (1 - vacancy_fraction)."""

    def distribution(self) -> SiteEnergyDistribution:
        """The `femcait.sed` distribution (energies in eV)."""
        return SiteEnergyDistribution(self.shape_model(), self.vacancy_fraction)

    def shape_model(self) -> Any:
        raise NotImplementedError


class GaussianSED(_SEDBase):
    """A Gaussian SED, given by its FWHM or its standard deviation."""

    shape: Literal["gaussian"]
    """Discriminator of the SED shape."""
    fwhm: PositiveSiteEnergy | None = None
    """Full width at half maximum in J (give fwhm or sigma)."""
    sigma: PositiveSiteEnergy | None = None
    """Standard deviation in J (give fwhm or sigma)."""
    centre: SiteEnergy = 0.0
    """Centre of the Gaussian in J (the zero of the energy axis by default)."""

    @model_validator(mode="after")
    def _width(self) -> Self:
        _exactly_one(self, "fwhm", "sigma")
        return self

    def shape_model(self) -> GaussianShape:
        """The shape in eV."""
        return _gaussian(self)


class LogisticSED(_SEDBase):
    """A logistic SED (a bell with exponential tails), given by its FWHM or its scale."""

    shape: Literal["logistic"]
    """Discriminator of the SED shape."""
    fwhm: PositiveSiteEnergy | None = None
    """Full width at half maximum in J (give fwhm or scale)."""
    scale: PositiveSiteEnergy | None = None
    """Scale s in J, FWHM = 3.525 s (give fwhm or scale)."""
    centre: SiteEnergy = 0.0
    """Centre in J."""

    @model_validator(mode="after")
    def _width(self) -> Self:
        _exactly_one(self, "fwhm", "scale")
        return self

    def shape_model(self) -> LogisticShape:
        """The shape in eV."""
        if self.fwhm is not None:
            return LogisticShape.from_fwhm(_eV(self.fwhm), _eV(self.centre))
        return LogisticShape(_eV(self.scale), _eV(self.centre))


class UniformSED(_SEDBase):
    """A uniform (box) SED of a given width."""

    shape: Literal["uniform"]
    """Discriminator of the SED shape."""
    width: PositiveSiteEnergy
    """Width of the box in J."""
    centre: SiteEnergy = 0.0
    """Centre of the box in J."""

    def shape_model(self) -> UniformShape:
        """The shape in eV."""
        return UniformShape.from_width(_eV(self.width), _eV(self.centre))


class GaussianComponent(Section):
    """One Gaussian of a sum of Gaussians."""

    weight: PositiveNumber = 1.0
    """Relative weight (the weights are normalised to sum 1)."""
    fwhm: PositiveSiteEnergy | None = None
    """Full width at half maximum in J (give fwhm or sigma)."""
    sigma: PositiveSiteEnergy | None = None
    """Standard deviation in J (give fwhm or sigma)."""
    centre: SiteEnergy = 0.0
    """Centre in J."""

    @model_validator(mode="after")
    def _width(self) -> Self:
        _exactly_one(self, "fwhm", "sigma")
        return self


class GaussianSumSED(_SEDBase):
    """A weighted sum of Gaussian SEDs (e.g. two kinds of sites)."""

    shape: Literal["gaussian_sum"]
    """Discriminator of the SED shape."""
    components: Annotated[list[GaussianComponent], Field(min_length=1)]
    """The Gaussians."""

    def shape_model(self) -> GaussianSumShape:
        """The shape in eV."""
        gaussians = [_gaussian(c) for c in self.components]
        return GaussianSumShape(
            tuple(c.weight for c in self.components),
            tuple(g.sigma_eV for g in gaussians),
            tuple(g.centre_eV for g in gaussians),
        )


class TableSED(_SEDBase):
    """An SED given as a table of (energy, density), linear between the rows."""

    shape: Literal["table"]
    """Discriminator of the SED shape."""
    file: str | None = None
    """CSV file with a header row (path relative to the study file); read if `energies`
    and `densities` are not given."""
    energy_column: str = "E_eV"
    """Column of the energies in the file."""
    energy_unit: str = "eV"
    """Unit of the energy column."""
    density_column: str = "density"
    """Column of the densities (any unit: the SED is normalised)."""
    energies: list[SiteEnergy] | None = None
    """Energies in J, strictly increasing (filled in from the file)."""
    densities: list[Annotated[Number, Field(ge=0)]] | None = None
    """Densities at those energies (filled in from the file)."""

    @model_validator(mode="after")
    def _load(self, info: ValidationInfo) -> Self:
        table = self
        if self.energies is None and self.densities is None:
            if self.file is None:
                raise invalid("give a file, or energies and densities")
            try:
                scale = to_si(f"1 {self.energy_unit}", "[energy]", "energy_unit")
            except UnitError as exc:
                raise invalid(exc.detail, "energy_unit") from None
            columns = [self.energy_column, self.density_column]
            try:
                data = read_columns(_table_path(self.file, info), columns)
            except ValueError as exc:
                raise invalid(str(exc), "file") from None
            table = self.model_copy(
                update={
                    "energies": [scale * e for e in data[self.energy_column]],
                    "densities": data[self.density_column],
                }
            )
        elif self.energies is None or self.densities is None:
            raise invalid("give both energies and densities (or neither, and a file)")
        try:
            table.shape_model()
        except ValueError as exc:
            raise invalid(str(exc)) from None
        return table

    def shape_model(self) -> TabulatedShape:
        """The shape in eV."""
        return TabulatedShape(tuple(map(_eV, self.energies or ())), tuple(self.densities or ()))


SED = Annotated[
    GaussianSED | LogisticSED | UniformSED | GaussianSumSED | TableSED,
    Field(discriminator="shape"),
]
"""A site energy distribution, chosen by the key "shape"."""


class SEDDiffusionLaw(Section):
    """D(n) from a site energy distribution (paper eqn 2): D = D0 exp(-(E_DC - E_F(n)) / kT),
    or equivalently D = D_bulk exp((E_F(n) - E_F(n_bg)) / kT)."""

    law: Literal["sed"]
    """Discriminator of the diffusion law."""
    D_bulk: PositiveDiffusivity | None = None
    """D at n = n_bg in m^2/s (give D_bulk, or D0 and E_DC)."""
    activation_energy: PositiveSiteEnergy | None = None
    """Measured activation energy at n = n_bg in J (optional, with D_bulk): places E_DC
    so that reported activation energies are absolute."""
    D0: PositiveDiffusivity | None = None
    """Prefactor D0 in m^2/s (with E_DC, instead of D_bulk)."""
    E_DC: SiteEnergy | None = None
    """Transport threshold energy E_DC in J, on the SED's energy axis (with D0)."""
    sed: SED
    """The site energy distribution."""
    immobile_fraction: Annotated[Number, Field(ge=0, lt=1)] = 0.0
    """Share of n_bg on the lowest sites that never moves (paper Fig. 4): D is the SED's D
    times the mobile share max(c - f, 0) / (c (1 - f)) of c = n / n_bg, zero for
    n <= immobile_fraction * n_bg, so the native ions cannot drain below that level."""
    n_min_frac: Annotated[Number, Field(ge=1e-12, lt=1)] = 1e-6
    """Below n = n_min_frac * n_bg, D is held at its value there."""
    above_bulk: Literal["clamp", "fill"] = "clamp"
    """For n > n_bg: hold D at D_bulk ("clamp") or keep filling the SED ("fill", until 90 %
    of the vacancies are filled)."""

    @model_validator(mode="after")
    def _prefactor(self) -> Self:
        if self.D_bulk is None and (self.D0 is None or self.E_DC is None):
            raise invalid("give D_bulk, or D0 and E_DC")
        if self.D_bulk is not None and (self.D0 is not None or self.E_DC is not None):
            raise invalid("give D_bulk, or D0 and E_DC, not both")
        if self.activation_energy is not None and self.D_bulk is None:
            raise invalid("activation_energy goes with D_bulk (E_DC fixes it already)")
        return self

    def build(self, temperature_K: float) -> SEDDiffusion:
        """The law in SI units (D in m^2/s) at a temperature."""
        kT_eV = constants.k * temperature_K / constants.e
        sed = self.sed.distribution()
        options = {
            "c_min": self.n_min_frac,
            "above_bulk": self.above_bulk,
            "immobile_fraction": self.immobile_fraction,
        }
        if self.D_bulk is None:
            return SEDDiffusion.from_activation(sed, self.D0, _eV(self.E_DC), kT_eV, **options)
        E_DC = None
        if self.activation_energy is not None:
            E_DC = sed.bulk_fermi_level_eV + _eV(self.activation_energy)
        return SEDDiffusion(sed, self.D_bulk, kT_eV, transport_energy_eV=E_DC, **options)


class ConstantDiffusionLaw(Section):
    """A constant diffusion coefficient."""

    law: Literal["constant"]
    """Discriminator of the diffusion law."""
    D: PositiveDiffusivity
    """Diffusion coefficient in m^2/s."""

    def build(self, temperature_K: float) -> ConstantDiffusion:
        """The law in SI units."""
        return ConstantDiffusion(self.D)


class TableDiffusionLaw(Section):
    """D(n) from a table of (n / n_bg, D), linear in (ln n, ln D), held beyond its ends."""

    law: Literal["table"]
    """Discriminator of the diffusion law."""
    file: str | None = None
    """CSV file with a header row (relative to the study file), e.g. a `femcait sed` sed.csv;
    read if n_frac and D are not given."""
    n_frac_column: str = "n_frac"
    """Column of n / n_bg."""
    D_column: str = "D_m2_s"
    """Column of D in m^2/s."""
    species: str | None = None
    """Keep only the rows whose `species` column has this value (long-format tables)."""
    n_frac: list[Annotated[Number, Field(gt=0)]] | None = None
    """n / n_bg, strictly increasing (filled in from the file)."""
    D: list[PositiveDiffusivity] | None = None
    """D in m^2/s at those n (filled in from the file)."""

    @model_validator(mode="after")
    def _load(self, info: ValidationInfo) -> Self:
        table = self
        if self.n_frac is None and self.D is None:
            if self.file is None:
                raise invalid("give a file, or n_frac and D")
            where = ("species", self.species) if self.species is not None else None
            columns = [self.n_frac_column, self.D_column]
            try:
                data = read_columns(_table_path(self.file, info), columns, where)
            except ValueError as exc:
                raise invalid(str(exc), "file") from None
            table = self.model_copy(
                update={"n_frac": data[self.n_frac_column], "D": data[self.D_column]}
            )
        elif self.n_frac is None or self.D is None:
            raise invalid("give both n_frac and D (or neither, and a file)")
        try:
            table.build(0.0)
        except ValueError as exc:
            raise invalid(str(exc)) from None
        return table

    def build(self, temperature_K: float) -> TabulatedDiffusion:
        """The law in SI units."""
        return TabulatedDiffusion(tuple(self.n_frac or ()), tuple(self.D or ()))


Diffusion = Annotated[
    SEDDiffusionLaw | ConstantDiffusionLaw | TableDiffusionLaw, Field(discriminator="law")
]
"""A diffusion law, chosen by the key "law"."""

__all__ = ["SED", "Diffusion", "DiffusionLaw"]
