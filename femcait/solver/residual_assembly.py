"""The SNES residual callback: lifting only when needed, and what crossed the held dofs.

DOLFINx's `NonlinearProblem` residual lifts the boundary conditions into the vector (an
assembly of the Jacobian's columns at the held dofs) in every Newton iteration: for the
default study ~40 % of the ~100 us a residual took. Lifting adds J (g - x) at the held
columns, zero once an iterate carries the boundary values g, which Newton's first update
gives them and later updates keep (their rows are x - g, with identity in the Jacobian).
So this callback lifts only at an iterate that differs from g somewhere: the start of a
step after the conditions changed (a new experiment stage). Otherwise the results are
those of DOLFINx's residual, bit for bit.

It also keeps, from its latest call, the unconstrained residual at the held dofs (what the
scheme moved through them) with the iterate it belongs to: the last residual SNES
evaluates is at its final iterate, so `TransportProblem.boundary_increments` needs no
assembly of its own.
"""

from __future__ import annotations

from collections.abc import Sequence

import dolfinx.cpp
import numpy as np
from dolfinx import fem
from dolfinx.fem.assemble import pack_coefficients, pack_constants
from dolfinx.fem.petsc import apply_lifting, assign
from mpi4py import MPI
from petsc4py import PETSc


class ResidualAssembly:
    """The residual of ``form`` at an iterate, held rows x - g (the SNES function callback)."""

    def __init__(
        self,
        form: fem.Form,
        jacobian: fem.Form,
        bcs: Sequence[fem.DirichletBC],
        state: fem.Function,
        held_dofs: Sequence[np.ndarray],
    ) -> None:
        """``held_dofs``: per species, the owned dofs (indices in the mixed array) whose
        unconstrained residual is kept (empty for a species held nowhere)."""
        self._form = form
        self._jacobian = jacobian
        self._bcs = list(bcs)
        self._state = state
        self._held = list(held_dofs)
        self._iterate = np.empty(0)
        self._held_sums = np.zeros(len(self._held))
        self._gap = np.empty(0)
        self._comm = state.function_space.mesh.comm

    def __call__(self, _snes, x: PETSc.Vec, b: PETSc.Vec) -> None:
        x.ghostUpdate(addv=PETSc.InsertMode.INSERT, mode=PETSc.ScatterMode.FORWARD)
        assign(x, self._state)
        form = self._form
        with b.localForm() as local:
            local.set(0.0)
            dolfinx.cpp.fem.assemble_vector(
                local.array_w, form._cpp_object, pack_constants(form), pack_coefficients(form)
            )
        if self._off_boundary_values(x):
            apply_lifting(b, [self._jacobian], bcs=[self._bcs], x0=[x], alpha=-1.0)
        b.ghostUpdate(addv=PETSc.InsertMode.ADD, mode=PETSc.ScatterMode.REVERSE)
        values = b.array_r
        self._held_sums = np.array([values[dofs].sum() for dofs in self._held])
        self._iterate = x.array_r.copy()
        for bc in self._bcs:
            bc.set(b.array_w, x.array_r, -1.0)  # held rows: x - g

    def _off_boundary_values(self, x: PETSc.Vec) -> bool:
        """Whether ``x`` differs from the boundary values anywhere (on any rank)."""
        if self._gap.size != x.getLocalSize():
            self._gap = np.zeros(x.getLocalSize())
        gap = self._gap
        gap[:] = 0.0
        for bc in self._bcs:
            bc.set(gap, x.array_r, -1.0)  # x - g at the held dofs, 0 elsewhere
        off = bool(gap.any())
        return self._comm.allreduce(off, op=MPI.LOR) if self._comm.size > 1 else off

    def held_sums(self, state: np.ndarray) -> np.ndarray | None:
        """Per species, the sum of the unconstrained residual over its held owned dofs, if
        the latest call was at ``state`` (owned values of the mixed array); else None."""
        if not np.array_equal(self._iterate, state):
            return None
        return self._held_sums.copy()
