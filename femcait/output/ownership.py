"""Which folders femcait may replace: only those it wrote itself, as it wrote them.

Every folder femcait creates (a run, a `femcait sed` analysis, a sweep) carries a marker
file, `.femcait-folder`: JSON with the kind of folder, the femcait version and a random
id, and, for run and sed folders, every path femcait wrote there. A new run replaces an
existing folder only if it is empty, or marked by femcait as the same kind and holding
nothing but the paths its marker lists. Anything else (a user's file added to a run
folder, a folder without a marker, such as one written by femcait 0.1.0) is refused, so
femcait never deletes what it did not write.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from pathlib import Path
from typing import Literal

import femcait
from femcait.output.atomic import replacing, temporary_sibling

MARKER = ".femcait-folder"
"""The marker file femcait writes into every folder it creates."""

Kind = Literal["run", "sed", "sweep", "fit"]

CONTAINERS = ("sweep", "fit")
"""Kinds of folder that femcait writes into over time (run folders inside), rather than
replacing as a whole."""

_LEGACY_FILES = ("summary.json", "study.json", "sed.json", "sweep.json")
"""Files by which a folder of femcait 0.1.0 (no marker yet) can be recognised."""


def mark(folder: Path, kind: Kind) -> None:
    """Write the marker into ``folder``, listing every path in it now (all femcait's)."""
    folder = Path(folder)
    content = {
        "kind": kind,
        "femcait_version": femcait.__version__,
        "id": uuid.uuid4().hex,
        "paths": [] if kind in CONTAINERS else sorted(_paths(folder)),
    }
    with replacing(folder / MARKER) as temporary:
        temporary.write_text(json.dumps(content, indent=2) + "\n")


def read_marker(folder: Path) -> dict | None:
    """The marker of ``folder``, or None if it has no valid one."""
    try:
        content = json.loads((Path(folder) / MARKER).read_text())
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    if not (
        isinstance(content, dict)
        and content.get("kind") in ("run", "sed", *CONTAINERS)
        and isinstance(content.get("paths"), list)
    ):
        return None
    return content


def replace_problem(target: Path, kind: Kind) -> str | None:
    """Why a new folder of ``kind`` may not take the place of ``target`` (None if it may):
    femcait replaces only an empty folder or one it marked as ``kind`` that holds only
    what femcait wrote there. For a sweep or a fit, "replace" means "write into"."""
    target = Path(target)
    try:
        if target.is_symlink():
            return f"{target} is a symbolic link; give the folder it points to, or another --out"
        if not target.exists():
            return None
        if not target.is_dir():
            return f"{target} exists and is not a folder; choose another --out"
        entries = [entry.name for entry in os.scandir(target)]
    except OSError as error:
        return f"{target}: cannot inspect it ({error.strerror or error})"
    if not entries:
        return None
    marker = read_marker(target)
    if marker is None:
        return _unmarked(target, entries, kind)
    if marker["kind"] != kind:
        return (
            f"{target} is a femcait {marker['kind']} folder, not a {kind} folder; "
            "choose another --out"
        )
    if kind in CONTAINERS:
        return None
    foreign = sorted(_paths(target) - set(marker["paths"]) - {MARKER})
    if foreign:
        shown = ", ".join(repr(path) for path in foreign[:3])
        more = f" and {len(foreign) - 3} more" if len(foreign) > 3 else ""
        return (
            f"{target} holds files femcait did not write there ({shown}{more}); femcait "
            "replaces only its own output: move them away or choose another --out"
        )
    return None


def create_marked(out: Path, kind: Kind) -> None:
    """Create OUT with its marker in one rename, unless a folder is there already (another
    job-array task may be creating the same sweep folder at the same moment)."""
    if out.exists() and any(out.iterdir()):
        return
    temporary = temporary_sibling(out, "partial")
    temporary.mkdir(parents=True)
    mark(temporary, kind)
    try:
        os.rename(temporary, out)  # replaces an empty folder; fails on a full one
    except OSError:
        shutil.rmtree(temporary, ignore_errors=True)
        if not out.is_dir():
            raise


def _unmarked(target: Path, entries: list[str], kind: Kind) -> str:
    """The message for a non-empty folder without a marker."""
    if any(name in entries for name in _LEGACY_FILES):
        return (
            f"{target} has no {MARKER} marker: it was written by femcait 0.1.0 or holds "
            "other data, and femcait replaces only folders it marked; move it away or "
            "delete it yourself, or choose another --out"
        )
    return (
        f"{target} exists and is not a femcait output folder (no {MARKER}); "
        "choose another --out, or empty it"
    )


def _paths(folder: Path) -> set[str]:
    """Every file and folder below ``folder``, as POSIX paths relative to it."""
    found: set[str] = set()
    for root, dirs, files in os.walk(folder):
        base = Path(root).relative_to(folder)
        found.update((base / name).as_posix() for name in [*dirs, *files])
    found.discard(MARKER)
    return found
