"""A run stopped by SIGTERM (a batch scheduler) or Ctrl-C leaves no output behind."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from femcait.output.ownership import MARKER, mark
from tests.conftest import DEFAULT_STUDY


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_interrupted_run_leaves_existing_output_untouched(tmp_path, signum):
    out = tmp_path / "out"
    out.mkdir()  # an earlier run folder (a new run may replace it once complete)
    for name in ("summary.json", "study.json", "marker"):
        (out / name).write_text("earlier run")
    mark(out, "run")  # as femcait marks the folders it writes
    command = [str(Path(sys.executable).parent / "femcait"), "run", str(DEFAULT_STUDY)]
    process = subprocess.Popen(
        [*command, "--out", str(out), "--quiet"], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    deadline = time.monotonic() + 120
    while not list(tmp_path.glob(".out.partial-*/timeseries.csv")):  # inside the time loop
        assert process.poll() is None and time.monotonic() < deadline
        time.sleep(0.05)
    process.send_signal(signum)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    assert "interrupted" in stderr.decode()
    assert [p.name for p in tmp_path.iterdir()] == ["out"]  # no partial folder left
    assert sorted(p.name for p in out.iterdir()) == [MARKER, "marker", "study.json", "summary.json"]
    assert (out / "marker").read_text() == "earlier run"
