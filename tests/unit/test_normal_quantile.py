"""The backend-generic standard normal quantile (Acklam's probit) against SciPy's ndtri."""

from __future__ import annotations

import warnings

import numpy as np
from scipy.special import ndtri

from femcait.sed import normal_quantile


def test_normal_quantile_matches_ndtri() -> None:
    """Relative error below 1e-8 from p = 1e-12 to 1 - 1e-12 (Acklam: < 1.15e-9)."""
    tails = np.logspace(-12, np.log10(0.5), 1500)
    p = np.concatenate([tails, 1.0 - tails, np.linspace(1e-3, 1.0 - 1e-3, 4001)])
    with warnings.catch_warnings(), np.errstate(divide="raise", over="raise", invalid="raise"):
        warnings.simplefilter("error")
        x = normal_quantile(p)
    ref = ndtri(p)
    nonzero = ref != 0.0
    err = float(np.max(np.abs(x[nonzero] - ref[nonzero]) / np.abs(ref[nonzero])))
    print(f"normal_quantile max relative error vs ndtri: {err:.3e}")
    assert err < 1e-8
    # where the quantile is 0, the absolute error counts
    assert np.all(np.abs(x[~nonzero]) < 1e-15)
    assert normal_quantile(0.5) == 0.0


def test_normal_quantile_symmetric() -> None:
    """x(1 - p) = -x(p), bit for bit, in both tails and the central region."""
    p = np.concatenate([np.logspace(-12, np.log10(0.4), 200), np.linspace(0.03, 0.49, 47)])
    assert np.array_equal(normal_quantile(1.0 - p), -normal_quantile(1.0 - (1.0 - p)))
