"""Mesh files as geometry: bad files and bad groups are one-line errors (exit 2) before
anything is computed; other formats are converted with meshio; the shipped mesh's script
makes the shipped mesh."""

from __future__ import annotations

import importlib.util
import itertools
from pathlib import Path

import gmsh
import meshio
import numpy as np
import pytest
import yaml

from tests.conftest import ROOT, femcait

TWO_PHASE = ROOT / "studies" / "two_phase_glass_2d.yaml"


def rectangle_msh(
    path: Path,
    groups: dict[str, str] | None = None,
    regions: tuple[str, ...] = ("glass",),
    three_d: bool = False,
) -> Path:
    """A 20 x 100000 nm rectangle (coordinates in nm, y the depth) split into as many
    regions as named, its boundary groups named by ``groups`` (role -> name)."""
    groups = {"front": "front", "back": "back", "sides": "sides"} if groups is None else groups
    gmsh.initialize(interruptible=False)
    gmsh.option.setNumber("General.Terminal", 0)
    occ = gmsh.model.occ
    if three_d:
        occ.addBox(0, 0, 0, 20, 100, 5)
        occ.synchronize()
        gmsh.model.addPhysicalGroup(3, [1], name="glass")
        gmsh.option.setNumber("Mesh.MeshSizeMax", 10)
        gmsh.model.mesh.generate(3)
    else:
        depth = 1e5
        cut = np.linspace(0, depth, len(regions) + 1)
        surfaces = [occ.addRectangle(0, a, 0, 20, b - a) for a, b in itertools.pairwise(cut)]
        occ.fragment([(2, s) for s in surfaces], [])
        occ.synchronize()
        lines = {"front": [], "back": [], "sides": []}
        for _, tag in gmsh.model.getEntities(1):
            x0, y0, _, x1, y1, _ = gmsh.model.getBoundingBox(1, tag)
            if y1 < 1e-3:
                lines["front"].append(tag)
            elif y0 > depth - 1e-3:
                lines["back"].append(tag)
            elif x1 < 1e-3 or x0 > 20 - 1e-3:
                lines["sides"].append(tag)
        for role, name in groups.items():
            gmsh.model.addPhysicalGroup(1, lines[role], name=name)
        entities = sorted(tag for _, tag in gmsh.model.getEntities(2))
        for name, tag in zip(regions, entities, strict=True):
            gmsh.model.addPhysicalGroup(2, [tag], name=name)
        gmsh.model.mesh.field.add("MathEval", 1)
        gmsh.model.mesh.field.setString(1, "F", "Min(20, 0.5 + 0.2 * y)")
        gmsh.model.mesh.field.setAsBackgroundMesh(1)
        gmsh.model.mesh.generate(2)
    gmsh.write(str(path))
    gmsh.finalize()
    return path


def mesh_study(folder: Path, mesh: Path, **changes) -> Path:
    """The two-phase study on ``mesh`` (one material unless ``regions`` is given), 60 s."""
    study = yaml.safe_load(TWO_PHASE.read_text())
    study["geometry"]["file"] = str(mesh)
    study.pop("regions")
    study["output"] = {}
    study["experiment"].update(duration="60 s", output_times=["60 s"])
    study.update(changes)
    path = folder / "study.yaml"
    path.write_text(yaml.safe_dump(study, sort_keys=False))
    return path


def refused(study: Path, out: Path) -> str:
    """femcait's one-line reason for refusing a study (exit 2, no traceback, no output)."""
    result = femcait("run", str(study), "--out", str(out), "--quiet", check=False)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert not out.exists()
    return result.stderr


def test_a_missing_file_names_the_key(tmp_path):
    message = refused(mesh_study(tmp_path, tmp_path / "nowhere.msh"), tmp_path / "out")
    assert "geometry.file" in message and "nowhere.msh" in message


def test_an_unreadable_file(tmp_path):
    junk = tmp_path / "junk.msh"
    junk.write_text("this is not a mesh\n")
    message = refused(mesh_study(tmp_path, junk), tmp_path / "out")
    assert "geometry.file" in message and "junk.msh" in message


def test_a_3d_mesh(tmp_path):
    mesh = rectangle_msh(tmp_path / "box.msh", three_d=True)
    assert "3D mesh" in refused(mesh_study(tmp_path, mesh), tmp_path / "out")


def test_a_missing_boundary_group_is_named(tmp_path):
    mesh = rectangle_msh(tmp_path / "nofront.msh", groups={"back": "back", "sides": "sides"})
    message = refused(mesh_study(tmp_path, mesh), tmp_path / "out")
    assert "geometry.groups.front" in message and "'front'" in message and "back" in message


def test_a_region_without_a_material(tmp_path):
    mesh = rectangle_msh(tmp_path / "two.msh", regions=("glass", "inclusion"))
    message = refused(mesh_study(tmp_path, mesh), tmp_path / "out")
    assert "regions" in message and "'inclusion'" in message


def test_a_material_for_a_region_the_mesh_lacks(tmp_path):
    mesh = rectangle_msh(tmp_path / "one.msh")
    study = mesh_study(tmp_path, mesh, regions={"glass": {}, "crystal": {"eps_r": 10}})
    assert "regions.crystal" in refused(study, tmp_path / "out")


def test_a_thickness_that_does_not_match(tmp_path):
    mesh = rectangle_msh(tmp_path / "one.msh")
    study = yaml.safe_load(mesh_study(tmp_path, mesh).read_text())
    study["glass"]["thickness"] = "50 um"
    path = tmp_path / "thick.yaml"
    path.write_text(yaml.safe_dump(study))
    assert "glass.thickness" in refused(path, tmp_path / "out")


def test_regions_need_a_mesh_file(tmp_path):
    study = yaml.safe_load((ROOT / "studies" / "li3b7o12_k_cait_2d.yaml").read_text())
    study["regions"] = {"glass": {}}
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(study))
    assert "regions" in refused(path, tmp_path / "out")


def test_a_beam_window_outside_the_front(tmp_path):
    study = yaml.safe_load((ROOT / "studies" / "li3b7o12_k_masked_2d.yaml").read_text())
    study["geometry"]["beam_window"] = ["100 nm", "700 nm"]
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(study))
    assert "geometry.beam_window" in refused(path, tmp_path / "out")


def test_a_converted_mesh_runs_like_the_msh(tmp_path):
    """A mesh in another format (here VTU, whose cells carry gmsh's physical tags as cell
    data but no names: the groups are given by number) is converted with meshio and gives
    the run of the .msh it came from."""
    msh = rectangle_msh(tmp_path / "r.msh")
    mesh = meshio.read(msh)
    numbers = {name: str(tag) for name, (tag, _) in mesh.field_data.items()}
    vtu = tmp_path / "r.vtu"
    meshio.write(vtu, meshio.Mesh(mesh.points, mesh.cells, cell_data=mesh.cell_data))
    results = {}
    for name, path in (("msh", msh), ("vtu", vtu)):
        folder = tmp_path / name
        folder.mkdir()
        study = yaml.safe_load(mesh_study(folder, path).read_text())
        if name == "vtu":
            study["geometry"]["groups"] = {role: numbers[role] for role in ("front", "back")}
        (folder / "study.yaml").write_text(yaml.safe_dump(study))
        femcait("run", str(folder / "study.yaml"), "--out", str(folder / "out"), "--quiet")
        results[name] = yaml.safe_load((folder / "out" / "summary.json").read_text())
    assert results["vtu"]["front_depth_m"] == pytest.approx(results["msh"]["front_depth_m"])


def test_the_shipped_mesh_is_what_its_script_makes(tmp_path):
    spec = importlib.util.spec_from_file_location(
        "two_phase", ROOT / "meshes" / "two_phase_glass.py"
    )
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    script.build(tmp_path / "again.msh")
    shipped, again = (
        meshio.read(ROOT / "meshes" / "two_phase_glass.msh"),
        meshio.read(tmp_path / "again.msh"),
    )
    assert (
        set(shipped.field_data)
        == set(again.field_data)
        == {
            "front",
            "back",
            "sides",
            "glass",
            "inclusion",
        }
    )
    assert len(shipped.points) == len(again.points)
    np.testing.assert_allclose(np.sort(shipped.points[:, 1]), np.sort(again.points[:, 1]))
