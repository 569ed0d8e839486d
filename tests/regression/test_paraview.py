"""ParaView opens the default run's fields.xdmf: the README's promise, checked with pvbatch.

ParaView is not a Python dependency of femcait; the test needs `pvbatch` on PATH (Debian:
`make paraview`). Without it the test is skipped, unless FEMCAIT_REQUIRE_PARAVIEW=1 (CI),
when it fails.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

MARKER = "FEMCAIT_PARAVIEW_JSON "
"""Prefix of the one stdout line that carries the result (pvbatch adds MPI/X chatter)."""

DURATION_S = 10800.0
FRACTION_MAX = 1.0001
SURFACE_POTENTIAL_V = 5.0

# Runs under pvbatch (ParaView's own Python), not under the test's interpreter.
PVBATCH_SCRIPT = """
import json

from paraview import servermanager
from paraview.simple import Xdmf3ReaderT
from vtkmodules.vtkCommonDataModel import vtkDataObject

reader = Xdmf3ReaderT(FileName=[{path!r}])
reader.UpdatePipelineInformation()
values = reader.TimestepValues
times = [float(t) for t in values] if hasattr(values, "__len__") else [float(values)]
last = times[-1]
reader.UpdatePipeline(last)
data = servermanager.Fetch(reader)

# dolfinx writes each function as its own temporal grid: ParaView gives one block each.
if data.IsA("vtkCompositeDataSet"):
    leaves = []
    iterator = data.NewIterator()
    iterator.InitTraversal()
    while not iterator.IsDoneWithTraversal():
        leaves.append(iterator.GetCurrentDataObject())
        iterator.GoToNextItem()
else:
    leaves = [data]

arrays = {{}}
for leaf in leaves:
    point_data = leaf.GetPointData()
    for k in range(point_data.GetNumberOfArrays()):
        array = point_data.GetArray(k)
        arrays[array.GetName()] = {{
            "range": list(array.GetRange()),
            "points": leaf.GetNumberOfPoints(),
            "x_bounds": list(leaf.GetBounds()[:2]),
        }}
info, key = data.GetInformation(), vtkDataObject.DATA_TIME_STEP()
data_time = info.Get(key) if info.Has(key) else None
result = {{
    "names": sorted(arrays),
    "points": sorted({{a["points"] for a in arrays.values()}}),
    "times": times,
    "data_time": data_time,
    "arrays": arrays,
}}
print({marker!r} + json.dumps(result), flush=True)
"""


@pytest.fixture(scope="session")
def pvbatch() -> str:
    """pvbatch's path (session scope, first argument: checked before the study runs)."""
    path = shutil.which("pvbatch")
    if path is None:
        message = "pvbatch (ParaView) is not on PATH; install it with `make paraview`"
        if os.environ.get("FEMCAIT_REQUIRE_PARAVIEW") == "1":
            pytest.fail(message + " (FEMCAIT_REQUIRE_PARAVIEW=1)")
        pytest.skip(message)
    return path


def _read_with_paraview(pvbatch: str, xdmf: Path, folder: Path) -> dict:
    script = folder / "read_fields.py"
    script.write_text(PVBATCH_SCRIPT.format(path=str(xdmf.resolve()), marker=MARKER))
    # ParaView runs its own Python: keep the test interpreter's paths out of it.
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    result = subprocess.run(
        [pvbatch, str(script)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=folder,
        env=env,
    )
    lines = [line for line in result.stdout.splitlines() if line.startswith(MARKER)]
    assert result.returncode == 0 and lines, (
        f"pvbatch failed (exit {result.returncode}):\n{result.stdout}\n{result.stderr}"
    )
    return json.loads(lines[-1][len(MARKER) :])


def test_paraview_reads_fields(pvbatch: str, default_run: Path, tmp_path: Path) -> None:
    summary = json.loads((default_run / "summary.json").read_text())
    study = json.loads((default_run / "study.json").read_text())
    thickness_m = study["glass"]["thickness"]
    result = _read_with_paraview(pvbatch, default_run / "fields.xdmf", tmp_path)

    # every field at the last output time, which is the end of the experiment
    assert {"Li_frac", "K_frac", "phi_V"} <= set(result["names"]), result["names"]
    assert result["times"][-1] == pytest.approx(DURATION_S, rel=1e-12)
    assert result["times"] == pytest.approx(study["experiment"]["output_times"], rel=1e-12)
    if result["data_time"] is not None:
        assert result["data_time"] == pytest.approx(DURATION_S, rel=1e-12)

    # one point per mesh node, coordinates in metres from the front (0) to the back (L)
    # (VTK bounds are single precision)
    assert result["points"] == [summary["cells"] + 1]
    for name, array in result["arrays"].items():
        assert array["x_bounds"] == pytest.approx([0.0, thickness_m], abs=1e-6 * thickness_m), name

    # physical values: fractions of n_bg in [0, 1], potential between the electrodes
    for name in ("Li_frac", "K_frac"):
        low, high = result["arrays"][name]["range"]
        assert 0.0 <= low <= high <= FRACTION_MAX, (name, low, high)
    low, high = result["arrays"]["phi_V"]["range"]
    assert 0.0 <= low <= high <= SURFACE_POTENTIAL_V + 1e-4, (low, high)
    # not a blank file: the boundary values are there (back electrode grounded,
    # front at the surface potential and the beam density n_s = n_bg)
    assert low == pytest.approx(0.0, abs=1e-9)
    assert high == pytest.approx(SURFACE_POTENTIAL_V, rel=1e-9)
    assert result["arrays"]["K_frac"]["range"][1] == pytest.approx(1.0, rel=1e-9)
