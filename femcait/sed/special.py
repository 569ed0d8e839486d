"""The normal and logistic distribution functions, with scipy.special imported at the
first call: a run evaluates its SED in UFL and needs neither, and importing
scipy.special costs ~0.3 s of every start (measured on the 2-core benchmark machine)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt


def ndtr(x: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Standard normal cumulative distribution function."""
    from scipy.special import ndtr as _ndtr

    return _ndtr(x)


def expit(x: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Logistic function 1 / (1 + exp(-x))."""
    from scipy.special import expit as _expit

    return _expit(x)
