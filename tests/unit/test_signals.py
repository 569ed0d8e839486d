"""SIGTERM (a batch scheduler) or SIGINT (Ctrl-C) at any moment of start-up or of the run:
exit 130, a one-line message, and nothing written (no output folder, no temporary)."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import default_study_dict, write_study
from tests.hostile import snapshot

FEMCAIT = str(Path(sys.executable).parent / "femcait")

DELAYS_S = (0.3, 0.7, 1.2, 2.0)
"""After the start: Python and the study loaded, DOLFINx and PETSc starting, the forms
compiling or the time loop (the run below takes ~6 s; the default study itself ~2 s)."""

LONG_RUN = {"duration": "48 h", "output_times": ["1 h", "48 h"]}
"""The default study's experiment made longer, so that the last delay falls in its loop."""


def _interrupt(arguments: list[str], delay: float, signum: int) -> subprocess.CompletedProcess:
    process = subprocess.Popen(
        [FEMCAIT, *arguments], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    time.sleep(delay)
    process.send_signal(signum)
    stdout, stderr = process.communicate(timeout=120)
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
@pytest.mark.parametrize("command", ["run", "sed"])
def test_a_signal_during_start_up_writes_nothing(tmp_path, command, signum):
    out = tmp_path / "out"
    data = default_study_dict()
    data["experiment"].update(LONG_RUN)
    study = write_study(data, tmp_path / "study.yaml")
    before = snapshot(tmp_path)
    for delay in DELAYS_S[:2] if command == "sed" else DELAYS_S:
        result = _interrupt([command, str(study), "--out", str(out)], delay, signum)
        output = result.stdout + result.stderr
        assert result.returncode == 130, f"after {delay} s: {result.returncode}\n{output}"
        assert "Traceback" not in output
        assert "interrupted" in result.stderr
        assert snapshot(tmp_path) == before, f"after {delay} s"
