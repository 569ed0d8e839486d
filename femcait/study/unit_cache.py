"""pint's unit registry with its parsed definitions cached on disk, safe for many processes.

pint can cache its parsed definitions (0.05 s instead of 0.4 s per start), but writes the
cache files in place: a process starting while another writes them reads a half-written
file and gets a broken registry, which then rejects "100 um" as a length. Here the cache
is built in a private temporary folder and renamed into place whole (the first process to
finish wins); a registry is used only after it converts a set of known quantities
correctly, and otherwise (a damaged cache, a read-only cache folder) it is built without
a cache, and a damaged cache is removed for the next start to rebuild.
"""

from __future__ import annotations

import contextlib
import math
import shutil
import tempfile
from decimal import Decimal
from pathlib import Path

import pint
import platformdirs

_PROBES = {
    "100 um": 1e-4,
    "0.25 eV": 0.25 * 1.602176634e-19,
    "1.4e28 m^-3": 1.4e28,
    "2.6e-21 m^2/s": 2.6e-21,
    "3 h": 10800.0,
    "5 V": 5.0,
    "300 K": 300.0,
    "10 uA/cm^2": 0.1,
}
"""Quantities a sound registry converts to these SI values."""


def cache_folder() -> Path:
    """Where the cache of this pint version lives (in the user's cache folder,
    $XDG_CACHE_HOME or ~/.cache)."""
    return platformdirs.user_cache_path("femcait", appauthor=False) / f"pint-{pint.__version__}"


def build_registry(folder: Path | None = None) -> pint.UnitRegistry:
    """A sound registry (Decimal arithmetic, so decimal prefixes stay exact), from the
    cache in ``folder`` (default `cache_folder`) where it can be."""
    folder = cache_folder() if folder is None else folder
    registry = _cached(folder)
    return registry if registry is not None else _sound(_new(None))


def _cached(folder: Path) -> pint.UnitRegistry | None:
    """A registry through the cache in ``folder`` (built first if missing), or None."""
    try:
        if not folder.is_dir():
            _build_cache(folder)
        registry = _new(folder)
        if _is_sound(registry):
            return registry
    except Exception:  # a damaged or unwritable cache: do without it
        pass
    _remove(folder)
    return None


def _build_cache(folder: Path) -> None:
    """Fill a private folder with the cache, then rename it to ``folder`` in one step."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    private = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    try:
        if not _is_sound(_new(private)):
            return
        with contextlib.suppress(OSError):  # another process was first; its cache is as good
            private.rename(folder)
    finally:
        shutil.rmtree(private, ignore_errors=True)


def _new(folder: Path | None) -> pint.UnitRegistry:
    return pint.UnitRegistry(non_int_type=Decimal, cache_folder=folder)


def _sound(registry: pint.UnitRegistry) -> pint.UnitRegistry:
    if not _is_sound(registry):
        raise RuntimeError("pint's unit registry converts known quantities wrongly")
    return registry


def _is_sound(registry: pint.UnitRegistry) -> bool:
    """Whether the registry converts every probe to its SI value."""
    try:
        for text, si in _PROBES.items():
            value = float(registry.Quantity(text).to_base_units().magnitude)
            if not math.isclose(value, si, rel_tol=1e-12):
                return False
    except Exception:  # a broken registry fails in many ways
        return False
    return True


def _remove(folder: Path) -> None:
    """Take a damaged cache out of the way (renamed first: others may be reading it)."""
    with contextlib.suppress(OSError):
        doomed = Path(tempfile.mkdtemp(prefix=f".{folder.name}.damaged.", dir=folder.parent))
        folder.rename(doomed / folder.name)
        shutil.rmtree(doomed, ignore_errors=True)
