"""femcait's physical constants are scipy's (CODATA) values."""

from __future__ import annotations

from scipy import constants as scipy_constants

from femcait import constants


def test_the_constants_are_scipys():
    for name in ("e", "k", "epsilon_0"):
        assert getattr(constants, name) == getattr(scipy_constants, name), name
