"""The discrete CAIT problem: mixed space, state history, nonlinear solve, nodal access.

`TransportProblem` owns the unknowns at three time levels and one PETSc SNES. It knows
nothing about time-step control or output: the driver asks it to try a step, then to
accept or roll back, and reads nodal values, inventories and boundary fluxes from it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import basix.ufl
import numpy as np
import ufl
from dolfinx import fem
from dolfinx import mesh as dmesh
from dolfinx.fem.petsc import NonlinearProblem, assemble_vector
from mpi4py import MPI
from petsc4py import PETSc

from femcait.boundary import BoundarySet
from femcait.errors import StudyError
from femcait.forms import BDFCoefficients, SpeciesTerms, lumped_dx, npp_residual

DEFAULT_PETSC_OPTIONS: dict[str, str | int | float] = {
    "snes_type": "newtonls",
    "snes_linesearch_type": "bt",
    "snes_rtol": 1e-10,
    "snes_atol": 1e-9,
    "snes_stol": 0.0,
    "snes_divergence_tolerance": -1,
    "ksp_type": "preonly",
    "pc_type": "lu",
    "pc_factor_mat_solver_type": "mumps",
}
"""femcait's SNES defaults: Newton with a backtracking line search (the log-density updates
are also bounded, see `_bound_newton_step`; a failed step is retried with a smaller dt)
and a direct solve by MUMPS."""


LOG_FRACTION_FLOOR = math.log(1e-30)
"""Newton never takes a log-density below this (n < 1e-30 n_bg carries no weight)."""

TRAPPED_DIP_DEPTH = 5.0
"""A log-density at the floor with both neighbours more than this above it is a trapped
overshoot (see `TransportProblem._lift_trapped_dips`)."""

LOG_FRACTION_MAX_RISE = 5.0
"""Nor rise by more than this in one iterate: filling a nearly empty node linearises exp(u)
far from its value and would overshoot by many decades (and then crawl back down)."""


_REASONS = {
    value: name
    for name, value in vars(PETSc.SNES.ConvergedReason).items()
    if isinstance(value, int)
}
"""PETSc's names of SNES converged/diverged reasons, by value."""


@dataclass(frozen=True)
class SolveResult:
    """Outcome of one nonlinear solve."""

    converged: bool
    iterations: int
    reason: str


class TransportProblem:
    """Log-density NPP unknowns on a mesh, with BDF history and a SNES solver."""

    _count = 0

    def __init__(
        self,
        mesh: dmesh.Mesh,
        species: Sequence[SpeciesTerms],
        debye_squared: float,
        background_charge: float,
        boundaries_factory,
        petsc_options: dict | None = None,
        max_newton_iterations: int = 15,
        sources=None,
    ) -> None:
        self.mesh = mesh
        self.comm: MPI.Comm = mesh.comm
        self.species = list(species)
        self.n_species = len(self.species)
        p1 = basix.ufl.element("Lagrange", mesh.basix_cell(), 1)
        self.V = fem.functionspace(mesh, basix.ufl.mixed_element([p1] * (self.n_species + 1)))
        self.w = fem.Function(self.V, name="state")
        self.w_old = fem.Function(self.V)
        self.w_older = fem.Function(self.V)
        self.bdf = BDFCoefficients(mesh)
        self._debye_squared = debye_squared
        self._background_charge = background_charge
        self._sources = sources
        self._petsc_options = petsc_options
        self._options = {**DEFAULT_PETSC_OPTIONS, "snes_max_it": max_newton_iterations}
        self._options.update(petsc_options or {})
        self._u_dofs = np.concatenate([self._parent_dofs(i) for i in range(self.n_species)])
        self._u_dofs = self._u_dofs[self._u_dofs < self.V.dofmap.index_map.size_local]
        self.set_boundaries(boundaries_factory)
        dxl = lumped_dx(mesh)
        unknowns = ufl.split(self.w)
        self.w_initial = fem.Function(self.V)
        initial = ufl.split(self.w_initial)
        self._inventory_forms = [
            fem.form(ufl.exp(unknowns[i]) * dxl) for i in range(self.n_species)
        ]
        self._change_forms = [
            fem.form((ufl.exp(unknowns[i]) - ufl.exp(initial[i])) * dxl)
            for i in range(self.n_species)
        ]
        self._field_dofs = [self._owned_sorted_dofs(i) for i in range(self.n_species + 1)]
        self.coordinates = self._owned_coordinates(0)

    def set_boundaries(self, boundaries_factory) -> None:
        """(Re)build the boundary conditions and the nonlinear solver (a new experiment stage
        may change the beam species or the drive); the state is kept."""
        self.boundaries: BoundarySet = boundaries_factory(self.V)
        residual = npp_residual(
            self.w,
            self.w_old,
            self.w_older,
            self.species,
            self._debye_squared,
            self._background_charge,
            self.bdf,
            influx=self.boundaries.influx,
            sources=self._sources,
        )
        TransportProblem._count += 1
        try:
            self._nonlinear = NonlinearProblem(
                residual,
                self.w,
                bcs=self.boundaries.dirichlet,
                petsc_options_prefix=f"femcait_{TransportProblem._count}_",
                petsc_options=self._options,
            )
        except PETSc.Error as error:
            raise StudyError(
                f"solver.petsc_options: PETSc rejected {self._petsc_options} (PETSc error "
                f"{error.ierr}); see the PETSc SNES/KSP/PC manual pages for allowed values"
            ) from None
        self._nonlinear.solver.setLineSearchPreCheck(self._bound_newton_step)
        self._residual_form = self._nonlinear.F
        self._residual_vector = self._nonlinear.b.duplicate()
        self._influx_forms = [(i, fem.form(g * ds)) for i, g, ds in self.boundaries.influx]

    def _bound_newton_step(self, x, y) -> None:
        """Shorten the Newton update y (x_new = x - y) so log-densities stay in range.

        Densities that Newton drives towards zero (a depleting Debye layer, the tail of a
        front) would otherwise take one unit of u per iteration, or underflow to a zero
        pivot; at the floor their equations hold to within 1e-30 n_bg.
        """
        u = x.array_r[self._u_dofs]
        step = y.array
        step[self._u_dofs] = np.clip(
            step[self._u_dofs], -LOG_FRACTION_MAX_RISE, u - LOG_FRACTION_FLOOR
        )

    # --- nodal access -----------------------------------------------------------------
    def _parent_dofs(self, sub: int) -> np.ndarray:
        """Indices in the mixed array of the (collapsed) dofs of field ``sub``."""
        return np.asarray(self.V.sub(sub).collapse()[1]).ravel()

    def _owned_sorted_dofs(self, sub: int) -> np.ndarray:
        Vi, _ = self.V.sub(sub).collapse()
        n_owned = Vi.dofmap.index_map.size_local
        x = Vi.tabulate_dof_coordinates()[:n_owned, 0]
        return self._parent_dofs(sub)[:n_owned][np.argsort(x, kind="stable")]

    def _owned_coordinates(self, sub: int) -> np.ndarray:
        Vi, _ = self.V.sub(sub).collapse()
        n_owned = Vi.dofmap.index_map.size_local
        return np.sort(Vi.tabulate_dof_coordinates()[:n_owned, 0])

    def nodal(self, sub: int, state: fem.Function | None = None) -> np.ndarray:
        """Owned nodal values of field ``sub`` (u_i or psi), ordered by depth."""
        return (state or self.w).x.array[self._field_dofs[sub]]

    def fractions(self, state: fem.Function | None = None) -> np.ndarray:
        """Owned nodal n_i / n_bg, shape (N, owned nodes), ordered by depth."""
        return np.exp(np.array([self.nodal(i, state) for i in range(self.n_species)]))

    # --- initial state and history --------------------------------------------------------
    def set_state(self, values) -> None:
        """Set every time level to fields given as callables x -> values (u_1..u_N, psi)."""
        for i, f in enumerate(values):
            self.w.sub(i).interpolate(f)
        self.w.x.scatter_forward()
        for bc in self.boundaries.dirichlet:
            bc.set(self.w.x.array)
        self.w_old.x.array[:] = self.w.x.array
        self.w_older.x.array[:] = self.w.x.array
        self.w_initial.x.array[:] = self.w.x.array

    def try_step(
        self, dt: float, dt_previous: float | None, guess: np.ndarray | None
    ) -> SolveResult:
        """Solve for t + dt from the stored history; BDF2 when dt_previous is given."""
        self.bdf.set(dt, dt_previous)
        self.w.x.array[:] = self.w_old.x.array if guess is None else guess
        if guess is not None:  # an extrapolation across a lifted dip can overshoot wildly
            u, old = self.w.x.array, self.w_old.x.array
            bound = LOG_FRACTION_MAX_RISE
            u[self._u_dofs] = np.clip(
                u[self._u_dofs], old[self._u_dofs] - bound, old[self._u_dofs] + bound
            )
        self._lift_trapped_dips()
        snes = self._nonlinear.solver
        try:
            self._nonlinear.solve()
        except PETSc.Error as error:  # e.g. a factorisation of a non-finite Jacobian
            self.w.x.array[:] = self.w_old.x.array
            return SolveResult(False, snes.getIterationNumber(), f"PETSc error {error.ierr}")
        reason = snes.getConvergedReason()
        converged = reason > 0 and bool(np.isfinite(self.w.x.array).all())
        converged = bool(self.comm.allreduce(converged, op=MPI.LAND))
        if not converged:
            self.w.x.array[:] = self.w_old.x.array
        return SolveResult(converged, snes.getIterationNumber(), _REASONS.get(reason, str(reason)))

    def _lift_trapped_dips(self) -> None:
        """Start Newton above trapped floor values: a log-density at the floor between two
        neighbours far above it is a Newton overshoot that the floor caught; from there the
        linearised logarithmic-mean flux keeps pointing further down, and Newton stalls just
        above atol (seen at the front of the second beam of a double CAIT). The guess takes
        the mean of the neighbours instead (the stored history, and so the mass balance,
        is unchanged)."""
        u = self.w.x.array
        for dofs in self._field_dofs[: self.n_species]:
            values = u[dofs]
            neighbours = np.minimum(values[:-2], values[2:])
            trapped = (values[1:-1] <= LOG_FRACTION_FLOOR + 1e-9) & (
                neighbours > LOG_FRACTION_FLOOR + TRAPPED_DIP_DEPTH
            )
            index = np.flatnonzero(trapped)
            u[dofs[index + 1]] = 0.5 * (values[index] + values[index + 2])
        self.w.x.scatter_forward()

    def accept(self) -> None:
        """Make the solved state the newest time level."""
        self.w_older.x.array[:] = self.w_old.x.array
        self.w_old.x.array[:] = self.w.x.array

    # --- integrals -------------------------------------------------------------------------
    def inventories(self) -> np.ndarray:
        """Integral of n_i / n_bg over the domain (lumped, as in the scheme), per species."""
        return self._assemble(self._inventory_forms)

    def inventory_changes(self) -> np.ndarray:
        """Change of the inventories since `set_state`, summed node by node (no cancellation
        of the large native inventory)."""
        return self._assemble(self._change_forms)

    def _assemble(self, forms) -> np.ndarray:
        local = [fem.assemble_scalar(f) for f in forms]
        return np.asarray(self.comm.allreduce(np.asarray(local), op=MPI.SUM))

    def boundary_increments(self) -> np.ndarray:
        """Per species, what entered through the boundary during the step just solved.

        The residual of the unconstrained equations at the held (Dirichlet) dofs is the
        amount the scheme moved through them; prescribed influxes add dt * g. The sum is
        in the units of (a Q^{k+1} - b Q^k + g Q^{k-1}).
        """
        b = self._residual_vector
        with b.localForm() as local:
            local.set(0.0)
        assemble_vector(b, self._residual_form)
        b.ghostUpdate(addv=PETSc.InsertMode.ADD, mode=PETSc.ScatterMode.REVERSE)
        owned = b.getLocalSize()
        values = b.array_r
        local = np.zeros(self.n_species)
        for i, dofs in self.boundaries.held_dofs.items():
            mine = dofs[dofs < owned]
            local[i] = values[mine].sum()
        total = np.asarray(self.comm.allreduce(local, op=MPI.SUM))
        dt = float(self.bdf.dt.value)
        for i, form in self._influx_forms:
            total[i] += dt * self.comm.allreduce(fem.assemble_scalar(form), op=MPI.SUM)
        return total

    def front_potential(self) -> float:
        """psi at the front surface."""
        dofs = self.boundaries.front_potential_dofs
        owned = self.V.dofmap.index_map.size_local
        mine = dofs[dofs < owned]
        local = float(self.w.x.array[mine][0]) if len(mine) else -np.inf
        return float(self.comm.allreduce(local, op=MPI.MAX))
