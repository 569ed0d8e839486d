"""The figure worker (femcait.output.figure_worker): a child process draws the batches it
is sent, and `finish` returns once everything sent is drawn; the child stays for the next
run. If the child fails or is gone, the figures are drawn in the run's own process (PETSc
initialised: it aborts a process on SIGPIPE); a run that ends without figures stops it."""

from __future__ import annotations

import os
from pathlib import Path

import dolfinx_solver  # noqa: F401  # isort: split
from petsc4py import PETSc

import femcait.output.figure_worker as figure_worker_module
from femcait.output.figure_worker import FigureCall, FigureWorker, figure_worker
from femcait.sed import ConstantDiffusion

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _diffusion_figure(path) -> FigureCall:
    return FigureCall(
        "femcait.output.figures:plot_diffusion", (path, {"K": ConstantDiffusion(0.5)}, 1e-18)
    )


def write_only_in(path: Path, pid: int) -> None:
    """A 'figure' that fails in any process but ``pid``."""
    if os.getpid() != pid:
        raise RuntimeError("not here")
    path.write_text(str(pid))


def test_the_child_draws_every_batch_and_stays_for_the_next_run(tmp_path):
    paths = [tmp_path / f"figure{i}.png" for i in range(4)]
    with FigureWorker() as worker:
        child = worker._child
        worker.submit([_diffusion_figure(paths[0])])
        worker.submit([_diffusion_figure(p) for p in paths[1:3]])
        worker.finish()
        assert all(p.read_bytes().startswith(PNG_SIGNATURE) for p in paths[:3])
        worker.submit([_diffusion_figure(paths[3])])  # a sweep's next case
        worker.finish()
        assert paths[3].read_bytes().startswith(PNG_SIGNATURE)
        assert worker._child is child and child.poll() is None
    assert child.poll() is not None  # stopped at the end


def test_figures_are_drawn_here_when_the_child_fails_or_is_gone(tmp_path):
    assert PETSc.Sys.isInitialized()  # as in a run: its signal handlers are installed
    with FigureWorker() as worker:
        child = worker._child
        worker.submit([FigureCall(f"{__name__}:write_only_in", (tmp_path / "a", os.getpid()))])
        worker.finish()
        assert (tmp_path / "a").read_text() == str(os.getpid())
        assert child.poll() is not None and worker._child is None
    with FigureWorker() as worker:
        worker._child.kill()
        worker._child.wait()
        worker.submit([_diffusion_figure(tmp_path / "b.png")])
        worker.finish()
    assert (tmp_path / "b.png").read_bytes().startswith(PNG_SIGNATURE)


def test_a_run_without_figures_stops_the_child(tmp_path):
    with FigureWorker() as worker:
        child = worker._child
        worker.submit([_diffusion_figure(tmp_path / "figure.png")])
    assert child.poll() is not None  # killed and reaped, not left running


def test_no_child_for_runs_on_several_ranks_or_on_one_cpu(monkeypatch, tmp_path):
    monkeypatch.setattr(figure_worker_module.os, "sched_getaffinity", lambda pid: {0})
    with figure_worker(1) as worker:
        assert worker._child is None
        worker.submit([_diffusion_figure(tmp_path / "here.png")])
        worker.finish()  # drawn in this process
    assert (tmp_path / "here.png").read_bytes().startswith(PNG_SIGNATURE)
    monkeypatch.setattr(figure_worker_module.os, "sched_getaffinity", lambda pid: {0, 1})
    with figure_worker(2) as worker:
        assert worker._child is None
    with figure_worker(1) as worker:
        assert worker._child is not None
