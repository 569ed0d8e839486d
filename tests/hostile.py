"""Helpers of the hostile-input tests: refusals and "nothing else was touched"."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

from tests.conftest import default_study_dict


def tiny_study() -> dict:
    """The default study cut to 20 s (a run of a few seconds)."""
    study = default_study_dict()
    study["experiment"].update(duration="20 s", output_times=[])
    return study


def snapshot(root: Path) -> dict[str, tuple]:
    """Every path below ``root``: its kind and, for files, size and content hash."""
    state: dict[str, tuple] = {}
    for path in sorted(Path(root).rglob("*")):
        key = str(path.relative_to(root))
        if path.is_symlink():
            state[key] = ("link", str(path.readlink()))
        elif path.is_dir():
            state[key] = ("dir",)
        else:
            data = path.read_bytes()
            state[key] = ("file", len(data), hashlib.sha256(data).hexdigest())
    return state


def assert_refused(result: subprocess.CompletedProcess, *words: str, code: int = 2) -> str:
    """Exit ``code``, no traceback, and one line of stderr that holds every word (the
    key, file or option named); returns that line."""
    output = result.stdout + result.stderr
    assert result.returncode == code, output
    assert "Traceback" not in output, output
    lines = [line for line in result.stderr.splitlines() if all(w in line for w in words)]
    assert lines, f"no line of stderr holds all of {words}:\n{result.stderr}"
    return lines[0]
