"""Checks of an output path (``--out``) before anything is computed or written.

`target_problem` says, in one line, why a folder cannot be created or replaced at a path:
a name too long for the file system, a path through a regular file or a symbolic link
loop, a read-only or non-writable place, or an existing folder femcait may not replace
(`femcait.output.ownership`). It only looks (and creates and removes an empty probe
folder next to the target); the folder itself is created when the run is done.
"""

from __future__ import annotations

import errno
import os
import tempfile
from pathlib import Path

from femcait.output.ownership import CONTAINERS, Kind, replace_problem

TEMPORARY_SUFFIX_LENGTH = len(".partial-12345678") + 1
"""What femcait adds to a folder name for its temporary sibling (`output.atomic`)."""

_DEFAULT_NAME_MAX = 255
_DEFAULT_PATH_MAX = 4096


def target_problem(target: Path, kind: Kind) -> str | None:
    """Why a ``kind`` folder cannot be written at ``target`` (None if it can)."""
    problem = _problem(Path(target), kind)
    if problem is None:
        return None
    shown = str(target) if len(str(target)) <= 80 else f"{str(target)[:50]}...{str(target)[-20:]}"
    return problem.replace(str(target), shown, 1)


def _problem(target: Path, kind: Kind) -> str | None:
    if target.name in ("", ".", ".."):
        target = Path(os.path.abspath(target))
        if not target.name:
            return f"{target}: give a folder name, not the file system root"
    try:
        absolute = Path(os.path.abspath(target))
        ancestor = _existing_ancestor(absolute)
    except OSError as error:
        return _os_problem(target, error)
    if ancestor == absolute and not ancestor.is_dir():
        return f"{target} exists and is not a folder; choose another --out"
    if not ancestor.is_dir():
        return f"{target}: {ancestor} is a file, not a folder; choose another --out"
    problem = _length_problem(target, absolute, ancestor)
    if problem is not None:
        return problem
    problem = replace_problem(absolute, kind)
    if problem is not None:
        return problem
    # where femcait will create folders: a sweep or fit writes into its folder, a run or an
    # analysis next to it (a temporary sibling, renamed into place)
    place = ancestor if ancestor != absolute or kind in CONTAINERS else absolute.parent
    if not os.access(place, os.W_OK | os.X_OK):
        reason = "read-only file system" if _read_only(place) else "no write permission"
        return f"{target}: cannot write in {place} ({reason}); choose another --out"
    problem = _probe(place)
    if problem is not None:
        return f"{target}: cannot create a folder in {place} ({problem}); choose another --out"
    return None


def _probe(folder: Path) -> str | None:
    """Why no folder can be created in ``folder`` (a virtual file system such as /proc or
    /sys refuses what permissions allow); the probe folder is removed at once."""
    try:
        os.rmdir(tempfile.mkdtemp(prefix=".femcait-probe-", dir=folder))
    except OSError as error:
        return error.strerror or str(error)
    return None


def _existing_ancestor(path: Path) -> Path:
    """The deepest existing folder or file on ``path`` (``path`` itself if it exists);
    OSError for a symbolic link loop, a path through a file, or no permission."""
    for candidate in (path, *path.parents):
        try:
            os.stat(candidate)
            return candidate
        except FileNotFoundError:
            if os.path.islink(candidate):  # a dangling link: creating through it fails
                raise OSError(errno.ENOENT, "a symbolic link to nothing", str(candidate)) from None
            continue
        except NotADirectoryError:
            continue  # a component above is a file: found on the way up
    return Path(path.anchor)


def _length_problem(target: Path, absolute: Path, ancestor: Path) -> str | None:
    """A name or path too long for the file system that will hold it."""
    name_max = _pathconf(ancestor, "PC_NAME_MAX", _DEFAULT_NAME_MAX)
    path_max = _pathconf(ancestor, "PC_PATH_MAX", _DEFAULT_PATH_MAX)
    for part in absolute.parts[len(ancestor.parts) :]:
        size = len(os.fsencode(part))
        allowed = name_max - (TEMPORARY_SUFFIX_LENGTH if part == absolute.name else 0)
        if size > allowed:
            return (
                f"{target}: the name {part[:40]!r}... has {size} bytes; at most {allowed} "
                f"are allowed ({name_max} on this file system, less {TEMPORARY_SUFFIX_LENGTH} "
                "for femcait's temporary name); choose a shorter --out or study name"
            )
    size = len(os.fsencode(str(absolute))) + TEMPORARY_SUFFIX_LENGTH
    if size > path_max:
        return (
            f"{target}: the path has {size} bytes with femcait's temporary name, more than "
            f"the {path_max} this file system allows; choose a shorter --out"
        )
    return None


def _pathconf(path: Path, name: str, default: int) -> int:
    try:
        return int(os.pathconf(path, name))
    except (OSError, ValueError):
        return default


def _read_only(path: Path) -> bool:
    try:
        return bool(os.statvfs(path).f_flag & os.ST_RDONLY)
    except OSError:
        return False


def _os_problem(target: Path, error: OSError) -> str:
    """One line for an OSError met while looking at ``target``."""
    if error.errno == errno.ELOOP:
        return f"{target}: the path runs through a symbolic link loop; choose another --out"
    if error.errno == errno.ENAMETOOLONG:
        return f"{target}: the path or one of its names is too long for the file system"
    where = f" ({error.filename})" if error.filename else ""
    return f"{target}: cannot use this path: {error.strerror or error}{where}"
