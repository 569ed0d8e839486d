"""Many processes starting at once on an empty cache (a job array on fresh nodes): the
caches they build together (pint's unit definitions, matplotlib's fonts, the compiled
forms) never make a valid study fail."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from femcait.study import unit_cache
from tests.conftest import DEFAULT_STUDY, write_study
from tests.hostile import tiny_study

FEMCAIT = str(Path(sys.executable).parent / "femcait")


def _start_together(commands: list[list[str]], cache: Path) -> list[subprocess.CompletedProcess]:
    """Start every command at once with ``cache`` as the (empty) user cache."""
    env = {k: v for k, v in os.environ.items() if k not in ("MPLCONFIGDIR",)}
    env["XDG_CACHE_HOME"] = str(cache)
    processes = [
        subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
        )
        for command in commands
    ]
    results = []
    for process in processes:
        stdout, stderr = process.communicate(timeout=900)
        results.append(
            subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)
        )
    return results


def test_concurrent_analyses_on_an_empty_cache(tmp_path):
    """Five `femcait sed` at once: each loads the study (units) and draws (fonts)."""
    cache = tmp_path / "cache"
    commands = [
        [FEMCAIT, "sed", str(DEFAULT_STUDY), "--out", str(tmp_path / f"sed{i}")] for i in range(5)
    ]
    for result in _start_together(commands, cache):
        assert result.returncode == 0, result.stderr
        assert "Traceback" not in result.stderr
    assert all((tmp_path / f"sed{i}" / "sed.json").is_file() for i in range(5))
    assert (cache / "femcait").is_dir() and (cache / "matplotlib").is_dir()


def test_concurrent_runs_on_an_empty_cache(tmp_path):
    """Three runs at once also compile the same forms together."""
    cache = tmp_path / "cache"
    study = write_study(tiny_study(), tmp_path / "tiny.yaml")
    commands = [
        [FEMCAIT, "run", str(study), "--out", str(tmp_path / f"run{i}"), "--quiet"]
        for i in range(3)
    ]
    for result in _start_together(commands, cache):
        assert result.returncode == 0, result.stderr
    assert all((tmp_path / f"run{i}" / "summary.json").is_file() for i in range(3))
    assert any((cache / "fenics").glob("*.c.cached"))


def test_a_damaged_unit_cache_is_not_used_and_is_rebuilt(tmp_path):
    folder = tmp_path / "pint-cache"
    unit_cache.build_registry(folder)
    pickles = list(folder.glob("*.pickle"))
    assert pickles
    for pickle in pickles:  # as a process killed while writing would leave them
        pickle.write_bytes(pickle.read_bytes()[:50])
    registry = unit_cache.build_registry(folder)
    assert float(registry.Quantity("100 um").to_base_units().magnitude) == pytest.approx(1e-4)
    assert not folder.exists() or all(p.stat().st_size > 50 for p in folder.glob("*.pickle"))
    assert unit_cache.build_registry(folder)  # and the next start builds it again
    assert list(folder.glob("*.pickle"))


def test_an_unwritable_cache_place_gives_a_registry_without_cache(tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    registry = unit_cache.build_registry(blocker / "pint-cache")
    assert float(registry.Quantity("3 h").to_base_units().magnitude) == 10800.0
    assert blocker.read_text() == "not a folder"
