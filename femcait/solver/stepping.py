"""Adaptive time stepping: local error control for BDF1/BDF2, landing on output times.

The controller is pure Python: the driver asks it for the next step, hands it the error
estimate of a solved step (or a failed solve) and is told whether to accept. A step starts
small, grows by at most ``max_growth`` on easy steps, is cut after a failed Newton solve
or too large an error, and may not fall below ``dt_min``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from femcait.errors import SolverError

SAFETY = 0.9
"""Safety factor on the step predicted from the error estimate."""

MIN_SHRINK = 0.2
"""Never shrink by more than this factor after an error rejection."""

FAILURE_SHRINK = 0.25
"""Cut after a failed Newton solve."""

BDF2_ERROR_CONSTANT = 2.0 / 9.0
"""Ratio of the BDF2 local error to the quadratic-predictor difference (constant steps)."""


@dataclass
class StepController:
    """Chooses time steps (all times nondimensional)."""

    t_end: float
    output_times: Sequence[float]
    dt_initial: float
    dt_min: float
    dt_max: float
    tolerance: float
    max_growth: float
    second_order: bool = True
    time_unit_s: float = 1.0  # for messages only
    dt: float = field(init=False)

    def __post_init__(self) -> None:
        self.dt = min(self.dt_initial, self.dt_max)

    def next_step(self, t: float) -> float:
        """The step to try from t: the current dt, shortened to land on the next output."""
        target = next((o for o in self.output_times if o > t * (1 + 1e-12)), self.t_end)
        remaining = target - t
        if self.dt >= remaining:
            return remaining
        if remaining < 1.25 * self.dt:
            return 0.5 * remaining  # two even steps rather than one and a sliver
        return self.dt

    def order(self, history: int) -> int:
        """Scheme order usable with ``history`` accepted states (BDF2 needs two)."""
        return 2 if self.second_order and history >= 2 else 1

    def accept(self, error: float, dt_taken: float, order: int) -> None:
        """Record an accepted step; the next is at most ``max_growth`` times this one.

        (Also after a step shortened to land on an output time: BDF2 needs bounded step
        ratios.)
        """
        factor = self._factor(error, order)
        self.dt = min(self.dt_max, dt_taken * min(self.max_growth, factor))

    def reject(self, dt_taken: float, error: float | None, order: int, reason: str) -> None:
        """Cut the step after a failed solve (error None) or too large an error."""
        if error is None:
            shrink = FAILURE_SHRINK
        else:
            shrink = max(MIN_SHRINK, min(SAFETY, self._factor(error, order)))
        self.dt = dt_taken * shrink
        if self.dt < self.dt_min:
            unit = self.time_unit_s
            raise SolverError(
                f"time step {self.dt * unit:.3g} s fell below dt_min {self.dt_min * unit:.3g} s "
                f"(last failure: {reason}); relax the study's time or solver settings"
            )

    def _factor(self, error: float, order: int) -> float:
        if error <= 0:
            return self.max_growth
        return SAFETY * (self.tolerance / error) ** (1.0 / (order + 1))


def predictor(times: Sequence[float], states: Sequence[np.ndarray], t: float) -> np.ndarray:
    """Lagrange extrapolation to t through the (up to three) latest accepted states."""
    value = np.zeros_like(states[-1])
    for j, (tj, yj) in enumerate(zip(times, states, strict=True)):
        weight = 1.0
        for k, tk in enumerate(times):
            if k != j:
                weight *= (t - tk) / (tj - tk)
        value += weight * yj
    return value


def local_error(
    times: Sequence[float], states: Sequence[np.ndarray], t: float, solution: np.ndarray, order: int
) -> float:
    """Estimated local error (max norm) of the step to t, from the predictor difference.

    BDF1 uses the linear predictor through two states, BDF2 the quadratic through three;
    with too little history the error is unknown and reported as 0 (the first steps are
    tiny by construction).
    """
    needed = order + 1
    if len(states) < needed:
        return 0.0
    times, states = list(times)[-needed:], list(states)[-needed:]
    difference = float(np.max(np.abs(solution - predictor(times, states, t)), initial=0.0))
    if order == 1:
        dt, dt_previous = t - times[-1], times[-1] - times[-2]
        return difference * dt / (dt + dt_previous)
    return BDF2_ERROR_CONSTANT * difference
