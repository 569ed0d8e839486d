"""Gaussian SED, its Fermi level and the SED D(n) law, on NumPy and on UFL/DOLFINx."""

from __future__ import annotations

import warnings
from collections.abc import Callable

import dolfinx_solver  # noqa: F401  (must precede dolfinx: orders MPI ahead of the bindings)

# isort: split
import dolfinx
import numpy as np
import pytest
import ufl
from mpi4py import MPI
from scipy.integrate import quad
from scipy.optimize import brentq
from scipy.special import ndtri

from femcait.sed import (
    NUMPY_OPS,
    UFL_OPS,
    ConstantDiffusion,
    GaussianSED,
    SEDDiffusion,
    normal_quantile,
)

K_B_EV = 8.617333262e-5
KT_300K = K_B_EV * 300.0
PAPER_SED = GaussianSED(fwhm_eV=0.25, vacancy_fraction=0.10)


def _law(above_bulk: str) -> SEDDiffusion:
    return SEDDiffusion(PAPER_SED, D_bulk=3.0e-14, kT_eV=KT_300K, above_bulk=above_bulk)


def _max_rel(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.max(np.abs(a - b) / np.abs(b)))


def test_normal_quantile_matches_ndtri() -> None:
    tails = np.logspace(-12, np.log10(0.5), 1500)
    p = np.concatenate([tails, 1.0 - tails, np.linspace(1e-3, 1.0 - 1e-3, 4001)])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        x = normal_quantile(p)
    ref = ndtri(p)
    nonzero = ref != 0.0
    err = _max_rel(x[nonzero], ref[nonzero])
    print(f"normal_quantile max relative error vs ndtri: {err:.3e}")
    assert err < 1e-8
    assert normal_quantile(0.5) == 0.0


def test_normal_quantile_symmetric() -> None:
    p = np.logspace(-12, np.log10(0.4), 200)
    assert np.array_equal(normal_quantile(1.0 - p), -normal_quantile(1.0 - (1.0 - p)))


@pytest.mark.parametrize("sed", [PAPER_SED, GaussianSED(0.1, 0.3, centre_eV=0.4)])
def test_fermi_level_matches_quadrature_root(sed: GaussianSED) -> None:
    full, _ = quad(sed.density, -np.inf, np.inf, epsabs=0.0, epsrel=1e-12)
    assert full == pytest.approx(1.0, rel=1e-10)

    def filled(E: float, c: float) -> float:
        integral, _ = quad(sed.density, -np.inf, E, epsabs=0.0, epsrel=1e-12)
        return integral / (1.0 - sed.vacancy_fraction) - c

    lo, hi = sed.centre_eV - 12 * sed.sigma_eV, sed.centre_eV + 12 * sed.sigma_eV
    for c in [1e-6, 1e-4, 1e-2, 0.1, 0.5, 0.9, 1.0]:
        E_ref = brentq(filled, lo, hi, args=(c,), xtol=1e-14, rtol=1e-14)
        assert float(sed.fermi_level(c)) == pytest.approx(E_ref, abs=1e-9)
        assert float(sed.cdf(E_ref)) == pytest.approx((1 - sed.vacancy_fraction) * c, rel=1e-9)


def test_sed_diffusion_matches_scipy() -> None:
    law = _law("clamp")
    c = np.logspace(-6, 0, 400)
    a = PAPER_SED.sigma_eV / law.kT_eV
    ref = law.D_bulk * np.exp(a * (ndtri(0.9 * c) - ndtri(0.9)))
    err = _max_rel(law(c), ref)
    print(f"SEDDiffusion max relative error vs SciPy: {err:.3e}")
    # Acklam's 1.15e-9 in the quantile is amplified by (sigma/kT) |x| ~ 4.1 * 4.6.
    assert err < 1e-7


@pytest.mark.parametrize("above_bulk", ["clamp", "fill"])
def test_ufl_law_equals_numpy_law(above_bulk: str) -> None:
    law = _law(above_bulk)
    mesh = dolfinx.mesh.create_unit_interval(MPI.COMM_SELF, 200)
    V = dolfinx.fem.functionspace(mesh, ("Lagrange", 1))
    c_h = dolfinx.fem.Function(V)
    c_h.interpolate(lambda x: 10.0 ** (-6.5 + 6.8 * x[0]))
    c_nodal = c_h.x.array.copy()
    assert c_nodal.min() < law.c_min and c_nodal.max() > 1.0

    D_h = dolfinx.fem.Function(V)
    D_h.interpolate(dolfinx.fem.Expression(law(c_h, UFL_OPS), V.element.interpolation_points))
    err = _max_rel(D_h.x.array, law(c_nodal, NUMPY_OPS))
    print(f"UFL vs NumPy law ({above_bulk}) max relative difference: {err:.3e}")
    assert err < 1e-12

    c_h.x.array[:] = np.linspace(-1.0, 3.0, c_h.x.array.size)  # incl. 0 and negatives
    D_h.interpolate(dolfinx.fem.Expression(law(c_h, UFL_OPS), V.element.interpolation_points))
    assert np.all(np.isfinite(D_h.x.array)) and np.all(D_h.x.array > 0.0)
    assert _max_rel(D_h.x.array, law(c_h.x.array, NUMPY_OPS)) < 1e-12


def test_clamps_and_no_nan() -> None:
    clamp, fill = _law("clamp"), _law("fill")
    below = np.array([0.0, -1.0, -1e9, 1e-12, 5e-7, clamp.c_min])
    above = np.array([1.0 + 1e-12, 1.05, 2.0, 1e9, np.inf])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for law in (clamp, fill):
            assert np.all(law(below) == law(law.c_min))
            values = law(np.concatenate([below, above]))
            assert np.all(np.isfinite(values)) and np.all(values > 0.0)
        assert np.all(clamp(above) == clamp.D_bulk)
        assert clamp(1.0) == clamp.D_bulk and fill(1.0) == fill.D_bulk
        assert np.all(fill(above) > fill.D_bulk)
        assert np.isfinite(fill(2.0))
    assert fill.c_max * (1 - PAPER_SED.vacancy_fraction) == pytest.approx(1 - 1e-9, abs=1e-15)


def test_constant_diffusion() -> None:
    law = ConstantDiffusion(2.5)
    c = np.array([-1.0, 0.0, 0.5, 3.0])
    assert np.array_equal(law(c), np.full(4, 2.5))
    assert np.array_equal(law.ratio(c), np.ones(4))
    assert law.ratio(ufl.constantvalue.FloatValue(0.3), UFL_OPS) == 1.0


@pytest.mark.parametrize(
    ("factory", "message"),
    [
        (lambda: GaussianSED(0.0), "fwhm_eV"),
        (lambda: GaussianSED(0.25, vacancy_fraction=1.0), "vacancy_fraction"),
        (lambda: SEDDiffusion(GaussianSED(0.25, 0.0), 1.0, KT_300K), "vacancy_fraction"),
        (lambda: SEDDiffusion(PAPER_SED, 0.0, KT_300K), "D_bulk"),
        (lambda: SEDDiffusion(PAPER_SED, 1.0, -1.0), "kT_eV"),
        (lambda: SEDDiffusion(PAPER_SED, 1.0, KT_300K, c_min=0.0), "c_min"),
        (lambda: SEDDiffusion(PAPER_SED, 1.0, KT_300K, above_bulk="hold"), "above_bulk"),
        (lambda: ConstantDiffusion(-1.0), "D"),
    ],
)
def test_validation(factory: Callable[[], object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        factory()


@pytest.mark.parametrize(("above_bulk", "c_top"), [("clamp", 0.8), ("fill", 1.08)])
def test_ufl_derivative_taylor(above_bulk: str, c_top: float) -> None:
    law = _law(above_bulk)
    mesh = dolfinx.mesh.create_unit_interval(MPI.COMM_SELF, 50)
    V = dolfinx.fem.functionspace(mesh, ("Lagrange", 1))
    c_h, dc = dolfinx.fem.Function(V), dolfinx.fem.Function(V)
    c_h.interpolate(lambda x: 1e-5 * (c_top / 1e-5) ** x[0])
    dc.interpolate(lambda x: 0.5 * np.cos(7.0 * x[0]))
    dc.x.array[:] *= c_h.x.array  # relative direction: stays inside (c_min, c_max)

    dx = ufl.dx(metadata={"quadrature_degree": 4})
    integrand = law.ratio(c_h, UFL_OPS) * dx
    J = dolfinx.fem.form(integrand)
    dJ = dolfinx.fem.form(ufl.derivative(integrand, c_h, dc))
    c0 = c_h.x.array.copy()
    J0 = dolfinx.fem.assemble_scalar(J)
    dJ0 = dolfinx.fem.assemble_scalar(dJ)

    hs = np.array([1e-2, 3e-3, 1e-3, 3e-4, 1e-4])
    remainders = []
    for h in hs:
        c_h.x.array[:] = c0 + h * dc.x.array
        remainders.append(abs(dolfinx.fem.assemble_scalar(J) - J0 - h * dJ0))
    slope = np.polyfit(np.log(hs), np.log(remainders), 1)[0]
    print(f"Taylor remainder slope ({above_bulk}): {slope:.4f}")
    assert 1.9 <= slope <= 2.1


def test_paper_four_orders_of_magnitude() -> None:
    law = SEDDiffusion(PAPER_SED, D_bulk=1.0, kT_eV=KT_300K)
    log10_ratio = float(np.log10(law(1.0) / law(0.1)))
    print(f"log10 D(n_bg)/D(n_bg/10) = {log10_ratio:.3f}")
    assert 3.5 <= log10_ratio <= 4.8
