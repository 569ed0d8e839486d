"""Site-energy distributions (SED), ionic Fermi levels and the D(n) laws they imply."""

from femcait.sed.backend import NUMPY_OPS, UFL_OPS, Field, Ops, ufl_ops
from femcait.sed.diffusion import (
    FILL_LIMIT,
    ConstantDiffusion,
    DiffusionLaw,
    SEDDiffusion,
    TabulatedDiffusion,
)
from femcait.sed.distribution import Shape, SiteEnergyDistribution
from femcait.sed.gaussian_sum import GaussianSumShape
from femcait.sed.inverse import InferredPSED, psed_from_diffusion
from femcait.sed.normal_quantile import normal_quantile
from femcait.sed.shapes import GaussianShape, LogisticShape, UniformShape
from femcait.sed.tabulated import TabulatedShape

__all__ = [
    "FILL_LIMIT",
    "NUMPY_OPS",
    "UFL_OPS",
    "ConstantDiffusion",
    "DiffusionLaw",
    "Field",
    "GaussianShape",
    "GaussianSumShape",
    "InferredPSED",
    "LogisticShape",
    "Ops",
    "SEDDiffusion",
    "Shape",
    "SiteEnergyDistribution",
    "TabulatedDiffusion",
    "TabulatedShape",
    "UniformShape",
    "normal_quantile",
    "psed_from_diffusion",
    "ufl_ops",
]
