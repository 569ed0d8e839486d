"""The D(c) laws as UFL expressions: same values as NumPy, exact Newton derivatives.

On a DOLFINx interval mesh with c = exp(u), u a P1 function: every law built with
``UFL_OPS`` and evaluated by a compiled ``dolfinx.fem.Expression`` equals the NumPy law at
the same c; an assembled functional equals a SciPy quadrature of the same integrand; and
Taylor tests show that ``ufl.derivative`` of a functional and of a residual form built on
the laws is exact (remainder ~ h^2). Runs in serial and under ``mpiexec -n 2``.
"""

from __future__ import annotations

import math

import dolfinx_solver  # noqa: F401  (must precede dolfinx: orders MPI ahead of the bindings)

# isort: split
import basix
import dolfinx
import numpy as np
import pytest
import ufl
from dolfinx import fem
from mpi4py import MPI
from scipy import constants

from femcait.sed import (
    NUMPY_OPS,
    UFL_OPS,
    ConstantDiffusion,
    GaussianShape,
    GaussianSumShape,
    LogisticShape,
    SEDDiffusion,
    SiteEnergyDistribution,
    TabulatedDiffusion,
    TabulatedShape,
    UniformShape,
    ufl_ops,
)

COMM = MPI.COMM_WORLD
KT = constants.k * 300.0 / constants.e  # eV
D_BULK = 3.0e-14
N_CELLS = 400
U_RANGE = (math.log(1e-6), 0.0)  # c = exp(u) from 1e-6 to 1
U_RANGE_CLAMPS = (math.log(1e-9), math.log(1.5))  # beyond c_min and beyond 1 (and c_max)
REFERENCE_POINTS = np.array([[0.0], [0.1127], [0.5], [0.8873], [1.0]])  # on the cell [0, 1]


def _table_shape() -> TabulatedShape:
    """A skewed piecewise-linear density, 30 unevenly spaced rows, zero at both ends."""
    E = -0.35 + 0.8 * np.linspace(0.0, 1.0, 30) ** 1.2
    x = (E - E[0]) / (E[-1] - E[0])
    return TabulatedShape(tuple(E), tuple(7.3 * x**1.5 * (1.0 - x) ** 4))


def _laws() -> dict[str, object]:
    def sed(shape, vacancy_fraction=0.10):
        return SiteEnergyDistribution(shape, vacancy_fraction)

    gaussian = sed(GaussianShape.from_fwhm(0.25))
    logistic = sed(LogisticShape.from_fwhm(0.2, centre_eV=-0.1))
    uniform = sed(UniformShape(-0.2, 0.25), 0.3)
    table = sed(_table_shape())
    gaussian_sum = sed(GaussianSumShape.from_fwhms((0.7, 0.3), (0.25, 0.12), (0.0, 0.3)))
    c_rows = np.logspace(-6.0, 0.0, 50)
    wiggle = 1.0 + 0.3 * np.sin(np.arange(50.0))  # a measured-looking, non-monotonic table
    D_rows = D_BULK * c_rows**1.7 * wiggle
    return {
        "gaussian": SEDDiffusion(gaussian, D_BULK, KT),
        "gaussian_centre": SEDDiffusion(sed(GaussianShape(0.08, 0.35), 0.3), D_BULK, KT),
        "logistic": SEDDiffusion(logistic, D_BULK, KT),
        "uniform": SEDDiffusion(uniform, D_BULK, KT),
        "table": SEDDiffusion(table, D_BULK, KT),
        "gaussian_sum": SEDDiffusion(gaussian_sum, D_BULK, KT),
        "gaussian_fill": SEDDiffusion(gaussian, D_BULK, KT, above_bulk="fill"),
        "logistic_fill": SEDDiffusion(logistic, D_BULK, KT, above_bulk="fill"),
        "uniform_fill": SEDDiffusion(uniform, D_BULK, KT, above_bulk="fill"),
        "gaussian_immobile": SEDDiffusion(gaussian, D_BULK, KT, immobile_fraction=0.15),
        "table_fill_immobile": SEDDiffusion(
            table, D_BULK, KT, above_bulk="fill", immobile_fraction=0.15
        ),
        "gaussian_activation": SEDDiffusion.from_activation(gaussian, 2e-3, 0.9, KT, c_min=1e-7),
        "tabulated": TabulatedDiffusion(tuple(c_rows), tuple(D_rows)),
        "tabulated_smooth": TabulatedDiffusion(
            tuple(c_rows), tuple(SEDDiffusion(gaussian, D_BULK, KT)(c_rows))
        ),
        "constant": ConstantDiffusion(D_BULK),
    }


LAWS = _laws()


def _allreduce_max(value: float) -> float:
    return COMM.allreduce(value, op=MPI.MAX)


def _set_linear(u: fem.Function, u_range: tuple[float, float]) -> None:
    low, high = u_range
    u.interpolate(lambda x: low + (high - low) * x[0])
    u.x.scatter_forward()


@pytest.fixture(scope="module")
def space() -> fem.FunctionSpace:
    mesh = dolfinx.mesh.create_unit_interval(COMM, N_CELLS)
    return fem.functionspace(mesh, ("Lagrange", 1))


# --- pointwise: UFL expression == NumPy law -----------------------------------------------
@pytest.fixture(scope="module")
def pointwise(space) -> dict[str, dict[str, np.ndarray]]:
    """c and every law's UFL value at the reference points of all local cells, for u over
    U_RANGE and U_RANGE_CLAMPS: one compiled Expression, a vector of all laws."""
    mesh = space.mesh
    u = fem.Function(space)
    c = ufl.exp(u)
    expression = fem.Expression(
        ufl.as_vector([c] + [law(c, UFL_OPS) for law in LAWS.values()]), REFERENCE_POINTS
    )
    cells = np.arange(mesh.topology.index_map(mesh.topology.dim).size_local, dtype=np.int32)
    results = {}
    for key, u_range in (("range", U_RANGE), ("clamps", U_RANGE_CLAMPS)):
        _set_linear(u, u_range)
        values = expression.eval(mesh, cells).reshape(-1, len(LAWS) + 1)
        results[key] = {"c": values[:, 0].copy()}
        results[key].update({name: values[:, k + 1].copy() for k, name in enumerate(LAWS)})
    return results


def test_pointwise_c_range(pointwise) -> None:
    for key, (low, high) in (("range", U_RANGE), ("clamps", U_RANGE_CLAMPS)):
        c = pointwise[key]["c"]
        c_low = COMM.allreduce(float(c.min()), op=MPI.MIN)
        c_high = COMM.allreduce(float(c.max()), op=MPI.MAX)
        assert c_low == pytest.approx(math.exp(low), rel=1e-12)
        assert c_high == pytest.approx(math.exp(high), rel=1e-12)


def _difference(got: np.ndarray, expected: np.ndarray) -> float:
    """Max relative difference of the UFL values ``got`` from the NumPy ones on this rank;
    inf where a value is not finite or negative, or not exactly 0 where NumPy gives 0 (the
    immobile fraction). Reduced over the ranks before any assert, so that no rank waits in
    a collective call while another has failed."""
    if not (np.all(np.isfinite(got)) and np.all(got >= 0.0)):
        return math.inf
    zero = expected == 0.0
    if not np.all(got[zero] == 0.0):
        return math.inf
    if not np.any(~zero):
        return 0.0
    return float(np.max(np.abs(got[~zero] - expected[~zero]) / expected[~zero]))


@pytest.mark.parametrize("name", list(LAWS))
def test_ufl_equals_numpy(pointwise, name: str) -> None:
    law = LAWS[name]
    worst = 0.0
    for key in ("range", "clamps"):
        c, got = pointwise[key]["c"], pointwise[key][name]
        expected = np.asarray(law(c, NUMPY_OPS), dtype=float) * np.ones_like(c)
        worst = max(worst, _difference(got, expected))
    worst = _allreduce_max(worst)
    if COMM.rank == 0:
        print(f"{name}: UFL vs NumPy max relative difference {worst:.2e}")
    assert worst < 1e-10


def test_ufl_ops_with_constants_equals_numpy(space) -> None:
    """The same with ``ufl_ops(mesh)``, whose parameters are ``fem.Constant`` objects (the
    backend the solver's forms use), for every law but the sum of Gaussians (whose
    interpolant, with its nodes and coefficients as Constants, takes ~7 s to compile)."""
    mesh = space.mesh
    names = [name for name in LAWS if name != "gaussian_sum"]
    u = fem.Function(space)
    c = ufl.exp(u)
    ops = ufl_ops(mesh)
    expression = fem.Expression(
        ufl.as_vector([c] + [LAWS[name](c, ops) for name in names]), REFERENCE_POINTS
    )
    cells = np.arange(mesh.topology.index_map(mesh.topology.dim).size_local, dtype=np.int32)
    worst = dict.fromkeys(names, 0.0)
    for u_range in (U_RANGE, U_RANGE_CLAMPS):
        _set_linear(u, u_range)
        values = expression.eval(mesh, cells).reshape(-1, len(names) + 1)
        for k, name in enumerate(names):
            got = values[:, k + 1]
            expected = np.asarray(LAWS[name](values[:, 0], NUMPY_OPS), dtype=float)
            worst[name] = max(worst[name], _difference(got, expected * np.ones_like(got)))
    worst = {name: _allreduce_max(value) for name, value in worst.items()}
    if COMM.rank == 0:
        print("ufl_ops(mesh) vs NumPy, max relative difference:", worst)
    assert max(worst.values()) < 1e-10


# --- an assembled functional == the same quadrature in NumPy -------------------------------
QUADRATURE_DEGREE = 6


@pytest.mark.parametrize("name", ["gaussian", "table_fill_immobile", "tabulated", "constant"])
def test_assembled_functional(space, name: str) -> None:
    """J(u) = int_0^1 D(exp(u)) dx, u linear from ln 1e-9 to ln 1.5 (through both clamps),
    assembled by DOLFINx, against the same Gauss rule applied in NumPy to D(exp(u(x))) on
    every owned cell, summed over the ranks.

    (A SciPy quad of the integrand is no reference here: D has kinks at the clamps, the
    immobile fraction and the table rows, and a kink inside a cell costs the Gauss rule up
    to 1e-3 of J on this mesh.)
    """
    law = LAWS[name]
    mesh = space.mesh
    u = fem.Function(space)
    _set_linear(u, U_RANGE_CLAMPS)
    dx = ufl.dx(domain=mesh, metadata={"quadrature_degree": QUADRATURE_DEGREE})
    integrand = law(ufl.exp(u), UFL_OPS)
    if not isinstance(integrand, ufl.core.expr.Expr):  # ConstantDiffusion: a number
        integrand = fem.Constant(mesh, float(integrand))
    J = COMM.allreduce(fem.assemble_scalar(fem.form(integrand * dx)), op=MPI.SUM)

    points, weights = basix.make_quadrature(basix.CellType.interval, QUADRATURE_DEGREE)
    owned = mesh.topology.index_map(mesh.topology.dim).size_local
    vertices = mesh.geometry.x[mesh.geometry.dofmaps[0][:owned], 0]  # (owned cells, 2)
    x0, length = vertices[:, :1], vertices[:, 1:] - vertices[:, :1]
    x = x0 + length * points[:, 0]  # (owned cells, points)
    low, high = U_RANGE_CLAMPS
    D = np.asarray(law(np.exp(low + (high - low) * x)), dtype=float) * np.ones_like(x)
    expected = COMM.allreduce(float(np.sum(np.abs(length) * D * weights)), op=MPI.SUM)
    rel = abs(J - expected) / expected
    if COMM.rank == 0:
        print(f"{name}: assembled {J:.15e}, NumPy {expected:.15e}, relative {rel:.2e}")
    assert rel < 1e-11


# --- Taylor tests of the exact derivative -------------------------------------------------
H = 1e-2 / 2.0 ** np.arange(5)  # 1e-2 ... 1e-2 / 16
TAYLOR_U_RANGE = (math.log(3e-6), math.log(0.95))  # inside (c_min, 1): no clamp in play
RNG = np.random.default_rng(20250611)
DIRECTION = RNG.normal(size=(2, 4))  # same on every rank


def _direction(x: np.ndarray) -> np.ndarray:
    """A smooth random direction: a few sines and cosines with seeded amplitudes."""
    k = np.arange(1, 5)[:, None]
    return DIRECTION[0] @ np.sin(k * np.pi * x[0]) + DIRECTION[1] @ np.cos(k * np.pi * x[0])


def _rate(remainders: list[float]) -> float:
    return float(np.polyfit(np.log(H), np.log(remainders), 1)[0])


def _owned(vector: dolfinx.la.Vector, space: fem.FunctionSpace) -> np.ndarray:
    vector.scatter_reverse(dolfinx.la.InsertMode.add)
    size = space.dofmap.index_map.size_local * space.dofmap.index_map_bs
    return vector.array[:size].copy()


def _norm(owned: np.ndarray) -> float:
    return math.sqrt(COMM.allreduce(float(owned @ owned), op=MPI.SUM))


@pytest.mark.parametrize(
    ("name", "u_range"),
    [
        pytest.param("gaussian", TAYLOR_U_RANGE, id="gaussian"),
        pytest.param("gaussian_sum", TAYLOR_U_RANGE, id="gaussian_sum"),
        pytest.param("table", TAYLOR_U_RANGE, id="table"),
        pytest.param("gaussian_immobile", TAYLOR_U_RANGE, id="gaussian_immobile"),
        # c in [0.16, 0.95]: the mobile share (c - f) / (c (1 - f)) runs from 0.07 to 0.99
        # and its derivative weighs in J, which the wide range (dominated by c ~ 1) hides
        pytest.param(
            "gaussian_immobile", (math.log(0.16), math.log(0.95)), id="gaussian_immobile-high_c"
        ),
        pytest.param("tabulated_smooth", TAYLOR_U_RANGE, id="tabulated_smooth"),
    ],
)
def test_taylor_derivative(space, name: str, u_range: tuple[float, float]) -> None:
    """|J(u + h du) - J(u) - h dJ[du]| ~ h^2 for J = int D(e^u) e^u dx, and the same in the
    l2 norm for the residual F(u; v) = int D(e^u) e^u grad u . grad v dx.

    A TabulatedDiffusion is only piecewise smooth: every row is a kink of D, and a
    quadrature point that the perturbation carries across a kink adds a remainder of order
    jump * h. With D tabulated from a smooth law the jumps are small and the rate is 2; the
    wiggly table of ``LAWS["tabulated"]`` (slope jumps of order 1) gives rates from 1.7 to
    2.3 on this mesh, which says nothing about the derivative's exactness.
    """
    law = LAWS[name]
    u, du, v = fem.Function(space), fem.Function(space), ufl.TestFunction(space)
    _set_linear(u, u_range)
    du.interpolate(_direction)
    du.x.scatter_forward()
    u0 = u.x.array.copy()

    c = ufl.exp(u)
    dx = ufl.dx(domain=space.mesh, metadata={"quadrature_degree": 4})
    J_ufl = law(c, UFL_OPS) * c * dx
    F_ufl = law(c, UFL_OPS) * c * ufl.inner(ufl.grad(u), ufl.grad(v)) * dx
    J, dJ = fem.form(J_ufl), fem.form(ufl.derivative(J_ufl, u, du))
    F, dF = fem.form(F_ufl), fem.form(ufl.derivative(F_ufl, u, du))

    def scalar(form) -> float:
        return COMM.allreduce(fem.assemble_scalar(form), op=MPI.SUM)

    J0, dJ0 = scalar(J), scalar(dJ)
    F0, dF0 = _owned(fem.assemble_vector(F), space), _owned(fem.assemble_vector(dF), space)
    assert abs(dJ0) > 0.0 and _norm(dF0) > 0.0

    changes, remainders_J, remainders_F = [], [], []
    for h in H:
        u.x.array[:] = u0 + h * du.x.array
        J_h = scalar(J)
        changes.append(abs(J_h - J0))
        remainders_J.append(abs(J_h - J0 - h * dJ0))
        remainders_F.append(_norm(_owned(fem.assemble_vector(F), space) - F0 - h * dF0))
    u.x.array[:] = u0
    rate_J, rate_F = _rate(remainders_J), _rate(remainders_F)
    if COMM.rank == 0:
        print(
            f"{name}: Taylor rates J {rate_J:.4f}, F {rate_F:.4f}; "
            f"remainders J {np.array(remainders_J)}, F {np.array(remainders_F)}"
        )
    assert 1.9 <= rate_J <= 2.1
    assert 1.9 <= rate_F <= 2.1
    # without the derivative term the remainder is first order: the h range resolves rates
    assert 0.9 <= _rate(changes) <= 1.1
