"""Calibration-product pipelines end to end through ``pipetask`` on IsrMockLSST frames: certify, compare to truth.

Tolerances come from the noise of the inputs: N frames of read noise σ give a combined
bias with σ/√N per pixel (times the efficiency loss of 3σ clipping, < 10% for N = 6).
"""

import numpy as np
import pytest
from click.testing import CliRunner

from osprey.daf.butler import Timespan
from osprey.ip.isr import CalibrationVerificationError, certify_calibrations
from osprey.ip.isr.testing import (
    DETECTOR,
    FILTER,
    INSTRUMENT,
    RAW_RUN,
    T0,
    add_mock_exposures,
    make_mock_repo,
    pipeline_path,
)
from osprey.pipe.base.cli import cli as pipetask

CALIB = "MockCam/calib"
N = 6
DET = dict(instrument=INSTRUMENT, detector=DETECTOR)


def run_pipeline(butler, name, inputs, run, where, overrides=()):
    """``pipetask run`` (two worker processes) of one cp pipeline into ``run``."""
    args = ["run", "-b", str(butler.root), "-i", ",".join(inputs), "--output-run", run, "-j", "2"]
    args += ["-p", str(pipeline_path(name)), "-d", where]
    for override in overrides:
        args += ["-c", override]
    result = CliRunner().invoke(pipetask, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "QuantumGraph for run" in result.output and " 0 quanta" not in result.output


def amp_means(image, det):
    return np.array([image[a.bbox.slices_in(det.bbox)].mean() for a in det])


@pytest.mark.slow
def test_bias_dark_flat_defects_chain(tmp_path):
    butler = make_mock_repo(tmp_path / "repo")
    common = dict(n_stars=0)
    biases = add_mock_exposures(
        butler, 1, [dict(common, sky=0.0, exposure_time=0.0, dark_time=0.001, observation_type="bias")] * N
    )
    add_mock_exposures(
        butler, 11, [dict(common, sky=0.0, exposure_time=100.0, dark_time=100.0, observation_type="dark")] * N
    )
    add_mock_exposures(
        butler, 21, [dict(common, sky=20000.0, exposure_time=10.0, dark_time=10.0, observation_type="flat")] * N
    )
    truth = biases[1].truth
    det = biases[1].detector
    valid = Timespan(T0 - 10**9, None)

    # --- bias
    run_pipeline(butler, "cpBias", [RAW_RUN], "cp/bias", "exposure.observation_type = 'bias'")
    stats = butler.get("bias_verify_stats", DET, collections="cp/bias")
    assert stats["passed"], stats["failures"]
    assert stats["n_inputs"] == N
    bias = butler.get("bias", DET, collections="cp/bias")
    resid = bias.image.array - truth.bias
    sigma = 6.0 / np.sqrt(N)  # read noise / sqrt(N)
    assert np.std(resid) < 1.15 * sigma, (np.std(resid), sigma)
    # per-amp level: the overscan fit leaves ~0.3 e per frame and amp; 5 sigma of the mean of N
    assert np.all(np.abs(amp_means(resid, det)) < 5 * 0.3 / np.sqrt(N) + 5 * sigma / np.sqrt(64 * 128))
    # per-pixel variance from the scatter of N values (clipping at 3 sigma trims it by ~15%)
    np.testing.assert_allclose(np.mean(bias.variance.array), sigma**2, rtol=0.25)
    certify_calibrations(butler, "bias", "cp/bias", CALIB, begin=valid.begin)

    # --- dark (bias-subtracted with the certified bias)
    run_pipeline(butler, "cpDark", [RAW_RUN, CALIB], "cp/dark", "exposure.observation_type = 'dark'")
    assert butler.get("dark_verify_stats", DET, collections="cp/dark")["passed"]
    dark = butler.get("dark", DET, collections="cp/dark")
    assert dark.visit_info.dark_time == 1.0
    d = dark.image.array - truth.dark_rate
    good = ~truth.defect_mask
    # per pixel: shot + read noise averaged over N darks, plus the one bias's noise (same in every dark)
    sigma_d = np.sqrt((50.0 + 36.0) / N + (1.1 * sigma) ** 2) / 100.0
    assert np.std(d[good]) < 1.15 * sigma_d, (np.std(d[good]), sigma_d)
    assert abs(np.mean(d[good])) < 5 * sigma_d / np.sqrt(good.sum()) + 0.01  # 0.01 e/s: bias-level allowance
    # hot defects: 100 e/s more
    np.testing.assert_allclose(np.median(d[truth.defect_mask & (d > 10)]), 100.0, rtol=0.05)
    certify_calibrations(butler, "dark", "cp/dark", CALIB, begin=valid.begin)

    # --- flat (crosstalk-, linearity-, bias- and dark-corrected), one per physical filter; the
    # crosstalk and linearizer are certified as cpCrosstalk/cpLinearizer would (tested below)
    from osprey.ip.isr.testing import certify_mock_calibs

    certify_mock_calibs(butler, biases[1].calibs, which=("crosstalk", "linearizer"), collection=CALIB, timespan=valid)
    run_pipeline(butler, "cpFlat", [RAW_RUN, CALIB], "cp/flat", "exposure.observation_type = 'flat'")
    flat = butler.get("flat", DET, physical_filter=FILTER, collections="cp/flat")
    assert abs(np.median(flat.image.array) - 1.0) < 1e-6
    f = flat.image.array / truth.flat
    sigma_f = 1.0 / np.sqrt(20000.0 * N)
    assert np.std(f[good]) < 1.2 * sigma_f, (np.std(f[good]), sigma_f)
    assert butler.get("flat_verify_stats", DET, physical_filter=FILTER, collections="cp/flat")["passed"]
    certify_calibrations(butler, "flat", "cp/flat", CALIB, begin=valid.begin)

    # --- defects from the same darks and flats
    run_pipeline(butler, "cpDefects", [RAW_RUN, CALIB], "cp/defects", "exposure.observation_type IN ('dark', 'flat')")
    defects = butler.get("defects", DET, collections="cp/defects")
    found = defects.to_mask_array(det.bbox)
    assert np.array_equal(found, truth.defect_mask), (
        (found & ~truth.defect_mask).sum(),
        (truth.defect_mask & ~found).sum(),
    )
    vstats = butler.get("defects_verify_stats", DET, collections="cp/defects")
    assert vstats["passed"] and vstats["n_bad_columns"] >= 2
    certify_calibrations(butler, "defects", "cp/defects", CALIB, begin=valid.begin)

    # the certified products are what ISR of a later science exposure finds
    found_ref = butler.find_dataset("dark", DET, collections=CALIB, timespan=Timespan.at(T0 + 3600 * 10**9))
    assert found_ref.run == "cp/dark"


@pytest.mark.slow
def test_certification_refuses_failed_verification(tmp_path):
    butler = make_mock_repo(tmp_path / "repo")
    add_mock_exposures(butler, 1, [dict(n_stars=0, sky=0.0, exposure_time=0.0, observation_type="bias")] * 3)
    # an absurd threshold makes verification fail
    run_pipeline(
        butler,
        "cpBias",
        [RAW_RUN],
        "cp/bias",
        "exposure.observation_type = 'bias'",
        overrides=["cp_bias:max_noise_ratio=0.5"],
    )
    stats = butler.get("bias_verify_stats", DET, collections="cp/bias")
    assert not stats["passed"] and "residual stdev" in stats["failures"][0]
    with pytest.raises(CalibrationVerificationError, match="failed verification"):
        certify_calibrations(butler, "bias", "cp/bias", CALIB)
    refs = certify_calibrations(butler, "bias", "cp/bias", CALIB, force=True)
    assert len(refs) == 1


@pytest.mark.slow
def test_ptc_recovers_gain_noise_and_a00(tmp_path):
    butler = make_mock_repo(tmp_path / "repo")
    base = dict(
        n_stars=0,
        do_nonlinearity=False,
        do_crosstalk=False,
        do_brighter_fatter=True,
        bf_a00=-2.0e-6,
        amp_width=256,
        amp_height=256,
        observation_type="flat",
    )
    # seconds at 1000 e/s (saturation near 60 s); 2 x 65536 px per amp and pair give the
    # variance to 0.4% per point, the gain to ~0.3% over the 16 levels
    levels = [0.001, 1, 2, 4, 6, 8, 12, 16, 20, 24, 28, 32, 36, 40, 48, 64]
    configs = [dict(base, sky=1000.0 * t, exposure_time=t, dark_time=t) for t in levels for _ in range(2)]
    mocks = add_mock_exposures(butler, 1, configs)
    run_pipeline(butler, "cpPtc", [RAW_RUN], "cp/ptc", "")
    ptc = butler.get("ptc", DET, collections="cp/ptc")
    det = next(iter(mocks.values())).detector
    for amp in det:
        fit = ptc.fits[amp.name]
        assert abs(fit.gain / amp.gain - 1) < 0.01, (amp.name, fit.gain, amp.gain)
        # the fitted noise includes the overscan-level noise (1/16 of the read noise variance): < 3%
        assert abs(fit.noise / amp.read_noise - 1) < 0.03, (amp.name, fit.noise)
        assert abs(fit.a00 - (-2.0e-6)) < 4 * fit.a00_err + 0.1e-6, (amp.name, fit.a00, fit.a00_err)
        assert 3.0e4 < fit.turnoff < 6.0e4  # ADU, below the 60000 ADU saturation
    assert butler.get("ptc_verify_stats", DET, collections="cp/ptc")["passed"]


@pytest.mark.slow
def test_linearizer_from_ramp(tmp_path):
    butler = make_mock_repo(tmp_path / "repo")
    times = np.linspace(1.0, 60.0, 16)
    configs = [
        dict(n_stars=0, do_crosstalk=False, sky=1500.0 * t, exposure_time=t, dark_time=t, observation_type="flat")
        for t in times
    ]
    mocks = add_mock_exposures(butler, 1, configs)
    first = next(iter(mocks.values()))
    from osprey.ip.isr.testing import certify_mock_calibs

    certify_mock_calibs(butler, first.calibs, which=("bias", "dark"), collection=CALIB)
    run_pipeline(butler, "cpLinearizer", [RAW_RUN, CALIB], "cp/lin", "")
    lin = butler.get("linearizer", DET, collections="cp/lin")
    for name, (_kind, params) in first.truth.linearizer.models.items():
        c2_true = params[0]
        assert lin.models[name][0] == "POLYNOMIAL"
        # c2 ~ -1e-6: recovered to 2% (amp means have ~1e-4 relative noise over a 9e4 e ramp)
        assert abs(lin.models[name][1][0] / c2_true - 1) < 0.02, (name, lin.models[name], c2_true)
        x = np.linspace(0, 8e4, 50)
        np.testing.assert_allclose(lin.correct(name, first.truth.linearizer.distort(name, x)), x, atol=0.002 * 8e4)
    assert butler.get("linearizer_verify_stats", DET, collections="cp/lin")["passed"]


@pytest.mark.slow
def test_crosstalk_from_bright_stars(tmp_path):
    butler = make_mock_repo(tmp_path / "repo")
    configs = [dict(n_stars=40, star_flux_range=(1e5, 2e6))] * 8
    mocks = add_mock_exposures(butler, 1, configs)
    run_pipeline(butler, "cpCrosstalk", [RAW_RUN], "cp/xt", "", overrides=["cp_crosstalk:max_error=2e-4"])
    calib = butler.get("crosstalk", DET, collections="cp/xt")
    stats = butler.get("crosstalk_verify_stats", DET, collections="cp/xt")
    errors = np.asarray(stats["errors"])
    truth = next(iter(mocks.values())).truth.crosstalk.coeffs
    off = ~np.eye(truth.shape[0], dtype=bool)
    pulls = (calib.coeffs - truth)[off] / errors[off]
    assert np.all(np.abs(pulls) < 5), pulls
    assert abs(np.mean(pulls)) < 5 / np.sqrt(pulls.size)  # no bias
    neighbours = truth > 5e-4
    np.testing.assert_allclose(calib.coeffs[neighbours], truth[neighbours], rtol=0.15)
