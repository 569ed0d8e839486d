"""Reading femcait's XDMF fields with ParaView's pvbatch (its own Python), for the tests."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

MARKER = "FEMCAIT_PARAVIEW_JSON "
"""Prefix of the one stdout line that carries the result (pvbatch adds MPI/X chatter)."""

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


# dolfinx writes each function as its own temporal grid: ParaView gives one block each.
def leaves_at(time):
    reader.UpdatePipeline(time)
    data = servermanager.Fetch(reader)
    if not data.IsA("vtkCompositeDataSet"):
        return data, [data]
    leaves = []
    iterator = data.NewIterator()
    iterator.InitTraversal()
    while not iterator.IsDoneWithTraversal():
        leaves.append(iterator.GetCurrentDataObject())
        iterator.GoToNextItem()
    return data, leaves


points_by_time = [sorted({{leaf.GetNumberOfPoints() for leaf in leaves_at(t)[1]}}) for t in times]
last = times[-1]
data, leaves = leaves_at(last)

arrays = {{}}
for leaf in leaves:
    point_data = leaf.GetPointData()
    for k in range(point_data.GetNumberOfArrays()):
        array = point_data.GetArray(k)
        arrays[array.GetName()] = {{
            "range": list(array.GetRange()),
            "points": leaf.GetNumberOfPoints(),
            "x_bounds": list(leaf.GetBounds()[:2]),
            "y_bounds": list(leaf.GetBounds()[2:4]),
        }}
info, key = data.GetInformation(), vtkDataObject.DATA_TIME_STEP()
data_time = info.Get(key) if info.Has(key) else None
result = {{
    "names": sorted(arrays),
    "points": sorted({{a["points"] for a in arrays.values()}}),
    "times": times,
    "points_by_time": points_by_time,
    "data_time": data_time,
    "arrays": arrays,
}}
print({marker!r} + json.dumps(result), flush=True)
"""


def read_with_paraview(pvbatch: str, xdmf: Path, folder: Path) -> dict:
    """What ParaView's Xdmf3 reader finds in ``xdmf`` at its last time (see the script)."""
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
