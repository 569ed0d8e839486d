"""femcait: Nernst-Planck-Poisson simulation of charge-attachment induced transport."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("femcait")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+unknown"
