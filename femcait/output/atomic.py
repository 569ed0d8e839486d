"""Files and folders that appear complete or not at all: written under a temporary hidden
name next to their target, then renamed into place."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from pathlib import Path


def temporary_sibling(target: Path, tag: str) -> Path:
    """A fresh hidden name next to ``target``: ``.<name>.<tag>-<8 hex digits>``."""
    return target.parent / f".{target.name}.{tag}-{uuid.uuid4().hex[:8]}"


@contextlib.contextmanager
def replacing(target: Path) -> Iterator[Path]:
    """Yield a temporary path to write instead of ``target``; on success it replaces
    ``target`` in one rename, on an exception it is removed and ``target`` is untouched."""
    temporary = temporary_sibling(Path(target), "tmp")
    try:
        yield temporary
        os.replace(temporary, target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
