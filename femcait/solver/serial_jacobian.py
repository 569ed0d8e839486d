"""The Jacobian of a one-rank run, assembled by DOLFINx into a CSR matrix that PETSc shares.

DOLFINx assembles into a PETSc matrix through MatSetValuesLocal, which for the default
study cost more than the element kernels (~250 of ~410 us per Jacobian of 423 cells);
into its own CSR matrix (`dolfinx.la.MatrixCSR`) it inserts ~2.5 times faster. On one
rank the PETSc matrix is created on the CSR matrix's arrays (MatCreateSeqAIJWithArrays:
no copy), so assembling into the CSR matrix fills PETSc's; `Mat.assemble` then marks it
changed, and the LU factorisation is redone. Parallel runs keep DOLFINx's PETSc assembly.
"""

from __future__ import annotations

from collections.abc import Sequence

import dolfinx.cpp
import numpy as np
from dolfinx import fem
from dolfinx.fem.assemble import pack_coefficients, pack_constants
from dolfinx.fem.petsc import assign
from petsc4py import PETSc


class SerialJacobian:
    """A PETSc matrix sharing its values with a DOLFINx CSR matrix, and the SNES Jacobian
    callback that assembles ``form`` (Dirichlet rows: identity) into it."""

    def __init__(self, form: fem.Form, bcs: Sequence[fem.DirichletBC], state: fem.Function):
        if form.mesh.comm.size != 1:
            raise ValueError("SerialJacobian is for one-rank runs")
        self._form = form
        self._bcs = [bc._cpp_object for bc in bcs]
        self._state = state
        self._csr = fem.create_matrix(form)
        rows = self._csr.index_map(0).size_local * self._csr.block_size[0]
        columns = self._csr.index_map(1).size_local * self._csr.block_size[1]
        # PETSc keeps pointers to these arrays: they must live as long as the matrix
        self._indptr = np.ascontiguousarray(self._csr.indptr, dtype=PETSc.IntType)
        self._indices = np.ascontiguousarray(self._csr.indices, dtype=PETSc.IntType)
        self.matrix = PETSc.Mat().createAIJWithArrays(
            (rows, columns), (self._indptr, self._indices, self._csr.data), comm=PETSc.COMM_SELF
        )

    def assemble(self, _snes, x: PETSc.Vec, _J: PETSc.Mat, _P: PETSc.Mat) -> None:
        """The SNES Jacobian callback: the Jacobian at ``x``."""
        assign(x, self._state)
        self._csr.data[:] = 0.0
        form = self._form
        dolfinx.cpp.fem.assemble_matrix(
            self._csr._cpp_object,
            form._cpp_object,
            pack_constants(form),
            pack_coefficients(form),
            self._bcs,
        )
        dolfinx.cpp.fem.insert_diagonal(
            self._csr._cpp_object, form.function_spaces[0], self._bcs, 1.0
        )
        self.matrix.assemble()
