"""The figure worker (femcait.output.figure_worker): a child process draws the batches it
is sent and the run waits for it; if the child is gone, the figures are drawn in the
run's own process (PETSc initialised: it aborts a process on SIGPIPE); a run that ends
without figures stops the child."""

from __future__ import annotations

import dolfinx_solver  # noqa: F401  # isort: split
from petsc4py import PETSc

from femcait.output.figure_worker import FigureCall, FigureWorker
from femcait.sed import ConstantDiffusion

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _diffusion_figure(path) -> FigureCall:
    return FigureCall(
        "femcait.output.figures:plot_diffusion", (path, {"K": ConstantDiffusion(0.5)}, 1e-18)
    )


def test_the_child_draws_every_batch_before_finish_returns(tmp_path):
    paths = [tmp_path / f"figure{i}.png" for i in range(3)]
    with FigureWorker() as worker:
        child = worker._child
        worker.submit([_diffusion_figure(paths[0])])
        worker.submit([_diffusion_figure(p) for p in paths[1:]])
        worker.finish()
    assert child.returncode == 0
    assert all(p.read_bytes().startswith(PNG_SIGNATURE) for p in paths)


def test_figures_are_drawn_here_when_the_child_is_gone(tmp_path):
    assert PETSc.Sys.isInitialized()  # as in a run: its signal handlers are installed
    path = tmp_path / "figure.png"
    with FigureWorker() as worker:
        child = worker._child
        child.kill()
        child.wait()
        worker.submit([_diffusion_figure(path)])
        worker.finish()
    assert child.returncode != 0
    assert path.read_bytes().startswith(PNG_SIGNATURE)


def test_a_run_without_figures_stops_the_child(tmp_path):
    with FigureWorker() as worker:
        child = worker._child
        worker.submit([_diffusion_figure(tmp_path / "figure.png")])
    assert child.returncode is not None  # killed and reaped, not left running
