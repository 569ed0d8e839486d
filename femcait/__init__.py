"""femcait: Nernst-Planck-Poisson simulation of charge-attachment induced transport."""

from __future__ import annotations

import functools


def __getattr__(name: str) -> str:
    """``femcait.__version__``, looked up on first use (importlib.metadata takes 0.1 s,
    which the command line's start-up, where a signal cannot yet be handled, should not)."""
    if name == "__version__":
        return _version()
    raise AttributeError(f"module 'femcait' has no attribute {name!r}")


@functools.cache
def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("femcait")
    except PackageNotFoundError:  # running from a source tree that is not installed
        return "0.0.0+unknown"
