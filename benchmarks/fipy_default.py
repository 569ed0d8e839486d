"""Benchmark: femcait's default study solved with FiPy, a peer comparison for speed.

The default study (``studies/li3b7o12_k_cait.yaml``: 1D, 100 um of Li3B7O12 glass, a K+
beam holding the front at 5 V for 3 h, Li+ with D(n) from a Gaussian site energy
distribution, K+ with a constant D) is solved with FiPy (https://www.ctcms.nist.gov/fipy/,
cell-centred finite volumes, pure Python) and compared with femcait's converged reference
(``benchmarks/data/default_study_converged.{json,csv}``; without it, with femcait's default
result, front 67.30 nm and plateau 5.937 %).

Both codes solve the same equations, in femcait's nondimensional form (docs/model.md,
"Nondimensional form": c = n / n_bg, psi = e phi / kT, lengths in nm, times in
t0 = (1 nm)^2 / D_bulk(Li) = 0.217 s):

    dc_i/dt = div( d_i(c_i) (grad c_i + z_i c_i grad psi) ),     i = Li, K   (z = 1)
    -lambda^2 lap psi = c_Li + c_K - 1,                          lambda = lambda_D / 1 nm

with femcait's boundary and initial conditions (docs/model.md, "Boundary and initial
conditions"): front (x = 0) psi = 5 V, c_K = 1, no Li flux; back electrode (x = 100 um)
psi = 0, c_Li = 1, no K flux; at t = 0 c_Li = 1, c_K = 1e-12, psi linear in depth. The
D(n) laws are femcait's own NumPy laws (``law(c, NUMPY_OPS)``, built from the study by
``femcait.study.load_study`` and scaled to D_bulk(Li) as ``femcait.simulation`` does).
As in femcait (docs/model.md, "Flux coefficient"), the flux through a face takes the
density of the two sides' logarithmic mean c_bar and D at it:
J = -d(c_bar) (delta c + c_bar delta psi) / h.

FiPy setup (each choice below answers a pitfall met on the way):

- one coupled linear system per sweep (``eq_Li & eq_K & eq_psi``) in c_Li, c_K (or their
  logarithms) and psi: the drift is ``DiffusionTerm(d c_bar, var=psi)``, implicit in psi,
  so the stiff Poisson coupling (Debye length 0.029 nm, dielectric relaxation 1.8e-4 s)
  is implicit. The flux coefficients are FaceVariables set from NumPy every sweep; at a
  face where a species is blocked its drift coefficient is set to 0 (psi is held there,
  and FiPy would otherwise let a boundary drift flux through);
- unknowns (``--unknowns``): ``log`` (default) solves for u = ln c, as femcait does, so
  densities stay positive; the storage and the space charge, c = e^u, are linearised at
  the last iterate (``TransientTerm(coeff=c^k, var=u)``, an implicit source c^k u in
  Poisson, the rest in an explicit source). ``density`` solves for c itself, the usual
  FiPy choice: it works, but the Newton updates overshoot to negative densities where Li
  drains behind the front (limited, see below), so steps fail and are halved;
- sweeps per time step until the 2-norm of the residual of the discrete equations (species
  rows times dt, i.e. amounts in n_bg nm, and the Poisson rows) is below ``--sweep-tol``.
  ``--scheme newton`` (default) adds what a Picard sweep leaves out, the dependence of
  d(c_bar) c_bar on the unknowns: on interior faces a convection term whose face value
  has the weights d c_bar / d unknown of the two cells (a subclass of FiPy's convection
  term with a given alpha), at a face where the density is held a source in the cell,
  each with the same term at the last iterate subtracted as an explicit source, so the
  converged solution is unchanged (checked: all four variants give the same residual at
  the same state to 1e-12). The sources use a subclass of ``ImplicitSourceTerm`` that is
  always implicit: FiPy's own moves a source whose sign would weaken the diagonal to the
  right-hand side without a word, and a Newton term so treated is lost (the sweeps then
  converge linearly). ``--scheme picard`` (coefficients lagged) converges linearly and
  needs many more sweeps;
- each sweep may raise a log-density by at most 5 and not below ln 1e-30 (as femcait), or
  lower a density by at most a factor 1000 (density unknowns); the first iterate of a
  step is the linear extrapolation of the last two states; a step whose sweeps do not
  converge (``--max-sweeps``, a residual growing 1000-fold, a non-finite value) is rolled
  back and halved;
- linear solver: SciPy's SuperLU (``LinearLUSolver``) with an explicit tolerance (1e-10 of
  the system's initial residual) and iterations (10 refinement steps). FiPy's defaults are
  PETSc GMRES when petsc4py is importable (it is here, from dolfinx) and, for SciPy, a
  tolerance of 1e-5 relative to the right-hand side, which holds V c_old / dt: the solve
  returns without a word, or is skipped, while the sweep residual is still large. The
  reduction each solve reaches is checked and reported;
- time: backward Euler (FiPy's TransientTerm has no other scheme): from 1e-6 s (1/200
  of the dielectric relaxation time; larger first steps make the first Newton sweeps
  diverge) doubling up to ``--first-step``, then ``--steps``
  steps on a geometric schedule to 10800 s. Backward Euler smears the moving front: at
  the default 150 steps the front moves ~2.5 nm per step at the end, and the profile
  around the front differs from the reference by ~0.2 n_bg although the front depth is
  within 0.1 %;
- mesh: ``Grid1D`` with graded cells: ``--first-cell`` at the front growing by ``--growth``
  to ``--fine-cell``, then by ``--fine-growth`` to ``--fine-depth`` (the front ends at
  ~67 nm), then by ``--growth`` to the back electrode (micrometre cells);
- ``--refine R`` divides every cell size and growth excess by R and multiplies the
  number of time steps after the start-up by R.

The profile is read at the cell centres plus the two boundary faces (FiPy's face values:
the held value, else the adjacent cell's), and front depth and plateau are computed from it
as femcait computes them (``femcait.diagnostics.profile``).

Run it (one core: the script restarts itself with OMP_NUM_THREADS=1 and FIPY_SOLVERS=scipy):

    .venv/bin/pip install fipy            # once
    .venv/bin/python benchmarks/fipy_default.py [--refine 2] [--unknowns density]

It prints the machine, the FiPy version, cells, time steps, sweeps, the wall time of the
FiPy solve (the time loop: from the initial state to 10800 s, without imports and set-up),
front depth and plateau with their relative errors, and the largest differences of the K
and Li fraction profiles on the reference's depths.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import platform
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
STUDY = ROOT / "studies" / "li3b7o12_k_cait.yaml"
REFERENCE = ROOT / "benchmarks" / "data" / "default_study_converged"
FALLBACK_FRONT_M = 67.30e-9
"""femcait's default front depth at 10800 s, used when there is no converged reference."""
FALLBACK_PLATEAU = 0.05937
"""femcait's default plateau at 10800 s, used when there is no converged reference."""
ENVIRONMENT = {
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "FIPY_SOLVERS": "scipy",
}
"""One core, and FiPy's SciPy solver suite (not the PETSc of the venv's dolfinx)."""
FOREIGN_INITIAL_FRACTION = 1e-12
"""Initial K fraction, as in femcait."""
DENSITY_FLOOR = 1e-300
"""Densities are floored here in the log-mean."""
LOG_FLOOR = 1e-30
"""Log unknowns: a sweep does not take a density below this (as femcait)."""
MAX_LOG_RISE = 5.0
"""Log unknowns: a sweep raises a log-density by at most this (as femcait)."""
DECREASE_LIMIT = 1e-3
"""A sweep lowers a density by at most this factor (counted and reported)."""
DIVERGENCE = 1e3
"""A step fails when the residual grows past this times its first value."""
LOG_Y_CAP = 300.0
"""|ln(c2 / c1)| / 2 is capped here in the log-mean (as in femcait)."""
STARTUP_STEP = 1e-6
"""The first time step, s (about the dielectric relaxation time / 200)."""
FRONT_LEVEL = 0.5
"""The front is where the K fraction falls below this."""


# --- the problem --------------------------------------------------------------------------
@dataclass(frozen=True)
class Problem:
    """The default study in femcait's nondimensional units (nm, t0, n_bg, kT/e)."""

    native: str
    beam: str
    d_native: Callable[[np.ndarray], np.ndarray]
    d_beam: Callable[[np.ndarray], np.ndarray]
    length: float
    potential: float
    front_fraction: float
    debye_squared: float
    duration: float
    time_unit_s: float
    length_unit_m: float
    thermal_voltage_V: float
    plateau_min_depth: float


def load_problem(study_path: Path) -> Problem:
    """Read the study with femcait and scale it as femcait does."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from femcait.scales import Scales
    from femcait.sed import NUMPY_OPS
    from femcait.study import load_study

    study = load_study(study_path)
    scales = Scales.from_study(study)
    stage = study.experiment.stages[0]
    if len(study.experiment.stages) != 1 or stage.mode != "potentiostatic":
        raise SystemExit("this benchmark handles one potentiostatic stage only")
    if len(study.species) != 2 or any(s.charge != 1 for s in study.species.values()):
        raise SystemExit("this benchmark handles one native and one beam species of charge 1")
    to_reference = 1.0 / scales.diffusivity_m2_s  # as femcait.simulation.study_materials
    laws = {n: study.diffusion_laws[n].scaled(to_reference) for n in study.species}

    def law_of(name: str) -> Callable[[np.ndarray], np.ndarray]:
        law = laws[name]
        return lambda c: np.asarray(law(c, NUMPY_OPS), dtype=float) * np.ones_like(c)

    return Problem(
        native=study.native,
        beam=stage.beam,
        d_native=law_of(study.native),
        d_beam=law_of(stage.beam),
        length=study.glass.thickness / scales.length_m,
        potential=stage.surface_potential / scales.thermal_voltage_V,
        front_fraction=stage.front_density / scales.density_m3,
        debye_squared=scales.debye_squared,
        duration=stage.duration / scales.time_s,
        time_unit_s=scales.time_s,
        length_unit_m=scales.length_m,
        thermal_voltage_V=scales.thermal_voltage_V,
        plateau_min_depth=study.output.plateau_min_depth / scales.length_m,
    )


# --- mesh and time steps ------------------------------------------------------------------
@dataclass(frozen=True)
class Settings:
    """Numerical settings (lengths in nm, times in s) before refinement."""

    first_cell: float = 0.05
    growth: float = 1.08
    fine_cell: float = 0.25
    fine_growth: float = 1.005
    fine_depth: float = 150.0
    steps: int = 150
    first_step: float = 0.1
    refine: float = 1.0
    unknowns: str = "log"
    scheme: str = "newton"
    sweep_tol: float = 1e-8
    max_sweeps: int = 15
    linear_tol: float = 1e-10
    linear_iterations: int = 10


def graded_cells(length: float, s: Settings) -> np.ndarray:
    """Cell sizes of [0, length]: ``first_cell`` growing by ``growth`` to ``fine_cell``,
    by ``fine_growth`` to ``fine_depth``, by ``growth`` beyond; all divided by ``refine``
    (cell sizes and growth excesses)."""
    r = s.refine
    h, fine_cell = s.first_cell / r, s.fine_cell / r
    growth, fine_growth = 1 + (s.growth - 1) / r, 1 + (s.fine_growth - 1) / r
    x = [0.0]
    while x[-1] + h < length:
        x.append(x[-1] + h)
        if x[-1] >= s.fine_depth:
            h *= growth
        elif h < fine_cell:
            h = min(h * growth, fine_cell)
        else:
            h *= fine_growth
    if length - x[-1] < 0.5 * (x[-1] - x[-2]):
        x.pop()  # merge a sliver into the last cell
    x.append(length)
    return np.diff(x)


def time_schedule(duration: float, start: float, steps: int, startup: float) -> np.ndarray:
    """Step ends (same unit as the arguments): a start-up from ``startup``, doubling, up to
    ``start``; then ``steps`` steps, geometric from ``start`` to ``duration``."""
    ramp = startup * 2.0 ** np.arange(max(0, math.ceil(math.log2(start / startup))))
    main = start * (duration / start) ** (np.arange(steps) / max(steps - 1, 1))
    main[-1] = duration
    return np.concatenate([ramp[ramp < start], main])


# --- face arithmetic ----------------------------------------------------------------------
def log_mean(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The logarithmic mean of a and b (floored at DENSITY_FLOOR) and its partial
    derivatives d/da, d/db: m = sqrt(ab) sinh(y) / y, y = ln(b / a) / 2."""
    a = np.maximum(a, DENSITY_FLOOR)
    b = np.maximum(b, DENSITY_FLOOR)
    la, lb = np.log(a), np.log(b)
    y = np.clip(0.5 * (lb - la), -LOG_Y_CAP, LOG_Y_CAP)
    small = np.abs(y) < 1e-4
    safe = np.where(small, 1.0, y)
    shape = np.where(small, 1.0 + y * y / 6.0, np.sinh(safe) / safe)
    mean = np.exp(0.5 * (la + lb)) * shape
    # d ln(sinh y / y) / dy = coth y - 1 / y
    g = np.where(small, y / 3.0, 1.0 / np.tanh(safe) - 1.0 / safe)
    return mean, 0.5 * mean / a * (1.0 - g), 0.5 * mean / b * (1.0 + g)


def derivative(law: Callable[[np.ndarray], np.ndarray], c: np.ndarray) -> np.ndarray:
    """dD/dc by a central difference in ln c (the Newton terms need no more)."""
    eps = 1e-6
    return (law(c * (1 + eps)) - law(c * (1 - eps))) / (2 * eps * c)


# --- the FiPy model -----------------------------------------------------------------------
@dataclass
class Counters:
    """What the time loop did."""

    steps: int = 0
    rejected: int = 0
    sweeps: int = 0
    max_sweeps_in_step: int = 0
    worst_linear_ratio: float = 0.0
    limited_values: int = 0


@dataclass
class Species:
    """One mobile species: its unknown, its D(c) law, its boundary and its coefficients."""

    var: Any  # fp.CellVariable: c (density unknowns) or u = ln c (log unknowns)
    law: Callable[[np.ndarray], np.ndarray]
    held: np.ndarray  # the faces where the density is held (Dirichlet)
    held_value: float  # the density held there
    blocked: np.ndarray  # the faces this species does not cross (psi is held there)
    coefficients: dict[str, Any]  # fp variables updated every sweep


class FipyModel:
    """The coupled FiPy equations of the default study on a graded Grid1D.

    Per face, G = d(c_bar) c_bar (delta u + delta psi) / h = d(c_bar) (delta c + c_bar
    delta psi) / h is the flux from the second cell to the first (c_bar the log-mean,
    u = ln c). Picard terms: ``DiffusionTerm`` on the unknown and on psi with the
    coefficients of the last iterate. Newton terms (``newton``): dG/dc_bar times the change
    of c_bar, a convection term with the face weights dc_bar/dunknown_1, dc_bar/dunknown_2
    on interior faces and a source in the cell next to a face where the density is held,
    each with the same term at the last iterate subtracted as an explicit source (so the
    converged solution is the same). With log unknowns the storage c = e^u and the space
    charge are linearised too (``TransientTerm(coeff=c^k, var=u)`` and an always implicit
    source c^k u in Poisson, plus explicit corrections).
    """

    def __init__(self, problem: Problem, settings: Settings) -> None:
        import fipy as fp
        from fipy.solvers.scipy import LinearLUSolver
        from fipy.terms.abstractConvectionTerm import _AbstractConvectionTerm
        from fipy.terms.implicitSourceTerm import ImplicitSourceTerm

        def weighted_convection(alpha: Any) -> type:
            """A convection term div(v phi_f), phi_f = alpha phi_1 + (1 - alpha) phi_2 with
            ``alpha`` given per face (FiPy's schemes derive alpha from a Peclet number).
            A class per alpha, since FiPy rebuilds a negated term from (coeff, var)."""

            class WeightedConvectionTerm(_AbstractConvectionTerm):
                def _alpha(self, P: Any) -> Any:
                    return alpha

            return WeightedConvectionTerm

        class LinearSourceTerm(ImplicitSourceTerm):
            """coeff * phi, always in the matrix. FiPy's ImplicitSourceTerm moves a source
            whose sign would weaken the diagonal to the right-hand side, evaluated at the
            last iterate: right at convergence, but a Newton term so treated is lost and
            the sweeps converge only linearly."""

            def _getWeight(
                self, var: Any, transientGeomCoeff: Any = None, diffusionGeomCoeff: Any = None
            ) -> dict:
                zeros = np.zeros(var.shape)
                return {"diagonal": 1, "old value": zeros, "b vector": 0, "new value": zeros}

        self.p, self.s = problem, settings
        self.log = settings.unknowns == "log"
        self.newton = settings.scheme == "newton"
        self.mesh = mesh = fp.Grid1D(dx=graded_cells(problem.length, settings))
        self.n = mesh.numberOfCells
        self.x = np.asarray(mesh.cellCenters[0])
        self.volumes = np.asarray(mesh.cellVolumes)
        ids = mesh.faceCellIDs
        self.interior = np.asarray(mesh.interiorFaces)
        self.id1 = np.asarray(ids[0].filled(0))
        self.id2 = np.where(self.interior, np.asarray(ids[1].filled(0)), self.id1)
        front, back = np.asarray(mesh.facesLeft), np.asarray(mesh.facesRight)
        # the distance between the values on the two sides of a face: cell centres, or a
        # centre and its boundary face (FiPy's Dirichlet faces)
        faces = np.asarray(mesh.faceCenters[0])
        self.h = np.where(
            self.interior, self.x[self.id2] - self.x[self.id1], np.abs(faces - self.x[self.id1])
        )

        p = problem

        def unknown(c: float) -> float:
            return math.log(c) if self.log else c

        self.psi = fp.CellVariable(
            mesh=mesh, value=p.potential * (1 - self.x / p.length), hasOld=True, name="psi"
        )
        self.psi.constrain(p.potential, mesh.facesLeft)
        self.psi.constrain(0.0, mesh.facesRight)
        native = fp.CellVariable(mesh=mesh, value=unknown(1.0), hasOld=True, name=p.native)
        native.constrain(unknown(1.0), mesh.facesRight)
        beam = fp.CellVariable(
            mesh=mesh, value=unknown(FOREIGN_INITIAL_FRACTION), hasOld=True, name=p.beam
        )
        beam.constrain(unknown(p.front_fraction), mesh.facesLeft)

        self.species: list[Species] = []
        equations = []
        space_charge: Any = 0
        for var, law, held, value, blocked in (
            (native, p.d_native, back, 1.0, front),
            (beam, p.d_beam, front, p.front_fraction, back),
        ):
            k = {name: fp.FaceVariable(mesh=mesh, value=1.0) for name in ("D", "Dc", "alpha")}
            k["v"] = fp.FaceVariable(mesh=mesh, rank=1)
            k.update({name: fp.CellVariable(mesh=mesh, value=1.0) for name in ("B", "C", "S")})
            self.species.append(Species(var, law, held, value, blocked, k))
            # Picard terms (diffusion, drift) and the explicit parts in one source S
            rhs = (
                fp.DiffusionTerm(coeff=k["D"], var=var)
                + fp.DiffusionTerm(coeff=k["Dc"], var=self.psi)
                + k["S"]
            )
            if self.newton:
                rhs = (
                    rhs
                    + weighted_convection(k["alpha"])(coeff=k["v"], var=var)
                    + LinearSourceTerm(coeff=k["B"], var=var)
                )
            if self.log:  # c - c_old = c^k (u - u_old) + (the rest, in S), at u^k
                equations.append(fp.TransientTerm(coeff=k["C"], var=var) == rhs)
                space_charge = space_charge + LinearSourceTerm(coeff=k["C"], var=var)
            else:
                equations.append(fp.TransientTerm(var=var) == rhs)
                space_charge = space_charge + LinearSourceTerm(coeff=1.0, var=var)
        # the network charge (-1) and, for log unknowns, the rest of c = e^u at u^k
        self.charge_source = fp.CellVariable(mesh=mesh, value=-1.0)
        poisson = (
            fp.DiffusionTerm(coeff=p.debye_squared, var=self.psi)
            + space_charge
            + self.charge_source
        )
        equations.append(poisson == 0)
        self.equation = equations[0] & equations[1] & equations[2]
        self.variables = (native, beam, self.psi)
        self.solver = LinearLUSolver(
            tolerance=settings.linear_tol,
            criterion="initial",
            iterations=settings.linear_iterations,
        )
        self.counters = Counters()
        self.previous: list[np.ndarray] | None = None
        self.previous_dt = 0.0
        self.dt = 1.0
        self.scheduled = (0, 0)  # start-up steps, main steps

    def density(self, species: Species) -> np.ndarray:
        """The species' fraction c in the cells."""
        value = np.asarray(species.var.value)
        return np.exp(value) if self.log else value

    # face coefficients from the current iterate ---------------------------------------------
    def update_coefficients(self) -> None:
        """Coefficients and explicit sources of every term at the current iterate."""
        psi = np.asarray(self.psi.value)
        psi_faces = np.asarray(self.psi.faceValue)
        dpsi = np.where(self.interior, psi[self.id2], psi_faces) - psi[self.id1]
        charge = np.full(self.n, -1.0)
        for sp in self.species:
            k = sp.coefficients
            c = self.density(sp)
            c1 = c[self.id1]
            c2 = np.where(self.interior, c[self.id2], np.where(sp.held, sp.held_value, c1))
            mean, a1, a2 = log_mean(c1, c2)
            D = sp.law(mean)
            # no drift where the species is blocked: psi is held there, and FiPy would add a
            # boundary flux D c_bar (psi_face - psi_cell) / h
            k["Dc"].value = np.where(sp.blocked, 0.0, D * mean)
            k["D"].value = D * mean if self.log else D
            source = np.zeros(self.n)
            if self.log:
                u = np.asarray(sp.var.value)
                old = np.asarray(sp.var.old.value)
                k["C"].value = c
                source -= (c - np.exp(old) - c * (u - old)) / self.dt
                charge += c * (1.0 - u)
            if self.newton:
                source -= self.newton_terms(sp, c1, c2, mean, a1, a2, D, dpsi)
            k["S"].value = source
        self.charge_source.value = charge

    def newton_terms(
        self,
        sp: Species,
        c1: np.ndarray,
        c2: np.ndarray,
        mean: np.ndarray,
        a1: np.ndarray,
        a2: np.ndarray,
        D: np.ndarray,
        dpsi: np.ndarray,
    ) -> np.ndarray:
        """Set the Newton terms' coefficients; return their value at the current iterate
        (per unit volume), to be subtracted as an explicit source."""
        k = sp.coefficients
        # G = d(c_bar) c_bar (du + dpsi) / h = d(c_bar) (dc + c_bar dpsi) / h, the flux
        # from side 2 to side 1 across a face, and dG/dc_bar at fixed du (log unknowns)
        # or fixed dc (density unknowns)
        if self.log:
            x1 = np.log(np.maximum(c1, DENSITY_FLOOR))
            x2 = np.log(np.maximum(c2, DENSITY_FLOOR))
            slope = (derivative(sp.law, mean) * mean + D) * ((x2 - x1) + dpsi) / self.h
            w1, w2 = c1 * a1, c2 * a2  # dc_bar / du
        else:
            x1, x2 = c1, c2
            slope = (derivative(sp.law, mean) * ((c2 - c1) + mean * dpsi) + D * dpsi) / self.h
            w1, w2 = a1, a2  # dc_bar / dc
        # interior faces: a convection term in both cells
        inner = np.where(self.interior, slope, 0.0)
        weight = np.maximum(w1 + w2, DENSITY_FLOOR)
        k["v"].value = (inner * weight)[np.newaxis, :]
        k["alpha"].value = w1 / weight
        flux = inner * (w1 * x1 + w2 * x2)
        value = np.zeros(self.n)
        np.add.at(value, self.id1[self.interior], flux[self.interior])
        np.add.at(value, self.id2[self.interior], -flux[self.interior])
        # a face where the density is held: only the cell's unknown varies, a source in
        # that cell. Density unknowns: left out (Picard there): next to a nearly empty
        # cell dc_bar/dc is huge, and Newton overshoots
        held = np.zeros(self.n)
        if self.log:
            np.add.at(held, self.id1[sp.held], (slope * w1)[sp.held])
        k["B"].value = held / self.volumes
        value += held * np.asarray(sp.var.value)
        return value / self.volumes

    # one time step ---------------------------------------------------------------------------
    def residual_norm(self, dt: float) -> float:
        """2-norm of the residual L x - b of the last sweep's system at its start: species
        rows times dt (amounts, n_bg nm), Poisson rows as they are (charge, n_bg nm)."""
        r = np.asarray(self.equation.residualVector, dtype=float).ravel()
        n = self.n
        return float(math.sqrt(dt * dt * np.sum(r[: 2 * n] ** 2) + np.sum(r[2 * n :] ** 2)))

    def linear_reduction(self) -> float:
        """|L x - b| after the last sweep's solve over |L x - b| before it (its system)."""
        before = np.linalg.norm(np.asarray(self.equation.residualVector, dtype=float))
        L, x, b = self.solver._Lxb  # the system of the last sweep, x its solution
        after = np.linalg.norm(L @ np.asarray(x) - np.asarray(b))
        return float(after / before) if before > 0 else 0.0

    def limit(self, species: Species, before: np.ndarray) -> None:
        """Bound one sweep's change of a species' unknown (see `step`)."""
        new = np.asarray(species.var.value)
        if self.log:
            bounded = np.clip(new, math.log(LOG_FLOOR), before + MAX_LOG_RISE)
        else:
            bounded = np.maximum(new, DECREASE_LIMIT * before)
        changed = int(np.sum(bounded != new))
        if changed:
            self.counters.limited_values += changed
            species.var.value = bounded

    def step(self, dt: float) -> tuple[bool, int]:
        """Backward Euler step of ``dt`` (t0 units) by sweeps; (converged, sweeps).

        The first iterate is the linear extrapolation of the last two states (densities
        within a factor 10, log-densities within 5, of the last state). Each sweep may
        lower a density by at most the factor ``DECREASE_LIMIT`` (density unknowns: a full
        update can make a density negative), or raise a log-density by at most
        ``MAX_LOG_RISE`` and not below ln ``LOG_FLOOR`` (log unknowns, as femcait); limited
        values are counted. The step fails on a non-finite value, on a residual growing
        past ``DIVERGENCE`` times the first one, or after ``max_sweeps`` sweeps, and is
        rolled back.
        """
        c = self.counters
        self.dt = dt
        for var in self.variables:
            var.updateOld()
        if self.previous is not None:
            ratio = dt / self.previous_dt
            for var, before in zip(self.variables, self.previous, strict=True):
                now = np.asarray(var.value)
                guess = now + ratio * (now - before)
                if var is not self.psi:
                    low, high = (now - 5, now + 5) if self.log else (now / 10, now * 10)
                    guess = np.clip(guess, low, high)
                var.value = guess
        first = math.inf
        sweep = 0
        for sweep in range(1, self.s.max_sweeps + 1):
            self.update_coefficients()
            before = [np.asarray(sp.var.value).copy() for sp in self.species]
            self.equation.sweep(dt=dt, solver=self.solver, cacheResidual=True)
            residual = self.residual_norm(dt)
            if residual > 10 * self.s.sweep_tol:  # (not at round-off)
                c.worst_linear_ratio = max(c.worst_linear_ratio, self.linear_reduction())
            if sweep == 1:
                first = residual
            if residual < self.s.sweep_tol:
                c.sweeps += sweep
                return True, sweep
            values = (np.asarray(v.value) for v in self.variables)
            if not all(np.all(np.isfinite(v)) for v in values) or residual > DIVERGENCE * first:
                break
            for sp, old in zip(self.species, before, strict=True):
                self.limit(sp, old)
        c.sweeps += sweep
        for var in self.variables:  # roll back
            var.value = np.asarray(var.old.value).copy()
        return False, sweep

    def run(self, verbose: bool = False) -> float:
        """Integrate to the end of the study; return the wall time of the time loop."""
        p, s, c = self.p, self.s, self.counters
        steps = max(2, round(s.steps * s.refine))
        targets = time_schedule(
            p.duration, s.first_step / p.time_unit_s, steps, STARTUP_STEP / p.time_unit_s
        )
        self.scheduled = (len(targets) - steps, steps)
        start = time.perf_counter()
        t, cap = 0.0, math.inf
        for target in targets:
            while t < target * (1 - 1e-12):
                dt = min(target - t, cap)
                state = [np.asarray(v.value).copy() for v in self.variables]
                ok, sweeps = self.step(dt)
                if not ok:
                    c.rejected += 1
                    cap = dt / 2
                    if cap < 1e-12 * p.duration:
                        raise RuntimeError(f"step failed at t = {t * p.time_unit_s:.4g} s")
                    continue
                self.previous, self.previous_dt = state, dt
                t += dt
                cap = 2 * cap
                c.steps += 1
                c.max_sweeps_in_step = max(c.max_sweeps_in_step, sweeps)
                if verbose and c.steps % 25 == 0:
                    print(
                        f"  step {c.steps}: t {t * p.time_unit_s:.4g} s, dt "
                        f"{dt * p.time_unit_s:.3g} s, sweeps {sweeps}",
                        flush=True,
                    )
        return time.perf_counter() - start

    def profile(self) -> dict[str, np.ndarray]:
        """Depth (m), fractions and potential (V) at the front face, the cell centres and
        the back face (FiPy's face values: the held value, else the cell's)."""
        p = self.p

        def with_faces(var: Any) -> np.ndarray:
            faces = np.asarray(var.faceValue)
            return np.concatenate([[faces[0]], np.asarray(var.value), [faces[-1]]])

        native, beam = (with_faces(sp.var) for sp in self.species)
        if self.log:
            native, beam = np.exp(native), np.exp(beam)
        return {
            "depth_m": np.concatenate([[0.0], self.x, [p.length]]) * p.length_unit_m,
            f"{p.native}_frac": native,
            f"{p.beam}_frac": beam,
            "phi_V": with_faces(self.psi) * p.thermal_voltage_V,
        }


# --- derived quantities (as femcait.diagnostics.profile) ----------------------------------
def front_depth(depth: np.ndarray, foreign: np.ndarray) -> float:
    """First depth where the foreign fraction falls below 1/2 (linear interpolation)."""
    below = np.flatnonzero(foreign < FRONT_LEVEL)
    if foreign[0] < FRONT_LEVEL or len(below) == 0:
        return math.nan
    i = below[0]
    x0, x1, f0, f1 = depth[i - 1], depth[i], foreign[i - 1], foreign[i]
    return float(x0 + (f0 - FRONT_LEVEL) * (x1 - x0) / (f0 - f1))


def plateau(depth: np.ndarray, native: np.ndarray, start: float, front: float) -> float:
    """Minimum native fraction between ``start`` (interpolated there) and the front."""
    if not math.isfinite(front) or front <= start:
        return math.nan
    inside = native[(depth > start) & (depth <= front)]
    return float(min(np.interp(start, depth, native), inside.min(initial=np.inf)))


def load_reference(stem: Path) -> tuple[float, float, dict[str, np.ndarray] | None, str]:
    """Front depth (m), plateau and profile of the reference, and where they come from."""
    summary, table = stem.with_suffix(".json"), stem.with_suffix(".csv")
    if not summary.exists():
        return FALLBACK_FRONT_M, FALLBACK_PLATEAU, None, "femcait default (67.30 nm, 5.937 %)"
    data = json.loads(summary.read_text())
    columns = None
    if table.exists():
        with open(table) as f:
            rows = list(csv.DictReader(f))
        columns = {key: np.array([float(r[key]) for r in rows]) for key in rows[0]}
    return data["front_depth_m"], data["plateau_frac"], columns, str(summary.relative_to(ROOT))


def machine() -> str:
    """A one-line description of this machine."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (
        f"{platform.node()} ({cpu}, {os.cpu_count()} cores, {platform.system()} "
        f"{platform.machine()}), Python {platform.python_version()}"
    )


# --- main ---------------------------------------------------------------------------------
def parse_arguments() -> argparse.Namespace:
    d = Settings()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--refine", type=float, default=d.refine, help="cells / R, steps x R")
    parser.add_argument("--unknowns", choices=("log", "density"), default=d.unknowns)
    parser.add_argument("--scheme", choices=("newton", "picard"), default=d.scheme)
    parser.add_argument("--steps", type=int, default=d.steps, help="time steps (x refine)")
    parser.add_argument(
        "--first-step", type=float, default=d.first_step, help="s, start of the schedule"
    )
    parser.add_argument("--first-cell", type=float, default=d.first_cell, help="nm")
    parser.add_argument("--growth", type=float, default=d.growth)
    parser.add_argument("--fine-cell", type=float, default=d.fine_cell, help="nm")
    parser.add_argument("--fine-growth", type=float, default=d.fine_growth)
    parser.add_argument("--fine-depth", type=float, default=d.fine_depth, help="nm")
    parser.add_argument("--sweep-tol", type=float, default=d.sweep_tol)
    parser.add_argument("--max-sweeps", type=int, default=d.max_sweeps)
    parser.add_argument("--linear-tol", type=float, default=d.linear_tol)
    parser.add_argument("--reference", type=Path, default=REFERENCE, help="path stem")
    parser.add_argument("--save-profile", type=Path, help="write the final profile (CSV)")
    parser.add_argument(
        "--summary", type=Path, help="write front, plateau, time loop and counts (JSON)"
    )
    parser.add_argument("--verbose", action="store_true")
    return parser.parse_args()


def main() -> None:
    if any(os.environ.get(k) != v for k, v in ENVIRONMENT.items()):
        # restart with one thread and FiPy's SciPy suite, set before anything loads them
        os.execve(sys.executable, [sys.executable, *sys.argv], {**os.environ, **ENVIRONMENT})
    args = parse_arguments()
    settings = Settings(
        first_cell=args.first_cell,
        growth=args.growth,
        fine_cell=args.fine_cell,
        fine_growth=args.fine_growth,
        fine_depth=args.fine_depth,
        steps=args.steps,
        first_step=args.first_step,
        refine=args.refine,
        unknowns=args.unknowns,
        scheme=args.scheme,
        sweep_tol=args.sweep_tol,
        max_sweeps=args.max_sweeps,
        linear_tol=args.linear_tol,
    )
    problem = load_problem(STUDY)
    started = time.perf_counter()
    import fipy

    model = FipyModel(problem, settings)
    setup_s = time.perf_counter() - started
    try:
        solve_s = model.run(verbose=args.verbose)
    except RuntimeError as error:
        raise SystemExit(f"FiPy run failed: {error}; {model.counters}") from None
    c = model.counters

    profile = model.profile()
    depth = profile["depth_m"]
    native = profile[f"{problem.native}_frac"]
    foreign = profile[f"{problem.beam}_frac"]
    front = front_depth(depth, foreign)
    level = plateau(depth, native, problem.plateau_min_depth * problem.length_unit_m, front)
    ref_front, ref_plateau, ref_profile, ref_source = load_reference(args.reference)

    cells = np.diff(np.concatenate([[0.0], np.asarray(model.mesh.faceCenters[0])[1:]]))
    debye_nm = math.sqrt(problem.debye_squared)
    print(f"machine: {machine()}")
    print(
        f"FiPy {fipy.__version__} (solver suite {os.environ['FIPY_SOLVERS']}, "
        f"{type(model.solver).__name__}, tolerance {settings.linear_tol:g} of the initial "
        f"residual, at most {settings.linear_iterations} iterations), NumPy {np.__version__}, "
        f"OMP_NUM_THREADS={os.environ['OMP_NUM_THREADS']}"
    )
    r = settings.refine
    print(
        f"settings: refine {r:g}, unknowns {settings.unknowns}, scheme {settings.scheme}, "
        f"sweep tolerance {settings.sweep_tol:g}; cells {settings.first_cell / r:g} nm "
        f"growing by {1 + (settings.growth - 1) / r:g} to {settings.fine_cell / r:g} nm, "
        f"by {1 + (settings.fine_growth - 1) / r:g} to {settings.fine_depth:g} nm; steps: "
        f"{model.scheduled[0]} doubling from {STARTUP_STEP:g} s to {settings.first_step:g} s, "
        f"{model.scheduled[1]} geometric to {problem.duration * problem.time_unit_s:g} s"
    )
    print(
        f"mesh: {model.n} cells, {cells.min():.4g} nm at the front to "
        f"{cells.max() / 1e3:.3g} um (Debye length {debye_nm:.4f} nm)"
    )
    print(
        f"time steps: {c.steps} (+{c.rejected} rejected), sweeps {c.sweeps} "
        f"({c.sweeps / max(c.steps, 1):.2f} per accepted step, at most "
        f"{c.max_sweeps_in_step}; one linear solve each, reducing its residual by at least "
        f"{c.worst_linear_ratio:.1e}), sweep updates limited: {c.limited_values}"
    )
    print(f"wall time: FiPy solve (time loop) {solve_s:.2f} s, set-up {setup_s:.2f} s")
    print(f"reference: {ref_source}")
    print(
        f"front depth: {front * 1e9:.3f} nm (reference {ref_front * 1e9:.3f} nm, "
        f"error {front / ref_front - 1:+.3%})"
    )
    print(
        f"plateau: {level:.5%} of n_bg (reference {ref_plateau:.5%}, "
        f"error {level / ref_plateau - 1:+.3%})"
    )
    if ref_profile is not None:
        at = ref_profile["depth_m"]
        for name in (problem.beam, problem.native):
            key = f"{name}_frac"
            difference = np.abs(np.interp(at, depth, profile[key]) - ref_profile[key])
            worst = int(np.argmax(difference))
            print(
                f"max |{key} - reference| on the {len(at)} reference depths: "
                f"{difference[worst]:.4f} n_bg (at {at[worst] * 1e9:.2f} nm)"
            )
    if args.summary is not None:
        summary = {
            "front_depth_m": front,
            "plateau_frac": level,
            "solve_s": solve_s,
            "cells": model.n,
            "steps": c.steps,
            "rejected_steps": c.rejected,
            "sweeps": c.sweeps,
        }
        args.summary.write_text(json.dumps(summary, indent=1))
    if args.save_profile is not None:
        with open(args.save_profile, "w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(list(profile))
            writer.writerows(zip(*profile.values(), strict=True))


if __name__ == "__main__":
    main()
