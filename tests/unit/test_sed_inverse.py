"""From a D(c) table back to the Fermi level and the populated SED (femcait.sed.inverse).

Round trip: a forward SED law gives D on c = logspace(-6, 0, 601); psed_from_diffusion must
recover E_F(c) - E_F(1) and the PSED's FWHM. TabulatedDiffusion of the same table must
reproduce the rows and interpolate linearly in (ln c, ln D).
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import constants

from femcait.sed import (
    GaussianShape,
    GaussianSumShape,
    LogisticShape,
    SEDDiffusion,
    SiteEnergyDistribution,
    TabulatedDiffusion,
    psed_from_diffusion,
)

KT_300K = constants.k * 300.0 / constants.e  # eV
D_BULK = 3.0e-14
C_TABLE = np.logspace(-6.0, 0.0, 601)
C_TABLE[-1] = 1.0  # exactly (logspace gives 10**0.0 = 1.0 already)

SEDS = {
    "gaussian_250meV": SiteEnergyDistribution(GaussianShape.from_fwhm(0.25), 0.10),
    "logistic": SiteEnergyDistribution(LogisticShape.from_fwhm(0.2, centre_eV=-0.1), 0.10),
    "gaussian_sum": SiteEnergyDistribution(
        GaussianSumShape.from_fwhms((0.7, 0.3), (0.25, 0.12), (0.0, 0.3)), 0.10
    ),
}


def _table(name: str) -> np.ndarray:
    return np.asarray(SEDDiffusion(SEDS[name], D_BULK, KT_300K)(C_TABLE))


@pytest.mark.parametrize("name", list(SEDS))
def test_round_trip_fwhm(name: str) -> None:
    inferred = psed_from_diffusion(C_TABLE, _table(name), KT_300K)
    expected = SEDS[name].psed_fwhm_eV()
    rel = abs(inferred.fwhm_eV - expected) / expected
    print(
        f"{name}: inferred PSED FWHM {inferred.fwhm_eV:.9f} eV, forward {expected:.9f} eV, "
        f"relative difference {rel:.2e}"
    )
    assert rel < 0.01


@pytest.mark.parametrize("name", list(SEDS))
def test_round_trip_fermi_level_and_psed(name: str) -> None:
    """E_F(c) - E_F(1) from the inverse equals the forward one to 1e-6 eV on the table rows
    (its output grid of 20001 points holds every third of the 601 rows).

    Between the rows the cubic spline in ln c interpolates: E_F(ln c) is steep near c = 1
    (its fourth derivative reaches ~1e4 eV there), so with a step of 0.023 in ln c the
    error is ~h^4 E_F^(4) / 384 ~ 1e-5 eV: bounded by 1e-4 eV. The inferred PSED dc/dE_F,
    a derivative of the spline, matches the forward site density g(E_F) / (1 - f_vac) to
    1e-2 relative (measured 4e-3 at c = 1 for the Gaussian, 5e-3 where the sum's PSED
    turns from one component to the other; 3e-5 for the Gaussian below c = 0.9).
    """
    sed = SEDS[name]
    inferred = psed_from_diffusion(C_TABLE, _table(name), KT_300K)
    assert inferred.c[0] == pytest.approx(C_TABLE[0], rel=1e-12)
    assert inferred.c[-1] == pytest.approx(1.0, rel=1e-14)
    forward = np.asarray(sed.fermi_level(inferred.c)) - sed.bulk_fermi_level_eV
    err = float(np.max(np.abs(inferred.fermi_level_eV - forward)))

    on_rows = np.isclose(
        np.log(inferred.c)[:, None], np.log(C_TABLE)[None, :], rtol=0.0, atol=1e-12
    )
    rows = np.flatnonzero(on_rows.any(axis=1))
    err_rows = float(np.max(np.abs(inferred.fermi_level_eV[rows] - forward[rows])))

    site_density = sed.site_density(inferred.fermi_level_eV + sed.bulk_fermi_level_eV)
    significant = site_density > 1e-3 * site_density.max()
    err_psed = float(
        np.max(
            np.abs(inferred.psed[significant] - site_density[significant])
            / site_density[significant]
        )
    )
    print(
        f"{name}: max |dE_F| {err:.2e} eV ({err_rows:.2e} eV on {rows.size} table rows), "
        f"PSED max relative error {err_psed:.2e}"
    )
    assert rows.size >= 100
    assert err_rows < 1e-6
    assert err < 1e-4
    assert inferred.fermi_level_eV[-1] == pytest.approx(0.0, abs=1e-12)
    assert err_psed < 1e-2


def test_errors() -> None:
    D = _table("gaussian_250meV")
    with pytest.raises(ValueError, match="increase"):
        psed_from_diffusion(C_TABLE, D[::-1].copy(), KT_300K)
    bumpy = D.copy()
    bumpy[300] = bumpy[310]  # a local decrease between rows 300 and 301
    with pytest.raises(ValueError, match="increase"):
        psed_from_diffusion(C_TABLE, bumpy, KT_300K)
    with pytest.raises(ValueError, match="at least 4"):
        psed_from_diffusion(C_TABLE[:3], D[:3], KT_300K)
    with pytest.raises(ValueError, match="at least 4"):
        psed_from_diffusion(C_TABLE, D[:-1], KT_300K)
    with pytest.raises(ValueError, match="strictly increasing"):
        psed_from_diffusion(C_TABLE[::-1].copy(), D, KT_300K)


def test_tabulated_diffusion_of_the_table() -> None:
    D = _table("gaussian_sum")
    law = TabulatedDiffusion(tuple(C_TABLE), tuple(D))
    at_rows = np.asarray(law(C_TABLE))
    err_rows = float(np.max(np.abs(at_rows - D) / D))
    assert err_rows < 1e-12
    assert law.D_bulk == pytest.approx(D_BULK, rel=1e-12)

    x, y = np.log(C_TABLE), np.log(D)
    worst = 0.0
    for t in (0.5, 0.25, 0.9):
        c_between = np.exp((1.0 - t) * x[:-1] + t * x[1:])
        expected = np.exp((1.0 - t) * y[:-1] + t * y[1:])  # linear in (ln c, ln D)
        got = np.asarray(law(c_between))
        worst = max(worst, float(np.max(np.abs(got - expected) / expected)))
    print(f"TabulatedDiffusion: rows {err_rows:.2e}, between rows {worst:.2e} (relative)")
    assert worst < 1e-12
    # log-log, not linear in c: at the midpoint in ln c, D is the geometric mean of the rows,
    # which differs from linear interpolation in c by far more than round-off
    mid = np.sqrt(C_TABLE[:-1] * C_TABLE[1:])
    linear = np.interp(mid, C_TABLE, D)
    assert np.max(np.abs(np.asarray(law(mid)) - linear) / linear) > 1e-5
    # held beyond the ends
    assert float(law(1e-9)) == pytest.approx(D[0], rel=1e-12)
    assert float(law(3.0)) == pytest.approx(D[-1], rel=1e-12)
