"""Make meshes/two_phase_glass.msh: a phase-separated glass with two round inclusions.

    .venv/bin/python meshes/two_phase_glass.py [OUTPUT.msh]

A planar cross-section 80 nm wide and 100 um deep (coordinates in nm: x lateral, y the depth
from the front at y = 0 to the back electrode at y = 100000), with two inclusions of a
second phase (radius 10 and 12 nm, centres at depths 30 and 55 nm) where the replacement
front passes during a 3 h CAIT. Physical groups: boundaries "front" (the whole top, exposed),
"back", "sides"; regions "glass" and "inclusion".

The mesh resolves what the physics needs: a structured layer under the front (right
triangles, first cell 0.015 nm, half the Debye length of Li3B7O12, growing by 1.15 to 1 nm
at 7.5 nm depth), then Delaunay triangles of 1 nm down to 150 nm, growing by 10 % of the
depth below, at most the width, to the back electrode.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import gmsh

WIDTH = 80.0
THICKNESS = 1.0e5
INCLUSIONS = ((25.0, 30.0, 10.0), (58.0, 55.0, 12.0))  # (x, depth, radius), nm
FIRST_CELL = 0.015
LAYER_GROWTH = 1.15
CELL = 1.0
FINE_DEPTH = 150.0
DEEP_GROWTH = 0.1
TOLERANCE = 1e-3  # nm; gmsh pads bounding boxes


def layer_nodes() -> tuple[int, float]:
    """Nodes across the structured front layer and its depth."""
    cells = math.ceil(math.log(CELL / FIRST_CELL) / math.log(LAYER_GROWTH))
    depth = FIRST_CELL * (LAYER_GROWTH**cells - 1) / (LAYER_GROWTH - 1)
    return cells + 1, depth


def build(output: Path) -> None:
    """Build the geometry, mesh it and write ``output``."""
    nodes, layer = layer_nodes()
    gmsh.initialize(interruptible=False)
    gmsh.option.setNumber("General.Terminal", 0)
    gmsh.model.add("two_phase_glass")
    occ = gmsh.model.occ
    top = occ.addRectangle(0, 0, 0, WIDTH, layer)
    bulk = occ.addRectangle(0, layer, 0, WIDTH, THICKNESS - layer)
    disks = [occ.addDisk(x, y, 0, r, r) for x, y, r in INCLUSIONS]
    occ.fragment([(2, top), (2, bulk)], [(2, d) for d in disks])
    occ.synchronize()

    surfaces = [tag for _, tag in gmsh.model.getEntities(2)]
    inclusion, glass, strip = [], [], None
    for tag in surfaces:
        x, y, _ = occ.getCenterOfMass(2, tag)
        if any(math.hypot(x - cx, y - cy) < 1e-6 * r + 1e-9 for cx, cy, r in INCLUSIONS):
            inclusion.append(tag)
        elif y < layer:
            strip = tag
            glass.append(tag)
        else:
            glass.append(tag)
    lines = {"front": [], "back": [], "sides": []}
    for _, tag in gmsh.model.getBoundary([(2, s) for s in surfaces], oriented=False):
        x0, y0, _, x1, y1, _ = gmsh.model.getBoundingBox(1, tag)
        if y1 < TOLERANCE:
            lines["front"].append(tag)
        elif y0 > THICKNESS - TOLERANCE:
            lines["back"].append(tag)
        elif x1 < TOLERANCE or x0 > WIDTH - TOLERANCE:
            lines["sides"].append(tag)

    # the structured layer under the front: uniform laterally, graded in depth
    for _, tag in gmsh.model.getBoundary([(2, strip)], oriented=False):
        x0, y0, _, x1, y1, _ = gmsh.model.getBoundingBox(1, tag)
        if abs(y1 - y0) < TOLERANCE:  # horizontal
            gmsh.model.mesh.setTransfiniteCurve(tag, round(WIDTH / CELL) + 1)
        else:
            low, _ = gmsh.model.getParametrizationBounds(1, tag)
            downwards = gmsh.model.getValue(1, tag, [low[0]])[1] < TOLERANCE  # as meshed
            coefficient = LAYER_GROWTH if downwards else 1 / LAYER_GROWTH
            gmsh.model.mesh.setTransfiniteCurve(tag, nodes, "Progression", coefficient)
    gmsh.model.mesh.setTransfiniteSurface(strip, arrangement="Right")

    field = gmsh.model.mesh.field.add("MathEval")
    gmsh.model.mesh.field.setString(
        field, "F", f"Min({WIDTH}, Max({CELL}, {CELL} + {DEEP_GROWTH} * (y - {FINE_DEPTH})))"
    )
    gmsh.model.mesh.field.setAsBackgroundMesh(field)
    for option in ("MeshSizeExtendFromBoundary", "MeshSizeFromPoints", "MeshSizeFromCurvature"):
        gmsh.option.setNumber(f"Mesh.{option}", 0)
    gmsh.option.setNumber("Mesh.Algorithm", 6)  # Frontal-Delaunay

    for name, tags in lines.items():
        gmsh.model.setPhysicalName(1, gmsh.model.addPhysicalGroup(1, tags), name)
    gmsh.model.setPhysicalName(2, gmsh.model.addPhysicalGroup(2, glass), "glass")
    gmsh.model.setPhysicalName(2, gmsh.model.addPhysicalGroup(2, inclusion), "inclusion")
    gmsh.model.mesh.generate(2)
    gmsh.option.setNumber("Mesh.MshFileVersion", 4.1)
    gmsh.write(str(output))
    gmsh.finalize()


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).with_suffix(".msh")
    build(target)
    print(f"wrote {target}")
