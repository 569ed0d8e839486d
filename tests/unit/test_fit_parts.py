"""The parts of `femcait fit` that need no forward run: the fit file, measured files, the
depth resolution and the residuals (femcait.fit)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from femcait.errors import StudyError
from femcait.fit.bands import DRAWS, draws, species_bands
from femcait.fit.display import readable
from femcait.fit.fitting import ExperimentData, FitResult, FreeParameter, point_residuals
from femcait.fit.measurement import MeasuredProfile, convolved, observed, read_measured
from femcait.fit.spec import Measured, Parameter, fit_from_dict


def fit_dict(**changes) -> dict:
    data = {
        "name": "f",
        "experiments": [
            {
                "name": "k",
                "study": "s.yaml",
                "measured": {
                    "file": "m.csv",
                    "depth_column": "depth_nm",
                    "depth_unit": "1 nm",
                    "species": {"K": "K_frac"},
                },
            }
        ],
        "parameters": {"species.K.diffusion.D": {"min": "1e-22 m^2/s", "max": 1e-19, "log": True}},
    }
    data.update(changes)
    return data


def test_a_fit_file_reads_units_into_si():
    fit = fit_from_dict(fit_dict(resolution={"sigma": "2 nm"}), "f.yaml")
    assert fit.parameters["species.K.diffusion.D"].min == pytest.approx(1e-22)
    assert fit.resolution.sigma == pytest.approx(2e-9)
    assert fit.experiments[0].measured.depth_unit == pytest.approx(1e-9)


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"parameters": {"a.b": {"min": 2, "max": 1}}}, "parameters.a.b.min: got 2, must be < max"),
        ({"parameters": {"a.b": {"min": 0, "max": 1, "log": True}}}, "a log parameter needs"),
        ({"parameters": {"a.b": {"min": 0, "max": 1, "initial": 3}}}, "parameters.a.b.initial"),
        ({"parameters": {"a.b": {"min": "x", "max": 1}}}, "parameters.a.b.min: got 'x'"),
        ({"parameters": {}}, "parameters: got 0 entries"),
        ({"residual": "cubic"}, "residual: got 'cubic'"),
        ({"colour": 1}, "unknown key 'colour'"),
    ],
)
def test_bad_fit_files_name_the_key(changes, named):
    with pytest.raises(StudyError) as error:
        fit_from_dict(fit_dict(**changes), "f.yaml")
    assert named in str(error.value)
    assert str(error.value).startswith("f.yaml: ")


def measured_spec(**changes) -> Measured:
    data = {"file": "m.csv", "depth_column": "depth_nm", "depth_unit": 1e-9, "species": {"K": "K"}}
    data.update(changes)
    return Measured.model_validate(data)


def test_a_measured_file_is_read_in_its_window(tmp_path):
    (tmp_path / "m.csv").write_text("depth_nm,K\n1,0.9\n2,0.5\n3,0.1\n4,0.0\n")
    profile = read_measured(measured_spec(window=(1.5e-9, 3.5e-9)), tmp_path, "where")
    assert profile.depth_m == pytest.approx([2e-9, 3e-9])
    assert profile.fractions["K"] == pytest.approx([0.5, 0.1])
    assert profile.points == 2


def test_a_sputter_time_and_rate_give_the_depth(tmp_path):
    (tmp_path / "m.csv").write_text("t_min,K\n1,0.9\n2,0.5\n3,0.1\n")
    data = fit_dict()
    measured = data["experiments"][0]["measured"]
    del measured["depth_column"], measured["depth_unit"]
    measured.update(time_column="t_min", time_unit="1 min", sputter_rate="0.05 nm/s")
    measured["species"] = {"K": "K"}
    spec = fit_from_dict(data, "f.yaml").experiments[0].measured
    assert spec.sputter_rate == pytest.approx(5e-11)
    profile = read_measured(spec, tmp_path, "where")
    assert profile.depth_m == pytest.approx([3e-9, 6e-9, 9e-9])


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"time_column": "t"}, "got both depth_column and a sputter time"),
        ({"depth_column": None, "time_column": "t"}, "sputter_rate: a depth from the sputter"),
        ({"depth_column": None, "sputter_rate": "1 nm/s"}, "time_column: a depth from the"),
        ({"depth_column": None}, "no depth: give depth_column, or time_column and sputter_rate"),
        ({"depth_column": None, "time_column": "t", "sputter_rate": "1 nm"}, "sputter_rate"),
    ],
)
def test_a_depth_axis_is_exactly_one_of_depth_or_sputter_time(changes, named):
    data = fit_dict()
    data["experiments"][0]["measured"].update(changes)
    if data["experiments"][0]["measured"]["depth_column"] is None:
        del data["experiments"][0]["measured"]["depth_column"]
    with pytest.raises(StudyError) as error:
        fit_from_dict(data, "f.yaml")
    assert named in str(error.value)


def test_signals_become_fractions_by_their_level_or_the_bulk(tmp_path):
    (tmp_path / "m.csv").write_text(
        "depth_nm,K,Li\n1,2000,100\n2,1000,500\n3,10,980\n50,0,1010\n60,0,990\n"
    )
    spec = measured_spec(
        species={"K": "K", "Li": "Li"},
        signals={"K": 2000.0, "Li": "bulk"},
        bulk_window=(40e-9, 70e-9),
        window=(0.0, 10e-9),
    )
    profile = read_measured(spec, tmp_path, "where")
    assert profile.signal_levels == {"K": 2000.0, "Li": 1000.0}
    assert profile.fractions["K"] == pytest.approx([1.0, 0.5, 0.005])
    assert profile.fractions["Li"] == pytest.approx([0.1, 0.5, 0.98])


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"signals": {"Li": "bulk"}}, "signals.Li: got species 'Li', must be one of"),
        ({"signals": {"K": "bulk"}}, "K is normalised to the bulk, but no bulk_window"),
        ({"signals": {"K": 0}}, "signals.K"),
        ({"bulk_window": ["5 nm", "2 nm"]}, "bulk_window: got [5e-09, 2e-09] m"),
    ],
)
def test_bad_signal_settings_name_the_key(changes, named):
    data = fit_dict()
    data["experiments"][0]["measured"].update(changes)
    with pytest.raises(StudyError) as error:
        fit_from_dict(data, "f.yaml")
    assert named in str(error.value)


def test_an_empty_bulk_window_is_named(tmp_path):
    (tmp_path / "m.csv").write_text("depth_nm,K\n1,2000\n2,1000\n")
    spec = measured_spec(signals={"K": "bulk"}, bulk_window=(40e-9, 70e-9))
    with pytest.raises(StudyError, match=r"bulk window \[4e-08, 7e-08\] m holds no row of K"):
        read_measured(spec, tmp_path, "f.yaml: experiments.0.measured")


@pytest.mark.parametrize(
    ("content", "spec", "named"),
    [
        (None, {}, "does not exist"),
        ("depth_nm,K\n1,0.9\n1,0.5\n", {}, "depth must increase from row to row; line 3"),
        ("depth_nm,K\n1,0.9\n2,x\n", {}, "line 3"),
        ("depth,K\n1,0.9\n", {}, "no column 'depth_nm'"),
        ("depth_nm,K\n1,0.001\n2,0.0005\n", {"floor": 0.001}, "no measured point above"),
        ("depth_nm,K\n1,0.9\n2,0.5\n", {"window": (5e-9, 6e-9)}, "no measured point above"),
        ("depth_nm,K\n1,0.9\n2,-0.5\n", {}, "negative fractions"),
    ],
)
def test_bad_measured_files_are_named(tmp_path, content, spec, named):
    if content is not None:
        (tmp_path / "m.csv").write_text(content)
    with pytest.raises(StudyError) as error:
        read_measured(measured_spec(**spec), tmp_path, "f.yaml: experiments.0.measured")
    assert named in str(error.value)
    assert "f.yaml: experiments.0.measured" in str(error.value)


def test_the_resolution_keeps_a_flat_profile_and_smears_a_step_like_erf():
    depth = np.linspace(0.0, 100e-9, 2001)
    at = np.linspace(1e-9, 60e-9, 60)
    assert convolved(depth, np.full_like(depth, 0.7), 3e-9, at) == pytest.approx(0.7, rel=1e-12)
    step = np.where(depth < 30e-9, 1.0, 0.0)
    sigma = 3e-9
    seen = convolved(depth, step, sigma, at)
    far = at > 4 * sigma  # away from the surface, where the window is cut
    expected = 0.5 * np.array([math.erfc((a - 30e-9) / (sigma * math.sqrt(2))) for a in at])
    # a discontinuity sampled every sigma / 50 is off by up to 0.4 / 50 = 0.008 / 2
    assert seen[far] == pytest.approx(expected[far], abs=5e-3)
    assert convolved(depth, step, 0.0, at) == pytest.approx(np.interp(at, depth, step))


def test_the_mri_resolution_without_mixing_and_information_is_the_gaussian():
    depth = np.linspace(0.0, 100e-9, 2001)
    values = np.where(depth < 30e-9, 1.0, 0.0)
    at = np.linspace(1e-9, 60e-9, 60)
    assert observed(depth, values, 3e-9, 0.0, 0.0, at) == pytest.approx(
        convolved(depth, values, 3e-9, at), rel=1e-12
    )
    flat = observed(depth, np.full_like(depth, 0.7), 1e-9, 2e-9, 0.5e-9, at)
    assert flat == pytest.approx(0.7, rel=1e-12)


def test_atomic_mixing_takes_a_step_away_exponentially_ahead_of_it():
    """A step at z0 seen through mixing alone: the signal falls as exp(-(z - z0 + w) / w)
    from z0 - w on (the mixed zone reaches the step before the sputter front does)."""
    depth = np.linspace(0.0, 200e-9, 40001)
    z0, w = 50e-9, 4e-9
    values = np.where(depth < z0, 1.0, 0.0)
    at = np.linspace(30e-9, 80e-9, 101)
    expected = np.where(at <= z0 - w, 1.0, np.exp(-(at - z0 + w) / w))
    seen = observed(depth, values, 0.0, w, 0.0, at)
    assert seen == pytest.approx(expected, abs=0.02)  # the kernel sampled every w / 50
    assert seen[at < z0 - w - 0.2e-9] == pytest.approx(1.0, abs=1e-12)


def test_the_information_depth_shifts_a_thin_layer_by_lambda_and_mixing_does_not():
    depth = np.linspace(0.0, 200e-9, 40001)
    z0 = 80e-9
    layer = np.exp(-0.5 * ((depth - z0) / 0.5e-9) ** 2)
    at = np.linspace(40e-9, 160e-9, 4801)

    def centroid(seen):
        return float(np.sum(at * seen) / np.sum(seen))

    assert centroid(observed(depth, layer, 1e-9, 0.0, 3e-9, at)) == pytest.approx(
        z0 + 3e-9, abs=0.05e-9
    )
    assert centroid(observed(depth, layer, 1e-9, 3e-9, 0.0, at)) == pytest.approx(z0, abs=0.05e-9)


def test_points_at_the_floor_count_only_where_the_model_rises_above_it():
    data = np.array([0.5, 1e-3, 1e-3])
    model = np.array([0.4, 5e-4, 3e-3])
    linear = point_residuals(model, data, 1e-3, "linear")
    assert linear == pytest.approx([-0.1, 0.0, 2e-3])
    log = point_residuals(model, data, 1e-3, "log")
    assert log == pytest.approx([math.log(0.4 / 0.5), 0.0, math.log(3.0)])


def test_counts_are_weighted_by_their_poisson_noise():
    level = 1e4  # counts per n_bg
    data = np.array([0.5, 0.01, 1e-4])  # 5000, 100 and 1 counts
    model = np.array([0.51, 0.0, 1e-3])
    residual = point_residuals(model, data, 1e-4, "poisson", level)
    # (model - data) counts over sqrt(counts); at the floor only a model above it counts
    assert residual == pytest.approx([100 / math.sqrt(5000), -100 / 10, 9 / 1])


def test_a_poisson_residual_needs_counts_for_every_species():
    data = fit_dict(residual="poisson")
    with pytest.raises(StudyError, match="measures K as fractions"):
        fit_from_dict(data, "f.yaml")
    data["experiments"][0]["measured"]["signals"] = {"K": 1e4}
    assert fit_from_dict(data, "f.yaml").residual == "poisson"


@pytest.mark.parametrize("log", [True, False])
def test_parameters_scale_and_unscale(log):
    spec = Parameter(min=1e-22, max=1e-19, log=log)
    p = FreeParameter("species.K.diffusion.D", None, "species.K.diffusion.D", spec, 1e-21)
    for value in (1e-22, 1e-21, 3e-20):
        assert p.value(p.scaled(value)) == pytest.approx(value, rel=1e-12)
    assert p.scaled(1e-21) == 0.0


def test_a_forward_run_that_cannot_run_is_a_large_residual_and_logged(tmp_path):
    """A parameter value that makes the study unrunnable (a 10 nm thick glass, thinner than
    the front would go: the preflight refuses it, as `femcait run` would) stops no fit:
    the experiment's points get the failed-run residual and the reason is logged."""
    from mpi4py import MPI

    from femcait.fit.fitting import FAILED_RUN_RESIDUAL, ExperimentData, ForwardModel
    from femcait.fit.measurement import MeasuredProfile
    from tests.conftest import default_study_dict

    measured = MeasuredProfile(np.array([1e-9, 2e-9]), {"K": np.array([0.9, 0.5])}, 0.0)
    from femcait.study import study_from_dict

    study = default_study_dict()
    resolved = study_from_dict(study, "s.yaml").to_resolved_dict()
    experiment = ExperimentData("k", study, tmp_path, "s.yaml", measured, resolved)
    spec = Parameter(min=1e-12, max=1e-3)
    thickness = FreeParameter("glass.thickness", None, "glass.thickness", spec, 1e-4)
    fit = fit_from_dict(fit_dict(), "f.yaml")
    lines: list[str] = []
    model = ForwardModel(fit, [experiment], [thickness], tmp_path, MPI.COMM_SELF, lines.append)
    residuals = model.residuals([1e-8])
    assert residuals == pytest.approx([FAILED_RUN_RESIDUAL] * 2)
    assert model.record.failures == [lines[0].strip()]
    assert "run 0001 of k failed: s.yaml: limits.max_front_fraction" in lines[0]
    assert not (tmp_path / "runs").exists()  # nothing was run


@pytest.mark.parametrize(
    ("path", "value", "shown"),
    [
        (
            "species.Li.diffusion.sed.fwhm",
            4.0104e-20,
            "4.0104e-20 +- 1.3e-22 (0.25031 +- 0.00081 eV)",
        ),
        ("k:species.Li.diffusion.sed.centre", -8.0e-20, "(-0.49932 +- 0.00081 eV)"),
        ("resolution.sigma", 2e-9, "2e-09 +- 1.3e-22 (2 +- 1.3e-13 nm)"),
        ("species.K.diffusion.D", 2.6e-21, "2.6e-21 +- 1.3e-22"),
    ],
)
def test_fitted_energies_and_lengths_are_also_shown_in_ev_and_nm(path, value, shown):
    text = readable(path, value, 1.3e-22)
    assert shown in text
    if "D" in path:
        assert "(" not in text


def _fit_result(values, stderr, correlation) -> FitResult:
    return FitResult(
        values=np.array(values),
        stderr=np.array(stderr),
        correlation=np.array(correlation),
        chi2=1.0,
        points=10,
        dof=8,
        status="converged",
        message="",
        iterations=1,
        forward_runs=1,
        reused_runs=0,
        wall_s=0.0,
        failures=[],
    )


def test_bands_spread_the_fitted_laws_by_their_uncertainty(tmp_path):
    from tests.conftest import default_study_dict

    study = default_study_dict()
    experiment = ExperimentData(
        "k", study, tmp_path, "s.yaml", MeasuredProfile(np.zeros(1), {}, 0.0), {}
    )
    d_spec = Parameter(min=1e-22, max=1e-19, log=True)
    fwhm_spec = Parameter(min=1.6e-20, max=8e-20)
    parameters = [
        FreeParameter("species.K.diffusion.D", None, "species.K.diffusion.D", d_spec, 1e-21),
        FreeParameter(
            "species.Li.diffusion.sed.fwhm", None, "species.Li.diffusion.sed.fwhm", fwhm_spec, 4e-20
        ),
    ]
    result = _fit_result([2.6e-21, 4.0e-20], [1e-22, 4e-22], [[1.0, -0.8], [-0.8, 1.0]])
    values = draws(parameters, result)
    assert values.shape == (DRAWS, 2)
    assert np.std(values[:, 0]) == pytest.approx(1e-22, rel=0.2)
    assert np.std(values[:, 1]) == pytest.approx(4e-22, rel=0.2)
    assert np.corrcoef(values.T)[0, 1] == pytest.approx(-0.8, abs=0.1)
    bands = {b.name: b for b in species_bands(experiment, parameters, values)}
    assert set(bands) == {"K", "Li"}
    k = bands["K"].diffusion
    assert k.median == pytest.approx(2.6e-21, rel=0.02)
    assert (k.high - k.low) / 2 == pytest.approx(1e-22, rel=0.25)  # one standard deviation
    assert bands["K"].psed is None  # a constant D has no SED
    li = bands["Li"]
    assert np.all(li.diffusion.low <= li.diffusion.median)
    assert np.all(li.diffusion.median <= li.diffusion.high)
    assert li.psed is not None and li.psed.median.max() > 0
