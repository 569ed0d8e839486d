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
from dolfinx.fem.petsc import NonlinearProblem, assign
from mpi4py import MPI
from petsc4py import PETSc

from femcait.discretisation.bdf import BDFCoefficients
from femcait.discretisation.boundary import BoundarySet
from femcait.discretisation.materials import Materials
from femcait.discretisation.measures import BoundaryMeasure, CellGeometry, assembled_nodal
from femcait.discretisation.residual import SpeciesTerms, npp_residual
from femcait.errors import StudyError
from femcait.geometry import Boundary
from femcait.solver.form_templates import FormSet
from femcait.solver.residual_assembly import ResidualAssembly
from femcait.solver.serial_jacobian import SerialJacobian

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

SERIAL_1D_LU: dict[str, str | int | float] = {
    "pc_factor_mat_solver_type": "petsc",
    "pc_factor_mat_ordering_type": "rcm",
    "pc_factor_zeropivot": 0.0,
}
"""The direct solve of a 1D problem on one rank: PETSc's own LU. Its Jacobian is banded
(bandwidth ~8 after the reverse Cuthill-McKee ordering), and MUMPS spent five times longer
per solve on its set-up than on the arithmetic (default study: 1.1 s vs 0.2 s over 1538
solves). No pivoting: the rows of an absent species scale with its density (down to
1e-14), so PETSc's zero-pivot threshold (1e-12) is off; a true zero pivot still fails the
solve, and the step is retried with a smaller dt. In 2D MUMPS is faster (its nested
dissection and dense fronts: 0.38 vs 0.69 s per solve at 57000 unknowns)."""


def default_petsc_options(dim: int, ranks: int) -> dict[str, str | int | float]:
    """femcait's PETSc options for a ``dim``-dimensional problem on ``ranks`` ranks (a
    study's `solver.petsc_options` are merged over them)."""
    if dim == 1 and ranks == 1:
        return {**DEFAULT_PETSC_OPTIONS, **SERIAL_1D_LU}
    return dict(DEFAULT_PETSC_OPTIONS)


LOG_FRACTION_FLOOR = math.log(1e-30)
"""Newton never takes a log-density below this (n < 1e-30 n_bg carries no weight)."""

TRAPPED_DIP_DEPTH = 5.0
"""A log-density at the floor with all its neighbours more than this above it is a trapped
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
    """Log-density NPP unknowns on a domain, with BDF history and a SNES solver."""

    _count = 0

    def __init__(
        self,
        materials: Materials,
        species: Sequence[SpeciesTerms],
        debye_squared: float,
        boundaries_factory,
        petsc_options: dict | None = None,
        max_newton_iterations: int = 15,
        sources=None,
        template: TransportProblem | None = None,
    ) -> None:
        """``template``: the same problem on another mesh of the same kind (an adaptive
        run's previous mesh), whose compiled forms and form constants this one takes."""
        self.materials = materials
        self.domain = materials.domain
        mesh = self.mesh = self.domain.mesh
        self.comm: MPI.Comm = mesh.comm
        self.species = list(species)
        self.n_species = len(self.species)
        p1 = basix.ufl.element("Lagrange", mesh.basix_cell(), 1)
        self.V = fem.functionspace(mesh, basix.ufl.mixed_element([p1] * (self.n_species + 1)))
        self.w = fem.Function(self.V, name="state")
        self.w_old = fem.Function(self.V)
        self.w_older = fem.Function(self.V)
        if template is None:
            self.bdf = BDFCoefficients(mesh)
            self._forms = FormSet(mesh)
        else:
            self.bdf = template.bdf
            counterparts = {
                template.w: self.w,
                template.w_old: self.w_old,
                template.w_older: self.w_older,
            }
            if template.domain.box_shares is not None:
                counterparts[template.domain.box_shares] = self.domain.box_shares
            self._forms = FormSet(
                mesh,
                template._forms,
                counterparts,
                {template.domain.facet_tags: self.domain.facet_tags},
            )
        self._debye_squared = debye_squared
        self._sources = sources
        self._petsc_options = petsc_options
        self._options = default_petsc_options(self.domain.dim, self.comm.size)
        self._options["snes_max_it"] = max_newton_iterations
        self._options.update(petsc_options or {})
        # the P1 space of one field: the node order of every field's nodal arrays
        self.node_space, _ = self.V.sub(0).collapse()
        self._field_dofs = [self._parent_dofs(i) for i in range(self.n_species + 1)]
        owned = self.V.dofmap.index_map.size_local
        self._u_dofs = np.concatenate(self._field_dofs[: self.n_species])
        self._u_dofs = self._u_dofs[self._u_dofs < owned]
        self._owned_field_dofs = [dofs[dofs < owned] for dofs in self._field_dofs]
        self._neighbours = self._node_graph()
        self._nonlinear: NonlinearProblem | None = None
        self.set_boundaries(boundaries_factory, same_conditions=template is not None)
        space = self.node_space
        volumes = self._forms.form(
            "box_volumes", [space], lambda: CellGeometry(self.domain).box_form(space)
        )
        self._box_volumes = assembled_nodal(volumes)[: space.dofmap.index_map.size_local]
        self.initial_fractions = self.fractions()
        boundary = BoundaryMeasure(self.domain)
        front = boundary.ds(Boundary.FRONT)
        self._front_potential_forms = (
            self._forms.form(
                "front_potential",
                [],
                lambda: ufl.split(self.w)[self.n_species] * boundary.weight * front,
            ),
            self._forms.form(
                "front_area", [], lambda: fem.Constant(mesh, 1.0) * boundary.weight * front
            ),
        )

    def set_boundaries(self, boundaries_factory, same_conditions: bool = False) -> None:
        """(Re)build the boundary conditions and the nonlinear solver (a new experiment stage
        may change the beam species or the drive); the state is kept. With
        ``same_conditions`` (a change of mesh), the forms come from the template's."""
        self.boundaries: BoundarySet = boundaries_factory(self.V)
        names = [
            "residual",
            "jacobian",
            *(f"influx_{k}" for k in range(len(self.boundaries.influx))),
        ]
        if not same_conditions:
            self._forms.discard(names)

        def residual() -> ufl.Form:
            return npp_residual(
                self.w,
                self.w_old,
                self.w_older,
                self.species,
                self.materials,
                self._debye_squared,
                self.bdf,
                influx=self.boundaries.influx,
                sources=self._sources,
                scale=1.0 / self.domain.lateral_measure,
            )

        self.close()
        F = self._forms.form("residual", [self.V], residual)
        J = self._forms.form(
            "jacobian",
            [self.V, self.V],
            lambda: ufl.derivative(self._forms.templates["residual"].compiled.ufl_form, self.w),
        )
        TransportProblem._count += 1
        try:
            self._nonlinear = NonlinearProblem(
                F,
                self.w,
                J=J,
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
        owned = self.V.dofmap.index_map.size_local
        nowhere = np.zeros(0, dtype=np.int32)
        held = [
            (dofs := self.boundaries.held_dofs.get(i, nowhere))[dofs < owned]
            for i in range(self.n_species)
        ]
        self._residual = ResidualAssembly(
            self._nonlinear.F, self._nonlinear.J, self.boundaries.dirichlet, self.w, held
        )
        self._nonlinear.solver.setFunction(self._residual, self._nonlinear.b)
        if self.comm.size == 1:
            jacobian = SerialJacobian(self._nonlinear.J, self.boundaries.dirichlet, self.w)
            self._nonlinear.solver.setJacobian(jacobian.assemble, jacobian.matrix, jacobian.matrix)
            self._serial_jacobian = jacobian  # the SNES holds the callback, not its owner
        self._residual_vector = self._nonlinear.b.duplicate()
        boundary = BoundaryMeasure(self.domain)
        self._influx_forms = [
            (
                entry.species,
                self._forms.form(
                    f"influx_{k}",
                    [],
                    lambda entry=entry: entry.flux * boundary.weight * boundary.ds(entry.tag),
                ),
            )
            for k, entry in enumerate(self.boundaries.influx)
        ]

    def close(self) -> None:
        """Destroy the nonlinear solver. Its SNES holds this problem's callbacks, a
        reference cycle through PETSc that Python's garbage collector cannot see: without
        this every change of mesh or stage kept the old solver, its matrices and their
        factorisation (~100 MB per change of mesh at 25000 triangles)."""
        if self._nonlinear is not None:
            self._nonlinear.solver.destroy()
            self._nonlinear = None

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
        """Indices in the mixed array of the (collapsed) dofs of field ``sub``, in the order
        of the collapsed space (the same node order for every field)."""
        return np.asarray(self.V.sub(sub).collapse()[1]).ravel()

    @property
    def node_graph(self) -> tuple[np.ndarray, np.ndarray]:
        """Pairs (node, neighbour) of local nodes that share a cell, both orders, in
        collapsed-space numbering (ghosts included)."""
        return self._neighbours

    def _node_graph(self) -> tuple[np.ndarray, np.ndarray]:
        """Pairs (node, neighbour) of local nodes that share a cell, each pair once, in
        collapsed-space numbering (the P1 node graph)."""
        space = self.node_space
        cells = space.dofmap.list
        size = space.dofmap.index_map.size_local + space.dofmap.index_map.num_ghosts
        rows = np.repeat(cells, cells.shape[1], axis=1).ravel().astype(np.int64)
        cols = np.tile(cells, (1, cells.shape[1])).ravel().astype(np.int64)
        pairs = np.unique(rows[rows != cols] * size + cols[rows != cols])
        return pairs // size, pairs % size

    def local_nodal(self, sub: int) -> np.ndarray:
        """Nodal values of field ``sub`` on this rank, ghosts included (collapsed order)."""
        return self.w.x.array[self._field_dofs[sub]]

    def nodal(self, sub: int, state: fem.Function | None = None) -> np.ndarray:
        """Owned nodal values of field ``sub`` (u_i or psi), in the node order of the
        collapsed space."""
        return (state or self.w).x.array[self._owned_field_dofs[sub]]

    def fractions(self, state: fem.Function | None = None) -> np.ndarray:
        """Owned nodal n_i / n_ref, shape (N, owned nodes)."""
        return np.exp(np.array([self.nodal(i, state) for i in range(self.n_species)]))

    # --- initial state and history --------------------------------------------------------
    def set_state(self, values) -> None:
        """Set every time level to fields (u_1..u_N, psi), each a callable x -> values or an
        array of local nodal values (collapsed order)."""
        for i, f in enumerate(values):
            if callable(f):
                self.w.sub(i).interpolate(f)
            else:
                self.w.x.array[self._field_dofs[i]] = f
        self.w.x.scatter_forward()
        for bc in self.boundaries.dirichlet:
            bc.set(self.w.x.array)
        self.w_old.x.array[:] = self.w.x.array
        self.w_older.x.array[:] = self.w.x.array
        self.initial_fractions = self.fractions()

    def set_history(
        self, newest: np.ndarray, older: np.ndarray, initial_fractions: np.ndarray
    ) -> None:
        """Set the two latest time levels from local nodal arrays (rows u_1..u_N, psi;
        collapsed order, ghosts included), the newest also as the current state, and the
        initial densities that inventory changes are counted from (owned nodes)."""
        for level, values in ((self.w_old, newest), (self.w_older, older)):
            for i, dofs in enumerate(self._field_dofs):
                level.x.array[dofs] = values[i]
        self.w.x.array[:] = self.w_old.x.array
        self.initial_fractions = np.asarray(initial_fractions)

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
        """Start Newton above trapped floor values: a log-density at the floor among
        neighbours all far above it is a Newton overshoot that the floor caught; from there
        the linearised logarithmic-mean flux keeps pointing further down, and Newton stalls
        just above atol (seen at the front of the second beam of a double CAIT). The guess
        takes the mean of the neighbours instead (the stored history, and so the mass
        balance, is unchanged)."""
        u = self.w.x.array
        nodes, neighbours = self._neighbours
        size = len(self._field_dofs[0])
        counts = np.bincount(nodes, minlength=size)
        for dofs in self._field_dofs[: self.n_species]:
            values = u[dofs]
            at_floor = values <= LOG_FRACTION_FLOOR + 1e-9
            if not at_floor.any():
                continue
            sums = np.bincount(nodes, weights=values[neighbours], minlength=size)
            mean = sums / np.maximum(counts, 1)
            trapped = at_floor & (mean > LOG_FRACTION_FLOOR + TRAPPED_DIP_DEPTH) & (counts > 0)
            index = np.flatnonzero(trapped)
            u[dofs[index]] = mean[index]
        self.w.x.scatter_forward()

    def accept(self) -> None:
        """Make the solved state the newest time level."""
        self.w_older.x.array[:] = self.w_old.x.array
        self.w_old.x.array[:] = self.w.x.array

    # --- integrals -------------------------------------------------------------------------
    def inventories(self, fractions: np.ndarray | None = None) -> np.ndarray:
        """Integral of n_i / n_bg over the domain (lumped, as in the scheme: the sum of box
        volume times nodal value), per species; ``fractions``: the current `fractions()`,
        if the caller has them."""
        return self._box_sum(self.fractions() if fractions is None else fractions)

    def inventory_changes(self, fractions: np.ndarray | None = None) -> np.ndarray:
        """Change of the inventories since `set_state`, summed node by node (no cancellation
        of the large native inventory); ``fractions`` as in `inventories`."""
        current = self.fractions() if fractions is None else fractions
        return self._box_sum(current - self.initial_fractions)

    def _box_sum(self, nodal: np.ndarray) -> np.ndarray:
        """Sum over all nodes of box volume times ``nodal`` (owned values, one row each)."""
        return self._sum_over_ranks(nodal @ self._box_volumes)

    def _sum_over_ranks(self, local: np.ndarray) -> np.ndarray:
        """The sum over the ranks of a float array (a buffer reduction: no pickling)."""
        total = np.empty_like(local, dtype=float)
        self.comm.Allreduce(np.ascontiguousarray(local, dtype=float), total, op=MPI.SUM)
        return total

    def boundary_increments(self) -> np.ndarray:
        """Per species, what entered through the boundary during the step just solved.

        The residual of the unconstrained equations at the held (Dirichlet) dofs is the
        amount the scheme moved through them; prescribed influxes add dt * g. The sum is
        in the units of (a Q^{k+1} - b Q^k + g Q^{k-1}).
        """
        owned = self.V.dofmap.index_map.size_local
        sums = self._residual.held_sums(self.w.x.array[:owned])
        if sums is None:  # not what SNES evaluated last: evaluate it here
            x = self._nonlinear.x
            assign(self.w, x)
            self._residual(None, x, self._residual_vector)
            sums = self._residual.held_sums(self.w.x.array[:owned])
        total = self._sum_over_ranks(sums) * self.domain.lateral_measure
        dt = float(self.bdf.dt.value)
        for i, form in self._influx_forms:
            total[i] += dt * self.comm.allreduce(fem.assemble_scalar(form), op=MPI.SUM)
        return total

    def front_potential(self) -> float:
        """Mean psi over the exposed front (its value there in 1D)."""
        total, area = (
            self.comm.allreduce(fem.assemble_scalar(form), op=MPI.SUM)
            for form in self._front_potential_forms
        )
        return float(total / area)
