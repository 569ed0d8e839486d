"""The SED analysis of a study (``femcait sed``): Fermi levels, D(n), PSEDs, conversions.

For every species whose D law comes from an SED or a D(n) table it tabulates E_F, E_act,
D and the derived transport coefficients over n / n_bg from 1e-6 to 1, and summarises the
populated SED (PSED). A D(n) table is inverted (docs/model.md, "The inverse: from a D(n)
table to the PSED"): its E_F and E_act are relative to the bulk, ``E_F(n_bg) = 0``.

With an immobile fraction f the law's D is zero for n <= f n_bg and falls linearly to it
just above, so the range of D over 1e-6..1 (``D_min_m2_s``, ``D_range_decades``) measures
that cut, not the SED. The ``sed_*`` keys report the SED's own D(n), the same law without
the immobile cut, and ``immobile_cut_n_frac`` / ``sed_D_at_cut_m2_s`` where the cut sits.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from femcait import constants
from femcait.sed import (
    ConstantDiffusion,
    DiffusionLaw,
    SEDDiffusion,
    TabulatedDiffusion,
    psed_from_diffusion,
)
from femcait.sed.transport import conductivity, onsager_coefficient, tracer_diffusivity
from femcait.study.schema import Study

FRACTIONS = np.concatenate([np.logspace(-6.0, 0.0, 601)[:-1], [1.0]])
"""n / n_bg of the rows of sed.csv: 601 log-spaced values from 1e-6 to exactly 1."""

CSV_COLUMNS = (
    "species",
    "n_frac",
    "E_F_eV",
    "E_act_eV",
    "D_m2_s",
    "D_tracer_m2_s",
    "L_ii_per_J_m_s",
    "conductivity_S_m",
)
"""Columns of sed.csv (long format: one block of rows per species)."""


@dataclass
class SpeciesSED:
    """The SED analysis of one species.

    Attributes:
        name: Species name.
        law: Its D law (SI units).
        table: Columns of sed.csv for this species (arrays over `FRACTIONS`).
        summary: Scalar results for sed.json.
        psed: (E_eV, PSED n_bg/eV) of the populated SED, for Fig. 4 (empty if none exists).
        mobile_psed: (E_eV, PSED) of the mobile part (None without an immobile fraction).
        site_density: (E_eV, all sites n_bg/eV) of the full SED (None for a D table).
        bulk_fermi_level_eV: E_F(n_bg) on the energy axis of `psed`.
    """

    name: str
    law: DiffusionLaw
    table: dict[str, npt.NDArray[np.float64]]
    summary: dict[str, Any]
    psed: tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]
    mobile_psed: tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]] | None = None
    site_density: tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]] | None = None
    bulk_fermi_level_eV: float = 0.0


def analyse(study: Study) -> list[SpeciesSED]:
    """The SED analysis of every species with an SED or D(n)-table law, native first."""
    names = [study.native, *study.foreign]
    laws = study.diffusion_laws
    results = []
    for name in names:
        law = laws[name]
        if isinstance(law, ConstantDiffusion):
            continue
        charge = study.species[name].charge
        if isinstance(law, SEDDiffusion):
            results.append(_analyse_sed(name, law, study, charge))
        else:
            results.append(_analyse_table(name, law, study, charge))
    return results


def _kT_eV(study: Study) -> float:
    return constants.k * study.glass.temperature / constants.e


def _table(E_F, E_act, D: npt.NDArray[np.float64], study: Study, charge: int) -> dict:
    """The sed.csv columns of one species over `FRACTIONS`."""
    n = FRACTIONS * study.glass.n_bg
    T = study.glass.temperature
    return {
        "n_frac": FRACTIONS,
        "E_F_eV": E_F,
        "E_act_eV": E_act,
        "D_m2_s": D,
        "D_tracer_m2_s": tracer_diffusivity(D),
        "L_ii_per_J_m_s": onsager_coefficient(D, n, T),
        "conductivity_S_m": conductivity(D, n, charge, T),
    }


def _bulk_conversions(D_bulk: float, study: Study, charge: int) -> dict[str, float]:
    n, T = study.glass.n_bg, study.glass.temperature
    return {
        "D_tracer_bulk_m2_s": float(tracer_diffusivity(D_bulk)),
        "L_ii_bulk_per_J_m_s": float(onsager_coefficient(D_bulk, n, T)),
        "conductivity_bulk_S_m": float(conductivity(D_bulk, n, charge, T)),
    }


def _range_summary(D: npt.NDArray[np.float64], D_tenth: float, D_bulk: float) -> dict:
    """The range of D over `FRACTIONS` (its smallest nonzero value) and from n_bg to n_bg/10."""
    positive = D[D > 0.0]
    return {
        "D_bulk_m2_s": D_bulk,
        "D_min_m2_s": float(positive.min()) if positive.size else 0.0,
        "D_max_m2_s": float(D.max()),
        "D_range_decades": float(np.log10(D.max() / positive.min())) if positive.size else None,
        "D_tenth_m2_s": D_tenth,
        "decades_bulk_to_tenth": float(np.log10(D_bulk / D_tenth)) if D_tenth > 0 else None,
    }


SED_RANGE_KEYS = ("D_min_m2_s", "D_range_decades", "D_tenth_m2_s", "decades_bulk_to_tenth")
"""Keys of `_range_summary` that sed.json repeats, prefixed ``sed_``, for the law without its
immobile cut."""


def _own_range_summary(law: DiffusionLaw, D_bulk: float) -> dict:
    """The ``sed_*`` keys: the range of the law's D(n) without an immobile cut, and the cut.

    ``immobile_cut_n_frac`` is the immobile fraction f (D = 0 for n <= f n_bg), null
    without one; ``sed_D_at_cut_m2_s`` is what the SED alone gives at n = f n_bg.
    """
    f_imm = getattr(law, "immobile_fraction", 0.0)
    own = dataclasses.replace(law, immobile_fraction=0.0) if f_imm > 0 else law
    D = np.asarray(own(FRACTIONS), dtype=float)
    ranges = _range_summary(D, float(own(0.1)), D_bulk)
    return {
        **{f"sed_{key}": ranges[key] for key in SED_RANGE_KEYS},
        "immobile_cut_n_frac": f_imm if f_imm > 0 else None,
        "sed_D_at_cut_m2_s": float(own(f_imm)) if f_imm > 0 else None,
    }


def _analyse_sed(name: str, law: SEDDiffusion, study: Study, charge: int) -> SpeciesSED:
    sed = law.sed
    E_F = np.asarray(law.fermi_level(FRACTIONS), dtype=float)
    E_act = np.asarray(law.activation_energy(FRACTIONS), dtype=float)
    D = np.asarray(law(FRACTIONS), dtype=float)
    f_imm = law.immobile_fraction
    spec = study.species[name].diffusion.sed
    summary = {
        "law": "sed",
        "shape": spec.shape,
        "sed_fwhm_eV": float(sed.shape.fwhm_eV),
        "vacancy_fraction": sed.vacancy_fraction,
        "immobile_fraction": f_imm,
        "E_F_bulk_eV": sed.bulk_fermi_level_eV,
        "E_DC_eV": law.transport_energy_eV,
        "E_act_bulk_eV": float(law.activation_energy(1.0))
        if law.transport_energy_eV is not None
        else None,
        "E_act_reference": "absolute" if law.transport_energy_eV is not None else "bulk",
        "psed_fwhm_eV": sed.psed_fwhm_eV(),
        "mobile_psed_fwhm_eV": sed.psed_fwhm_eV(c_low=f_imm) if f_imm > 0 else None,
        **_range_summary(D, float(law(0.1)), law.D_bulk),
        **_own_range_summary(law, law.D_bulk),
        **_bulk_conversions(law.D_bulk, study, charge),
    }
    E = sed.psed_energies()
    low, high = sed.shape.energy_window()
    E_all = np.linspace(low, high, 2001)
    mobile = None
    if f_imm > 0:
        E_mobile = sed.psed_energies(c_low=f_imm)
        mobile = (E_mobile, sed.site_density(E_mobile))
    return SpeciesSED(
        name=name,
        law=law,
        table=_table(E_F, E_act, D, study, charge),
        summary=summary,
        psed=(E, sed.site_density(E)),
        mobile_psed=mobile,
        site_density=(E_all, sed.site_density(E_all)),
        bulk_fermi_level_eV=sed.bulk_fermi_level_eV,
    )


def _analyse_table(name: str, law: TabulatedDiffusion, study: Study, charge: int) -> SpeciesSED:
    kT = _kT_eV(study)
    D = np.asarray(law(FRACTIONS), dtype=float)
    E_F = kT * np.log(D / law.D_bulk)
    rows = np.asarray(law.c_values)
    inside = (rows >= FRACTIONS[0]) & (rows <= 1.0)
    try:
        inferred = psed_from_diffusion(rows[inside], np.asarray(law.D_values)[inside], kT)
        psed, psed_fwhm, note = (inferred.fermi_level_eV, inferred.psed), inferred.fwhm_eV, None
    except ValueError as exc:  # too few rows, or D not increasing: no PSED exists
        psed, psed_fwhm, note = (np.zeros(0), np.zeros(0)), None, str(exc)
    summary = {
        "law": "table",
        "shape": None,
        "sed_fwhm_eV": None,
        "vacancy_fraction": None,
        "immobile_fraction": None,
        "E_F_bulk_eV": 0.0,
        "E_DC_eV": None,
        "E_act_bulk_eV": None,
        "E_act_reference": "bulk",
        "psed_fwhm_eV": psed_fwhm,
        "mobile_psed_fwhm_eV": None,
        "psed_note": note,
        **_range_summary(D, float(law(0.1)), law.D_bulk),
        **_own_range_summary(law, law.D_bulk),
        **_bulk_conversions(law.D_bulk, study, charge),
    }
    return SpeciesSED(
        name=name,
        law=law,
        table=_table(E_F, -E_F, D, study, charge),
        summary=summary,
        psed=psed,
    )
