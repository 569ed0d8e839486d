"""Array backends: the same formula evaluated on NumPy arrays or built as a UFL expression.

A law is written once as ``law(x, ops)`` and uses only the operations in :class:`Ops`,
never Python branching on values. With :data:`NUMPY_OPS` it returns numbers; with
:data:`UFL_OPS` it returns a UFL expression whose derivative UFL computes exactly
(the idea of FESTIM's ``u_exact(mod)``). Its parameters pass through ``ops.constant``:
:func:`ufl_ops` makes them ``fem.Constant`` objects, so that forms built for different
parameter values are the same form, compiled once (a sweep changes values, not code).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import ufl
from ufl.core.expr import Expr

type Field = float | npt.NDArray[np.floating] | Expr
"""A value a law accepts: a number, a NumPy array or a UFL expression."""


@dataclass(frozen=True)
class Ops:
    """The elementary operations a backend-generic law may use.

    Attributes:
        exp, log, sqrt: Elementwise exponential, natural logarithm, square root.
        maximum, minimum: Elementwise max / min of two values.
        where_less: ``where_less(a, b, if_true, if_false)`` is ``if_true`` where
            ``a < b`` and ``if_false`` elsewhere.
        ones_like: A backend-safe 1.0 shaped like its argument.
        constant: A parameter value as the backend holds it (a float, or a
            ``fem.Constant`` whose value can change without recompiling a form).
    """

    exp: Callable[[Any], Any]
    log: Callable[[Any], Any]
    sqrt: Callable[[Any], Any]
    maximum: Callable[[Any, Any], Any]
    minimum: Callable[[Any, Any], Any]
    where_less: Callable[[Any, Any, Any, Any], Any]
    ones_like: Callable[[Any], Any]
    constant: Callable[[float], Any] = float


NUMPY_OPS = Ops(
    exp=np.exp,
    log=np.log,
    sqrt=np.sqrt,
    maximum=np.maximum,
    minimum=np.minimum,
    where_less=lambda a, b, if_true, if_false: np.where(np.less(a, b), if_true, if_false),
    ones_like=lambda x: np.ones_like(x, dtype=float),
)
"""NumPy backend: evaluates a law on numbers and arrays."""

UFL_OPS = Ops(
    exp=ufl.exp,
    log=ufl.ln,
    sqrt=ufl.sqrt,
    maximum=ufl.max_value,
    minimum=ufl.min_value,
    where_less=lambda a, b, if_true, if_false: ufl.conditional(ufl.lt(a, b), if_true, if_false),
    ones_like=lambda x: 1.0,
)
"""UFL backend: builds a law as a UFL expression (exact Newton derivative in a weak form);
parameters are baked into the expression as numbers."""


def ufl_ops(mesh: Any) -> Ops:
    """UFL backend whose parameters are ``fem.Constant`` objects on ``mesh``."""
    from dolfinx import fem

    return dataclasses.replace(UFL_OPS, constant=lambda value: fem.Constant(mesh, float(value)))
