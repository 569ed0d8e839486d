"""Quantity texts already converted by pint, remembered on disk between runs.

Importing pint took ~0.2 s of the default study's ~2 s end to end, for the same dozen
texts ("100 um", "5 V", ...) every time. A text that pint converted to an SI value of the
expected dimension is remembered with that value, keyed by text and dimension, in a JSON
file in the user cache folder; a study whose texts are all remembered needs no pint.
Only successful conversions are remembered (a wrong value or unit is always pint's to
judge). The file is named after the installed pint and femcait's unit code (their paths,
sizes and modification times), so an upgrade starts a new one; it is replaced whole
(written aside, then renamed), and a damaged or unreadable one is ignored.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib.util
import json
import os
import tempfile
from pathlib import Path

MAX_ENTRIES = 4096
"""A memo that grew beyond this (a sweep over many texts) starts again empty."""


@functools.cache
def memo_path() -> Path | None:
    """The memo of this pint and femcait, or None if pint is not found."""
    import platformdirs

    spec = importlib.util.find_spec("pint")
    if spec is None or spec.origin is None:
        return None
    here = Path(__file__).parent
    sources = [Path(spec.origin), here / "units.py", here / "unit_cache.py"]
    identity = "|".join(
        f"{path}:{(stat := path.stat()).st_size}:{stat.st_mtime_ns}" for path in sources
    )
    digest = hashlib.sha256(identity.encode()).hexdigest()[:16]
    return platformdirs.user_cache_path("femcait", appauthor=False) / f"quantities-{digest}.json"


@functools.cache
def _memo() -> dict[str, float]:
    path = memo_path()
    try:
        data = json.loads(path.read_text()) if path is not None else {}
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {k: v for k, v in data.items() if isinstance(k, str) and isinstance(v, float)}


def _key(text: str, dimension: str) -> str:
    return f"{dimension}\n{text}"


def recalled(text: str, dimension: str) -> float | None:
    """The SI value remembered for ``text`` as a quantity of ``dimension``, if any."""
    return _memo().get(_key(text, dimension))


def remember(text: str, dimension: str, value: float) -> None:
    """Remember a conversion pint made (best effort: a cache that cannot be written is
    left alone)."""
    memo = _memo()
    if len(memo) >= MAX_ENTRIES:
        memo.clear()
    memo[_key(text, dimension)] = value
    path = memo_path()
    if path is None:
        return
    with contextlib.suppress(OSError):
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, private = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        try:
            with os.fdopen(handle, "w") as stream:
                json.dump(memo, stream)
            os.replace(private, path)
        finally:
            with contextlib.suppress(OSError):
                os.unlink(private)
