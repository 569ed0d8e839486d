"""Hostile and careless output folders: femcait never deletes or changes what it did not
write, and a path it cannot use is one line on stderr (exit 2), never a traceback.

Each refusal is checked against a snapshot of everything around the target: nothing may
change outside a folder femcait created.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from femcait.output.ownership import MARKER
from tests.conftest import DEFAULT_STUDY, femcait, write_study
from tests.hostile import assert_refused, snapshot, tiny_study


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Path:
    """A tiny study file."""
    return write_study(tiny_study(), tmp_path_factory.mktemp("tiny") / "tiny.yaml")


@pytest.fixture(scope="module")
def earlier_run(tiny, tmp_path_factory) -> Path:
    """A run folder femcait wrote (kept pristine; tests work on copies)."""
    out = tmp_path_factory.mktemp("earlier") / "run"
    femcait("run", str(tiny), "--out", str(out), "--quiet")
    return out


def _copy(folder: Path, where: Path) -> Path:
    return Path(shutil.copytree(folder, where / folder.name, symlinks=True))


def _run(study: Path, out: Path, *extra: str):
    return femcait("run", str(study), "--out", str(out), "--quiet", *extra, check=False)


# --- class 1: lost data ------------------------------------------------------------------


def test_a_run_folder_carries_a_marker_listing_what_femcait_wrote(earlier_run):
    marker = json.loads((earlier_run / MARKER).read_text())
    assert marker["kind"] == "run"
    on_disk = sorted(p.name for p in earlier_run.iterdir() if p.name != MARKER)
    assert marker["paths"] == on_disk
    assert {"summary.json", "study.json", "profiles.csv"} <= set(on_disk)


def test_an_untouched_marked_run_folder_is_replaced(tiny, earlier_run, tmp_path):
    out = _copy(earlier_run, tmp_path)
    before = json.loads((out / MARKER).read_text())["id"]
    result = _run(tiny, out)
    assert result.returncode == 0, result.stderr
    assert json.loads((out / MARKER).read_text())["id"] != before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]  # no temporary left


def test_user_files_with_femcait_names_are_not_replaced(tiny, tmp_path):
    """The issue's case: a folder of the user's own files plus a study.json and a
    summary.json used to be taken for an earlier run and deleted."""
    out = tmp_path / "mine"
    out.mkdir()
    (out / "study.json").write_text("{}")
    (out / "summary.json").write_text("{}")
    (out / "thesis.tex").write_text("years of work")
    before = snapshot(tmp_path)
    assert_refused(_run(tiny, out), str(out), MARKER)
    assert snapshot(tmp_path) == before


def test_a_file_added_to_a_marked_run_folder_protects_it(tiny, earlier_run, tmp_path):
    out = _copy(earlier_run, tmp_path)
    (out / "notes.txt").write_text("my analysis")
    (out / "extra").mkdir()
    (out / "extra" / "fit.py").write_text("print(1)")
    before = snapshot(tmp_path)
    assert_refused(_run(tiny, out), "did not write", "'extra'", "'notes.txt'")
    assert snapshot(tmp_path) == before


def test_a_femcait_0_1_0_folder_without_marker_is_refused(tiny, earlier_run, tmp_path):
    out = _copy(earlier_run, tmp_path)
    (out / MARKER).unlink()  # exactly what femcait 0.1.0 wrote
    before = snapshot(tmp_path)
    line = assert_refused(_run(tiny, out), str(out), "0.1.0")
    assert "delete it yourself" in line
    assert snapshot(tmp_path) == before


def test_a_forged_or_broken_marker_protects_the_folder(tiny, earlier_run, tmp_path):
    out = _copy(earlier_run, tmp_path)
    (out / MARKER).write_text("not json")
    before = snapshot(tmp_path)
    assert_refused(_run(tiny, out), str(out))
    assert snapshot(tmp_path) == before


def test_a_sed_folder_is_not_replaced_by_a_run(tmp_path):
    sed = tmp_path / "analysis"
    femcait("sed", str(DEFAULT_STUDY), "--out", str(sed))
    assert json.loads((sed / MARKER).read_text())["kind"] == "sed"
    before = snapshot(tmp_path)
    assert_refused(_run(DEFAULT_STUDY, sed), "femcait sed folder", "not a run folder")
    assert snapshot(tmp_path) == before
    (sed / "mine.csv").write_text("1,2\n")
    before = snapshot(tmp_path)
    result = femcait("sed", str(DEFAULT_STUDY), "--out", str(sed), check=False)
    assert_refused(result, "'mine.csv'")
    assert snapshot(tmp_path) == before


def test_a_sweep_folder_of_other_data_is_refused(tmp_path):
    study = tiny_study()
    study["sweep"] = {"parameters": {"species.K.diffusion.D": {"values": ["2e-21 m^2/s"]}}}
    path = write_study(study, tmp_path / "sweep.yaml")
    out = tmp_path / "out"
    out.mkdir()
    (out / "sweep.json").write_text("{}")
    (out / "data.csv").write_text("keep")
    before = snapshot(tmp_path)
    assert_refused(_run(path, out), str(out), MARKER)
    assert snapshot(tmp_path) == before


def test_a_user_file_in_a_sweep_case_folder_stops_the_sweep(tmp_path, earlier_run):
    study = tiny_study()
    study["sweep"] = {"parameters": {"species.K.diffusion.D": {"values": ["2e-21 m^2/s"]}}}
    path = write_study(study, tmp_path / "sweep.yaml")
    out = tmp_path / "out"
    out.mkdir()
    (out / MARKER).write_text(json.dumps({"kind": "sweep", "paths": []}))
    (out / "cases").mkdir()
    _copy(earlier_run, out / "cases").rename(out / "cases" / "D=2e-21m2_s")
    (out / "cases" / "D=2e-21m2_s" / "notes.txt").write_text("mine")
    before = snapshot(tmp_path)
    assert_refused(_run(path, out), "D=2e-21m2_s", "'notes.txt'")
    assert snapshot(tmp_path) == before


# --- class 3: output paths femcait cannot use --------------------------------------------


def _bad_targets(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    """Output paths that cannot work, and a word the message must hold."""
    (tmp_path / "a_file").write_text("keep")
    (tmp_path / "loop_a").symlink_to(tmp_path / "loop_b")
    (tmp_path / "loop_b").symlink_to(tmp_path / "loop_a")
    (tmp_path / "dangling").symlink_to(tmp_path / "nowhere")
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real")
    return {
        "under a file": (tmp_path / "a_file" / "run", "is a file"),
        "a file": (tmp_path / "a_file", "not a folder"),
        "symlink loop": (tmp_path / "loop_a" / "run", "symbolic link loop"),
        "dangling symlink": (tmp_path / "dangling", "symbolic link to nothing"),
        "symlink to a folder": (tmp_path / "link", "symbolic link"),
        "name too long": (tmp_path / ("n" * 300), "too long"),
        "name too long with femcait's suffix": (tmp_path / ("n" * 250), "at most 237"),
        "virtual file system (proc)": (Path("/proc/femcait-test/run"), "cannot create a folder"),
        "virtual file system (sys)": (Path("/sys/femcait-test"), "cannot create a folder"),
    }


@pytest.mark.parametrize("command", ["run", "sed"])
def test_unusable_output_paths_are_one_line_errors(tmp_path, command):
    targets = _bad_targets(tmp_path)
    before = snapshot(tmp_path)
    for what, (out, word) in targets.items():
        result = femcait(command, str(DEFAULT_STUDY), "--out", str(out), check=False)
        line = assert_refused(result, word)
        assert str(out)[:50] in line, what
    assert snapshot(tmp_path) == before


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write in a read-only folder")
def test_a_folder_without_write_permission_is_refused(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        assert_refused(_run(DEFAULT_STUDY, locked / "run"), "no write permission")
    finally:
        locked.chmod(0o755)


def test_a_study_name_too_long_for_a_folder_is_a_study_error(tmp_path):
    study = tiny_study()
    study["name"] = "x" * 300
    path = write_study(study, tmp_path / "long.yaml")
    before = snapshot(tmp_path)
    assert_refused(_run(path, tmp_path / "out"), "long.yaml", "name", "at most 120")
    assert snapshot(tmp_path) == before


def test_report_writes_only_into_a_sweep_folder_femcait_marked(tmp_path):
    out = tmp_path / "analysis"
    out.mkdir()
    (out / "sweep.json").write_text(json.dumps({"parameters": [], "cases": []}))
    (out / "results.csv").write_text("my own results\n")
    before = snapshot(tmp_path)
    assert_refused(femcait("report", str(out), check=False), str(out), MARKER)
    assert snapshot(tmp_path) == before
