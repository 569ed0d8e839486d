"""The geometry layer: domains (mesh, tagged boundaries, regions, coordinate system) built
from a study's geometry section."""

from femcait.geometry.build import build_domain
from femcait.geometry.domain import Boundary, Domain

__all__ = ["Boundary", "Domain", "build_domain"]
