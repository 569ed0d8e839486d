"""Site-energy distributions (SED) and the concentration-dependent D(n) they imply."""

from femcait.sed.backend import NUMPY_OPS, UFL_OPS, Field, Ops
from femcait.sed.diffusion import FILL_GAP, ConstantDiffusion, SEDDiffusion
from femcait.sed.gaussian import GaussianSED
from femcait.sed.normal_quantile import normal_quantile

__all__ = [
    "FILL_GAP",
    "NUMPY_OPS",
    "UFL_OPS",
    "ConstantDiffusion",
    "Field",
    "GaussianSED",
    "Ops",
    "SEDDiffusion",
    "normal_quantile",
]
