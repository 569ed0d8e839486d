"""Progress display of a run (rank 0 only): simulated time, step size, Newton iterations."""

from __future__ import annotations


class RunProgress:
    """A rich progress bar over simulated time; does nothing when disabled."""

    def __init__(self, duration_s: float, enabled: bool) -> None:
        self.duration_s = duration_s
        self._progress = _bar() if enabled else None
        self._task = None

    def __enter__(self) -> RunProgress:
        if self._progress is not None:
            self._progress.start()
            self._task = self._progress.add_task(
                "run", total=self.duration_s, t=0.0, dt=0.0, its=0, step=0
            )
        return self

    def update(self, record) -> None:
        """Show the state after an accepted step."""
        if self._progress is not None:
            self._progress.update(
                self._task,
                completed=record.time_s,
                t=record.time_s,
                dt=record.dt_s,
                its=record.newton_iterations,
                step=record.step,
            )

    def __exit__(self, *exc) -> None:
        if self._progress is not None:
            self._progress.stop()


def _bar():
    """The rich progress bar (rich is imported only for a run that shows it)."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(
        TextColumn("[bold]t = {task.fields[t]:>9.4g} s"),
        BarColumn(),
        TextColumn(
            "dt = {task.fields[dt]:.3g} s  Newton {task.fields[its]}  step {task.fields[step]}"
        ),
        TimeElapsedColumn(),
        refresh_per_second=4,
    )
