"""`--out` never destroys data that is not an earlier femcait run."""

from __future__ import annotations

from tests.conftest import DEFAULT_STUDY, femcait


def _refused(result, what: str) -> None:
    assert result.returncode == 2, result.stdout + result.stderr
    assert what in result.stderr
    assert "Traceback" not in result.stderr


def test_folder_with_other_data_is_refused(tmp_path):
    out = tmp_path / "thesis"
    (out / "sub").mkdir(parents=True)
    (out / "sub" / "thesis.tex").write_text("years of work")
    result = femcait("run", str(DEFAULT_STUDY), "--out", str(out), "--quiet", check=False)
    _refused(result, "not a femcait output folder")
    assert (out / "sub" / "thesis.tex").read_text() == "years of work"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["thesis"]


def test_file_is_refused(tmp_path):
    target = tmp_path / "notes.txt"
    target.write_text("keep")
    result = femcait("run", str(DEFAULT_STUDY), "--out", str(target), "--quiet", check=False)
    _refused(result, "is not a folder")
    assert target.read_text() == "keep"
