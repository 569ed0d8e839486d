"""A corpus of hostile and careless inputs, through the real command line.

Each case builds its input files in a fresh folder, runs femcait and checks: the exit
code, one line of stderr naming the key, file or option at fault, no Python traceback,
nothing written (no output folder), and nothing changed in the folder around it. The
classes follow issue 12: silent wrong answers (2), tracebacks instead of messages (3),
hangs and resource blow-ups (4); lost data is in test_hostile_output.py, signals in
test_signals.py, concurrent starts in test_concurrent_starts.py.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from femcait.errors import StudyError
from femcait.study import load_study, study_from_dict
from tests.conftest import femcait, write_study
from tests.hostile import assert_refused, snapshot, tiny_study

DATA = Path(__file__).parents[1] / "data" / "hostile"


@dataclass
class Case:
    """A hostile input: files to write, a command, and what the refusal must say."""

    build: Callable[[Path], list[str]]
    """Writes the inputs into the folder and returns femcait's arguments."""
    words: tuple[str, ...]
    """Words the one-line message must hold (key, file, option)."""
    code: int = 2
    within_s: float = 60.0
    """The refusal must come within this time (a hang is a failure)."""


def _study(mutate: Callable[[dict], None], name: str = "bad.yaml") -> Callable[[Path], list]:
    """A `run` of the tiny study changed by ``mutate``, into out/."""

    def build(folder: Path) -> list[str]:
        data = tiny_study()
        mutate(data)
        path = write_study(data, folder / name)
        return ["run", str(path), "--out", str(folder / "out"), "--quiet"]

    return build


def _text(text: str | bytes, name: str = "bad.yaml", command: str = "run") -> Callable:
    """A study file with exactly this content."""

    def build(folder: Path) -> list[str]:
        path = folder / name
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text)
        return [command, str(path), "--out", str(folder / "out")]

    return build


def _table(content: str | None, path: str = "table.csv") -> Callable:
    """The tiny study with Li's D(n) from a CSV table (written unless ``content`` is None)."""

    def mutate(folder: Path) -> list[str]:
        if content is not None:
            (folder / path).write_text(content)
        data = tiny_study()
        data["species"]["Li"]["diffusion"] = {"law": "table", "file": path}
        study = write_study(data, folder / "bad.yaml")
        return ["run", str(study), "--out", str(folder / "out"), "--quiet"]

    return mutate


def _set(path: str, value) -> Callable[[dict], None]:
    def mutate(data: dict) -> None:
        *parents, key = path.split(".")
        node = data
        for part in parents:
            node = node.setdefault(part, {})
        node[key] = value

    return mutate


def _both(*mutations: Callable[[dict], None]) -> Callable[[dict], None]:
    def mutate(data: dict) -> None:
        for mutation in mutations:
            mutation(data)

    return mutate


def _sweep(section: dict, command: str = "run") -> Callable:
    def build(folder: Path) -> list[str]:
        data = tiny_study()
        data["sweep"] = section
        path = write_study(data, folder / "bad.yaml")
        extra = ["--out", str(folder / "out")] if command == "run" else []
        return [command, str(path), *extra]

    return build


def _report(content: str | None, directory: bool = False) -> Callable:
    """`femcait report` on a folder whose sweep.json has this content."""

    def build(folder: Path) -> list[str]:
        out = folder / "sweep_out"
        out.mkdir()
        if directory:
            (out / "sweep.json").mkdir()
        elif content is not None:
            (out / "sweep.json").write_text(content)
        return ["report", str(out)]

    return build


def _rows(n: int) -> str:
    return "n_frac,D_m2_s\n" + "".join(
        f"{(i + 1) / n!r},{4.6e-18 * (i + 1) / n!r}\n" for i in range(n)
    )


def _deep(levels: int) -> str:
    return "name: " + "[" * levels + "]" * levels + "\n"


CASES: dict[str, Case] = {
    # --- class 2: silent wrong answers --------------------------------------------------
    "length_unit 1 km": Case(_study(_set("mesh.length_unit", "1 km")), ("mesh.length_unit",)),
    "PETSc option misspelt": Case(
        _study(_set("solver.petsc_options", {"snes_rtoll": 1e-8})),
        ("solver.petsc_options.snes_rtoll", "not an option the solver uses"),
    ),
    "PETSc option of another solver type": Case(
        _study(_set("solver.petsc_options", {"ksp_rtol": 1e-8})),  # ksp_type is preonly
        ("solver.petsc_options.ksp_rtol",),
    ),
    "PETSc global option": Case(
        _study(_set("solver.petsc_options", {"log_view": ""})), ("solver.petsc_options.log_view",)
    ),
    "PETSc unknown type": Case(
        _study(_set("solver.petsc_options", {"ksp_type": "preonlyy", "snes_rtol": 1e-9})),
        ("solver.petsc_options.ksp_type", "preonlyy", "unknown type"),
    ),
    "PETSc type without a solver package": Case(
        _study(
            _set("solver.petsc_options", {"pc_type": "ilu", "pc_factor_mat_solver_type": "mumps"})
        ),
        ("solver.petsc_options",),
    ),
    # --- class 3: tracebacks instead of messages -----------------------------------------
    "deep nesting": Case(_text(_deep(100_000)), ("bad.yaml", "nested deeper than 64")),
    "huge integer length": Case(
        _study(_set("glass.thickness", 10**400)), ("glass.thickness", "too large")
    ),
    "huge integer charge": Case(_study(_set("species.K.charge", 10**30)), ("species.K.charge",)),
    "huge Newton iterations": Case(
        _study(_set("solver.max_newton_iterations", 10**12)), ("solver.max_newton_iterations",)
    ),
    "binary study file": Case(_text(b"\xff\xfe\x00garbage"), ("bad.yaml", "UTF-8")),
    "/dev/zero as study": Case(
        lambda folder: ["run", "/dev/zero", "--out", str(folder / "out")],
        ("/dev/zero", "larger than 2 MB"),
    ),
    "study is a directory": Case(
        lambda folder: ["run", str(folder), "--out", str(folder / "out")], ("is a directory",)
    ),
    "table field over the CSV limit": Case(
        _table("n_frac,D_m2_s\n" + "1" * 200_000 + ",1e-18\n1,1e-18\n"),
        ("species.Li.diffusion.file", "table.csv", "line 2"),
    ),
    "table value overflows": Case(
        _table("n_frac,D_m2_s\n1e-3,1e400\n1,4.6e-18\n"), ("table.csv", "D_m2_s", "not finite")
    ),
    "table values overflow relative to D(n_bg)": Case(
        _table("n_frac,D_m2_s\n1e-3,1e300\n1,1e-300\n"), ("species.Li.diffusion",)
    ),
    "/dev/zero as table": Case(_table(None, "/dev/zero"), ("/dev/zero", "larger than 10 MB")),
    "table with NUL bytes": Case(_table("n_frac,D_m2_s\n1\0,2\n"), ("table.csv", "NUL")),
    "table too long": Case(_table(_rows(5001)), ("table.csv", "more than 5000")),
    "table is a directory": Case(_table(None, "."), ("species.Li.diffusion.file", "directory")),
    "tiny n_bg overflows the scales": Case(
        _study(_set("glass.n_bg", "1e-300 m^-3")), ("glass.n_bg", "Debye length")
    ),
    "report: sweep.json empty": Case(_report(""), ("sweep.json", "not JSON")),
    "report: sweep.json not JSON": Case(_report("{cases: ["), ("sweep.json", "not JSON")),
    "report: sweep.json a directory": Case(_report(None, directory=True), ("sweep.json",)),
    "report: sweep.json a list": Case(_report("[1, 2]"), ("sweep.json", "not a sweep")),
    "report: case name escaping the folder": Case(
        _report(json.dumps({"parameters": [], "cases": [{"name": "..", "overrides": {}}]})),
        ("sweep.json", "not a sweep"),
    ),
    "report: no sweep.json": Case(_report(None), ("no sweep.json",)),
    # --- class 4: hangs and blow-ups -------------------------------------------------------
    "alias bomb": Case(
        lambda folder: ["run", str(DATA / "alias_bomb.yaml"), "--out", str(folder / "out")],
        ("alias_bomb.yaml", "aliases"),
        within_s=30,
    ),
    "a million cases (cases)": Case(
        _sweep(
            {"parameters": {f"glass.p{i}": {"values": list(range(10))} for i in range(6)}}, "cases"
        ),
        ("sweep.max_cases", "1000000"),
        within_s=30,
    ),
    "a million cases (run)": Case(
        _sweep(
            {
                "parameters": {
                    "species.K.diffusion.D": {"linear": {"start": 1, "stop": 2, "num": 10**9}}
                }
            }
        ),
        ("sweep.max_cases", "1000000000"),
        within_s=30,
    ),
    "sub-picometre fine_cell": Case(
        _study(_set("mesh", {"fine_cell": "0.01 pm", "fine_growth": 1})),
        ("limits.max_cells", "set limits.max_cells:"),
        within_s=30,
    ),
    "more output times than the step limit": Case(
        _study(
            _both(
                _set("experiment.output_times", [f"{i / 100} s" for i in range(1, 2001)]),
                _set("limits.max_steps", 1000),
            )
        ),
        ("limits.max_steps", "set limits.max_steps:"),
    ),
    "duration 1e12 s": Case(
        _study(_set("experiment.duration", "1e12 s")),
        ("limits.max_front_fraction", "replace the whole plate"),
    ),
    "enormous D": Case(
        _study(
            _both(
                _set("species.Li.diffusion.D_bulk", "1e-10 m^2/s"),
                _set("species.K.diffusion.D", "1e-12 m^2/s"),
                _set("experiment.duration", "3 h"),
            )
        ),
        ("limits.max_front_fraction",),
    ),
    "--ranks-per-case 0": Case(
        lambda folder: [*_sweep_args(folder), "--ranks-per-case", "0"], ("--ranks-per-case",)
    ),
    "--ranks-per-case negative": Case(
        lambda folder: [*_sweep_args(folder), "--ranks-per-case=-2"], ("--ranks-per-case",)
    ),
}


def _sweep_args(folder: Path) -> list[str]:
    return _sweep({"parameters": {"species.K.diffusion.D": {"values": [2e-21, 3e-21]}}})(folder)


@pytest.mark.parametrize("case", list(CASES.values()), ids=list(CASES))
def test_hostile_input_is_refused_cleanly(tmp_path, case):
    arguments = case.build(tmp_path)
    before = snapshot(tmp_path)
    started = time.monotonic()
    result = femcait(*arguments, check=False)
    assert time.monotonic() - started < case.within_s
    assert_refused(result, *case.words, code=case.code)
    assert not (tmp_path / "out").exists()
    assert snapshot(tmp_path) == before


def test_a_raised_limit_lets_the_run_go_on(tmp_path):
    """Past the preflight, the run is refused only for its --out (under a file here)."""
    data = tiny_study()
    data["experiment"]["duration"] = "1e12 s"
    data["limits"] = {"max_front_fraction": 100}
    path = write_study(data, tmp_path / "long.yaml")
    (tmp_path / "a_file").write_text("x")
    result = femcait("run", str(path), "--out", str(tmp_path / "a_file" / "out"), check=False)
    assert_refused(result, "a_file", "is a file")
    assert "limits" not in result.stderr


@pytest.mark.parametrize("value", [1e-9, "1 nm", "1e-09 m"])
def test_older_study_json_length_unit_still_loads(value):
    data = tiny_study()
    data["mesh"] = {"length_unit": value}
    assert study_from_dict(data).mesh.length_unit == 1e-9


def test_the_alias_bomb_is_small(tmp_path):
    """The corpus file is a few hundred bytes that would expand to 10^9 values."""
    assert (DATA / "alias_bomb.yaml").stat().st_size < 1000
    with pytest.raises(StudyError, match="aliases"):
        load_study(DATA / "alias_bomb.yaml")


def test_output_piped_into_a_reader_that_stops_early(tmp_path):
    """`femcait cases SWEEP | head -1`: no traceback when the pipe closes."""
    data = tiny_study()
    values = [f"{1 + i / 1000:.4f}e-21 m^2/s" for i in range(1000)]
    data["sweep"] = {"parameters": {"species.K.diffusion.D": {"values": values}}}
    path = write_study(data, tmp_path / "sweep.yaml")
    command = [str(Path(sys.executable).parent / "femcait"), "cases", str(path)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdout.readline().startswith(b"D=")
    process.stdout.close()
    stderr = process.stderr.read().decode()
    assert process.wait(timeout=60) == 141, stderr
    assert "Traceback" not in stderr
