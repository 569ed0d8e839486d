"""Bad study files through the real command line: exit code 2, a readable message, no output.

Each bad study is run twice: into an output folder that does not exist (it must not be
created), and into an existing folder holding an earlier result (it must be left as it was).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import default_study_dict, femcait, write_study

EXIT_STUDY_ERROR = 2
MARKER = "an earlier run's result\n"


def _set(path: str, value) -> Callable[[dict], None]:
    """A mutation that sets the dotted key ``path`` of a study dict to ``value``."""

    def mutate(study: dict) -> None:
        *parents, key = path.split(".")
        node = study
        for part in parents:
            node = node[part]
        node[key] = value

    return mutate


def _delete(path: str) -> Callable[[dict], None]:
    def mutate(study: dict) -> None:
        *parents, key = path.split(".")
        node = study
        for part in parents:
            node = node[part]
        del node[key]

    return mutate


def _galvanostatic_without_current(study: dict) -> None:
    study["experiment"]["mode"] = "galvanostatic"
    del study["experiment"]["surface_potential"]


# (id, mutation, key path named in the message, text of the bad value in the message)
BAD_STUDIES = [
    (
        "unknown-key",
        _set("species.Li.diffusion.D_bulkk", "4.6e-18 m^2/s"),
        "species.Li.diffusion.D_bulkk",
        "D_bulkk",
    ),
    ("missing-key", _delete("glass.n_bg"), "glass.n_bg", "missing"),
    (
        "negative-D",
        _set("species.Li.diffusion.D_bulk", "-4.6e-18 m^2/s"),
        "species.Li.diffusion.D_bulk",
        "-4.6e-18",
    ),
    (
        "negative-D-number",
        _set("species.K.diffusion.D", -2.6e-21),
        "species.K.diffusion.D",
        "-2.6e-21",
    ),
    ("wrong-type", _set("glass.eps_r", "eight"), "glass.eps_r", "eight"),
    ("wrong-type-integer", _set("species.K.charge", 1.5), "species.K.charge", "1.5"),
    ("wrong-unit", _set("glass.thickness", "100 s"), "glass.thickness", "100 s"),
    (
        "wrong-unit-diffusion",
        _set("species.K.diffusion.D", "2.6e-21 m^2"),
        "species.K.diffusion.D",
        "2.6e-21 m^2",
    ),
    (
        "mode-without-current",
        _galvanostatic_without_current,
        "experiment.current_density",
        "missing",
    ),
]


def _bad_study(tmp_path: Path, mutate: Callable[[dict], None]) -> Path:
    study = default_study_dict()
    mutate(study)
    return write_study(study, tmp_path / "bad.yaml")


def _assert_study_error(result, key: str, value: str) -> None:
    assert result.returncode == EXIT_STUDY_ERROR, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert "Traceback" not in result.stdout
    assert key in result.stderr, result.stderr
    assert value in result.stderr, result.stderr
    assert "bad.yaml" in result.stderr  # the message names the file


def _existing_output(tmp_path: Path) -> Path:
    out = tmp_path / "existing"
    out.mkdir()
    (out / "marker.txt").write_text(MARKER)
    return out


def _assert_untouched(out: Path) -> None:
    assert sorted(p.name for p in out.iterdir()) == ["marker.txt"]
    assert (out / "marker.txt").read_text() == MARKER
    # no hidden partial folder left next to it either
    assert sorted(p.name for p in out.parent.iterdir() if p.name.startswith(".")) == []


@pytest.mark.parametrize(
    ("mutate", "key", "value"),
    [case[1:] for case in BAD_STUDIES],
    ids=[case[0] for case in BAD_STUDIES],
)
def test_bad_study_exits_2_and_writes_nothing(tmp_path, mutate, key, value):
    study = _bad_study(tmp_path, mutate)
    new_out = tmp_path / "new" / "run"
    result = femcait("run", str(study), "--out", str(new_out), "--quiet", check=False)
    _assert_study_error(result, key, value)
    assert not new_out.exists()
    assert not new_out.parent.exists()

    existing = _existing_output(tmp_path)
    result = femcait("run", str(study), "--out", str(existing), "--quiet", check=False)
    _assert_study_error(result, key, value)
    _assert_untouched(existing)


def test_first_cell_larger_than_fine_cell_is_a_study_error(tmp_path):
    study = default_study_dict()
    study["mesh"] = {"first_cell": "1 nm", "fine_cell": "0.25 nm"}
    path = write_study(study, tmp_path / "bad.yaml")
    existing = _existing_output(tmp_path)
    result = femcait("run", str(path), "--out", str(existing), "--quiet", check=False)
    _assert_untouched(existing)
    _assert_study_error(result, "mesh.first_cell", "1e-09 m")  # cross-checks report SI values


def test_missing_study_file(tmp_path):
    missing = tmp_path / "no_such_study.yaml"
    out = tmp_path / "out"
    result = femcait("run", str(missing), "--out", str(out), check=False)
    assert result.returncode == EXIT_STUDY_ERROR
    assert "Traceback" not in result.stderr
    assert "no_such_study.yaml" in result.stderr
    assert "not found" in result.stderr
    assert not out.exists()


def test_directory_instead_of_study_file(tmp_path):
    folder = tmp_path / "a_folder"
    folder.mkdir()
    out = tmp_path / "out"
    result = femcait("run", str(folder), "--out", str(out), check=False)
    assert result.returncode == EXIT_STUDY_ERROR
    assert "Traceback" not in result.stderr
    assert "a_folder" in result.stderr
    assert not out.exists()


def test_invalid_yaml(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("name: x\nglass: [unclosed\n")
    existing = _existing_output(tmp_path)
    result = femcait("run", str(path), "--out", str(existing), check=False)
    assert result.returncode == EXIT_STUDY_ERROR
    assert "Traceback" not in result.stderr
    assert "line" in result.stderr
    _assert_untouched(existing)
