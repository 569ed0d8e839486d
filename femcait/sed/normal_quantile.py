"""Inverse of the standard normal CDF (probit), backend-generic (NumPy or UFL)."""

from __future__ import annotations

from femcait.sed.backend import NUMPY_OPS, Field, Ops

# P. J. Acklam's rational approximation, relative error < 1.15e-9 over (0, 1).
_A = (
    -3.969683028665376e01,
    2.209460984245205e02,
    -2.759285104469687e02,
    1.383577518672690e02,
    -3.066479806614716e01,
    2.506628277459239e00,
)
_B = (
    -5.447609879822406e01,
    1.615858368580409e02,
    -1.556989798598866e02,
    6.680131188771972e01,
    -1.328068155288572e01,
    1.0,
)
_C = (
    -7.784894002430293e-03,
    -3.223964580411365e-01,
    -2.400758277161838e00,
    -2.549732539343734e00,
    4.374664141464968e00,
    2.938163982698783e00,
)
_D = (
    7.784695709041462e-03,
    3.224671290700398e-01,
    2.445134137142996e00,
    3.754408661907416e00,
    1.0,
)
_P_LOW = 0.02425
_P_HIGH = 1.0 - _P_LOW


def _horner(coefficients: tuple[float, ...], x: Field) -> Field:
    """Polynomial with ``coefficients`` from the highest power down, at ``x``."""
    value = coefficients[0]
    for coefficient in coefficients[1:]:
        value = value * x + coefficient
    return value


def normal_quantile(p: Field, ops: Ops = NUMPY_OPS) -> Field:
    """Standard normal quantile ``x`` with ``Phi(x) = p`` for ``0 < p < 1``.

    Acklam's approximation (relative error < 1.15e-9): a rational function of
    ``p - 1/2`` for ``0.02425 <= p <= 1 - 0.02425``, a rational function of
    ``sqrt(-2 ln p)`` in the lower tail, and the upper tail by symmetry. Both branches are
    evaluated on arguments clamped to where they are finite and the result is selected with
    ``ops.where_less``, so no NaN or overflow arises in the branch not taken.
    """
    p_tail = ops.minimum(p, 1.0 - p)
    q_tail = ops.sqrt(-2.0 * ops.log(p_tail))
    lower_tail = _horner(_C, q_tail) / _horner(_D, q_tail)
    tail = ops.where_less(p, 0.5, lower_tail, -lower_tail)

    q = ops.minimum(ops.maximum(p, _P_LOW), _P_HIGH) - 0.5
    r = q * q
    central = q * _horner(_A, r) / _horner(_B, r)
    return ops.where_less(p_tail, _P_LOW, tail, central)
