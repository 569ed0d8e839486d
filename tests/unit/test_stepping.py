"""Adaptive time stepping (femcait.solver.stepping): predictor, error estimate, step controller."""

from __future__ import annotations

import numpy as np
import pytest

from femcait.errors import SolverError
from femcait.solver.stepping import StepController, local_error, predictor

RNG = np.random.default_rng(20240517)


def quadratic(t: float, coefficients: np.ndarray) -> np.ndarray:
    a, b, c = coefficients
    return a + b * t + c * t * t


# --- predictor and local error -----------------------------------------------------------
@pytest.mark.parametrize("times", [[0.3, 1.1, 1.7], [2.0, 2.5, 3.0], [1e-3, 4e-3, 2e-2]])
def test_predictor_exact_for_quadratics(times):
    coefficients = RNG.normal(size=(3, 7))
    states = [quadratic(t, coefficients) for t in times]
    for t in (times[-1] + 0.4 * (times[-1] - times[-2]), times[-1] * 1.9, times[0]):
        np.testing.assert_allclose(
            predictor(times, states, t), quadratic(t, coefficients), rtol=1e-10, atol=1e-12
        )


@pytest.mark.parametrize("times", [[0.3, 1.1], [5.0, 5.01], [0.3, 1.1, 1.7]])
def test_predictor_exact_for_lines(times):
    offset, slope = RNG.normal(size=(2, 5))
    states = [offset + slope * t for t in times]
    for t in (times[-1] + 0.7, 2 * times[-1], 0.0):
        np.testing.assert_allclose(
            predictor(times, states, t), offset + slope * t, rtol=1e-10, atol=1e-12
        )


def test_predictor_through_two_points_is_not_quadratic():
    """Sanity: with two points the predictor is the line, so a parabola is missed."""
    times = [0.0, 1.0]
    states = [np.array([0.0]), np.array([1.0])]  # y = t^2 at 0 and 1
    assert predictor(times, states, 2.0)[0] == pytest.approx(2.0)  # the line, not 4


@pytest.mark.parametrize("ratio", [1.0, 2.0, 0.3])
def test_local_error_vanishes_for_quadratic_history_at_order_2(ratio):
    coefficients = RNG.normal(size=(3, 11))
    times = [0.0, 0.2, 0.2 + 0.2 * ratio]
    states = [quadratic(t, coefficients) for t in times]
    t = times[-1] + 0.2 * ratio * ratio
    error = local_error(times, states, t, quadratic(t, coefficients), order=2)
    assert 0 <= error < 1e-12
    # a wrong solution gives a proportional, nonzero error
    wrong = quadratic(t, coefficients) + 1e-3
    assert local_error(times, states, t, wrong, order=2) > 1e-5


def test_local_error_vanishes_for_linear_history_at_order_1():
    offset, slope = RNG.normal(size=(2, 4))
    times = [0.0, 0.5, 0.75]
    states = [offset + slope * t for t in times]
    t = 1.5
    assert local_error(times, states, t, offset + slope * t, order=1) < 1e-12
    # order 1 sees a quadratic's curvature
    parabola = [np.array([s * s]) for s in times]
    assert local_error(times, parabola, t, np.array([t * t]), order=1) > 1e-3


def test_local_error_uses_the_latest_states():
    """An old state far off the quadratic must not matter at order 2."""
    coefficients = RNG.normal(size=(3, 3))
    times = [-5.0, 0.0, 0.3, 0.6]
    states = [quadratic(t, coefficients) for t in times]
    states[0] = states[0] + 100.0
    t = 1.0
    assert local_error(times, states, t, quadratic(t, coefficients), order=2) < 1e-12


def test_local_error_without_enough_history_is_zero():
    states = [np.array([1.0]), np.array([2.0])]
    assert local_error([0.0, 1.0], states, 2.0, np.array([10.0]), order=2) == 0.0


# --- step controller ---------------------------------------------------------------------
def controller(**overrides) -> StepController:
    settings = {
        "t_end": 10.0,
        "output_times": [0.37, 1.0, 4.2, 10.0],
        "dt_initial": 1e-3,
        "dt_min": 1e-9,
        "dt_max": 0.7,
        "tolerance": 1e-3,
        "max_growth": 2.0,
    }
    settings.update(overrides)
    return StepController(**settings)


def easy_run(control: StepController) -> tuple[list[float], list[float]]:
    """Drive the controller like Simulation.run with every step accepted at zero error."""
    t, times, steps = 0.0, [], []
    while t < control.t_end * (1 - 1e-12):
        dt = control.next_step(t)
        assert dt > 0
        control.accept(0.0, dt, control.order(len(times)))
        t += dt
        times.append(t)
        steps.append(dt)
        assert len(times) < 100_000, "the controller does not advance"
    return times, steps


@pytest.mark.parametrize(
    "overrides",
    [
        {},
        {"output_times": [0.5, 1.25, 2.0, 10.0], "dt_initial": 2.0**-10, "dt_max": 0.5},
        {"output_times": [3.0, 10.0], "dt_initial": 0.3, "dt_max": 0.3},
        {"output_times": [1e-6, 1e-3, 0.1, 10.0], "dt_initial": 1e-8},
    ],
    ids=["default", "binary-exact", "constant-step", "early-outputs"],
)
def test_controller_lands_exactly_on_output_times(overrides):
    control = controller(**overrides)
    times, _ = easy_run(control)
    for output in control.output_times:
        assert output in times, (output, min(times, key=lambda t: abs(t - output)))
    assert times[-1] == control.t_end
    assert np.all(np.diff(times) > 0)


def test_controller_lands_on_random_output_times():
    """Many random schedules: landing to round-off (t + (target - t) may miss by an ulp)."""
    rng = np.random.default_rng(7)
    for _ in range(200):
        outputs = sorted(rng.uniform(0.01, 100.0, rng.integers(1, 6)))
        t_end = outputs[-1] + rng.uniform(0.0, 10.0)
        dt_max = rng.uniform(0.5, 7.0)
        control = controller(
            t_end=t_end,
            output_times=outputs,
            dt_initial=rng.uniform(1e-4, dt_max),
            dt_max=dt_max,
        )
        times, steps = easy_run(control)
        times = np.array(times)
        for output in [*outputs, t_end]:
            assert np.min(np.abs(times - output)) <= 4 * np.spacing(output)
        assert max(steps) <= dt_max


def test_controller_never_exceeds_dt_max():
    control = controller(dt_initial=1e-4, dt_max=0.25)
    _, steps = easy_run(control)
    assert max(steps) <= 0.25
    assert max(steps) == pytest.approx(0.25)  # it does grow up to the limit


def test_controller_growth_is_bounded_by_max_growth():
    control = controller(dt_initial=1e-6, output_times=[10.0], max_growth=1.5)
    _, steps = easy_run(control)
    ratios = np.array(steps[1:]) / np.array(steps[:-1])
    assert ratios.max() <= 1.5 * (1 + 1e-12)


def test_step_after_landing_grows_by_at_most_max_growth():
    control = controller(output_times=[600.0, 1800.0, 3600.0, 10800.0], t_end=10800.0)
    control.dt_max = 540.0
    _, steps = easy_run(control)
    ratios = np.array(steps[1:]) / np.array(steps[:-1])
    assert ratios.max() <= control.max_growth * (1 + 1e-12)


def test_first_step_respects_dt_max():
    control = controller(dt_initial=2.0, dt_max=0.5, output_times=[10.0])
    assert control.next_step(0.0) <= 0.5


def test_reject_after_error_shrinks_the_step():
    control = controller()
    dt = control.next_step(0.0)
    for error in (1.01e-3, 1e-2, 1.0, 1e6):
        control.dt = dt
        control.reject(dt, error, 2, "test")
        assert 0 < control.dt < dt
        assert control.next_step(0.0) < dt


def test_reject_after_failed_solve_shrinks_the_step():
    control = controller()
    dt = control.next_step(0.0)
    control.reject(dt, None, 1, "Newton failed")
    assert 0 < control.dt < dt
    assert control.next_step(0.0) == control.dt


def test_larger_error_shrinks_more():
    small, large = controller(), controller()
    small.reject(0.1, 2e-3, 2, "test")
    large.reject(0.1, 2e-1, 2, "test")
    assert large.dt < small.dt < 0.1


def test_reject_below_dt_min_raises():
    control = controller(dt_initial=1e-3, dt_min=1e-4)
    with pytest.raises(SolverError, match="dt_min"):
        for _ in range(100):  # repeated failures must end in an error, not loop forever
            control.reject(control.next_step(0.0), None, 1, "Newton failed")
    assert control.dt < 1e-4


def test_reject_just_above_dt_min_does_not_raise():
    control = controller(dt_initial=1e-3, dt_min=1e-6)
    control.reject(1e-3, None, 1, "Newton failed")  # 2.5e-4 > 1e-6
    assert control.dt >= 1e-6


def test_order():
    assert controller().order(1) == 1
    assert controller().order(2) == 2
    assert controller(second_order=False).order(5) == 1
