"""Piecewise functions as balanced trees of comparisons, backend-generic (NumPy or UFL).

A table with N intervals becomes a tree of depth log2(N): UFL and FFCx handle thousands of
intervals this way, where a linear chain of conditionals exhausts Python's recursion limit.
"""

from __future__ import annotations

from collections.abc import Sequence

from femcait.sed.backend import Field, Ops


def select(x: Field, breakpoints: Sequence[float], values: Sequence[float], ops: Ops) -> Field:
    """``values[i]`` where ``breakpoints[i-1] <= x < breakpoints[i]``.

    ``values`` has one entry more than ``breakpoints`` (which must increase): ``values[0]``
    applies below ``breakpoints[0]``, ``values[-1]`` from ``breakpoints[-1]`` up.
    """
    if len(values) != len(breakpoints) + 1:
        raise ValueError("select needs one value more than breakpoints")

    def subtree(lo: int, hi: int) -> Field:
        # values[lo..hi] with breakpoints[lo..hi-1] between them
        if lo == hi:
            return ops.constant(values[lo]) * ops.ones_like(x)
        mid = (lo + hi) // 2
        below, above = subtree(lo, mid), subtree(mid + 1, hi)
        return ops.where_less(x, ops.constant(breakpoints[mid]), below, above)

    return subtree(0, len(values) - 1)
